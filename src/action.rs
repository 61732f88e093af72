//! Actions: the request side of the wire.
//!
//! Decoding accepts exactly what upstream `Action.from_dict` accepts (SPEC §1.2): prefixed or
//! bare action names, case-insensitive roles, stringified booleans, seeds as int/null/"None",
//! `blocked_host` or `blocked_ip`. Everything else is an [`ActionError`] naming the field and
//! what was wrong, where upstream either answers "Malformed Action" or crashes later (B3, B41).

use crate::components::{ActionType, AgentRole, Data, Ip, Network, Service};
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;
use thiserror::Error;

/// Why a request could not be decoded into an [`Action`].
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ActionError {
    #[error("request is not valid JSON: {0}")]
    NotJson(String),
    #[error("request is not valid UTF-8")]
    NotUtf8,
    #[error("request must be a JSON object with `action_type` and `parameters`")]
    NotAnObject,
    #[error("missing `{0}`")]
    Missing(&'static str),
    #[error("unknown action type `{0}` (expected one of ScanNetwork, FindServices, FindData, ExploitService, ExfiltrateData, BlockIP, JoinGame, QuitGame, ResetGame)")]
    UnknownActionType(String),
    #[error("unknown parameter `{0}`")]
    UnknownParameter(String),
    #[error("parameter `{field}`: {problem}")]
    BadParameter { field: String, problem: String },
    #[error("{action} needs parameter `{field}`")]
    MissingParameter { action: ActionType, field: &'static str },
}

fn bad(field: impl Into<String>, problem: impl Into<String>) -> ActionError {
    ActionError::BadParameter { field: field.into(), problem: problem.into() }
}

/// Who an agent says it is at JoinGame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentInfo {
    pub name: String,
    pub role: AgentRole,
}

/// Which key a block parameter arrived under; kept so trajectories echo the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKey {
    BlockedHost,
    BlockedIp,
}

/// One decoded parameter. The variant fixes both the key and the value type.
#[derive(Debug, Clone)]
pub enum Param {
    SourceHost(Ip),
    TargetHost(Ip),
    Blocked(BlockKey, Ip),
    TargetNetwork(Network),
    TargetService(Service),
    Data(Data),
    AgentInfo(AgentInfo),
    RequestTrajectory(bool),
    RandomizeTopology(bool),
    Seed(Option<i64>),
}

impl Param {
    /// The wire key of this parameter.
    pub fn key(&self) -> &'static str {
        match self {
            Param::SourceHost(_) => "source_host",
            Param::TargetHost(_) => "target_host",
            Param::Blocked(BlockKey::BlockedHost, _) => "blocked_host",
            Param::Blocked(BlockKey::BlockedIp, _) => "blocked_ip",
            Param::TargetNetwork(_) => "target_network",
            Param::TargetService(_) => "target_service",
            Param::Data(_) => "data",
            Param::AgentInfo(_) => "agent_info",
            Param::RequestTrajectory(_) => "request_trajectory",
            Param::RandomizeTopology(_) => "randomize_topology",
            Param::Seed(_) => "seed",
        }
    }

    /// Python dict equality of the `as_dict` values (Data compares all five fields there).
    fn identical(&self, other: &Param) -> bool {
        match (self, other) {
            (Param::SourceHost(a), Param::SourceHost(b)) | (Param::TargetHost(a), Param::TargetHost(b)) => a == b,
            (Param::Blocked(ka, a), Param::Blocked(kb, b)) => ka == kb && a == b,
            (Param::TargetNetwork(a), Param::TargetNetwork(b)) => a == b,
            (Param::TargetService(a), Param::TargetService(b)) => a == b,
            (Param::Data(a), Param::Data(b)) => a.identical(b),
            (Param::AgentInfo(a), Param::AgentInfo(b)) => a == b,
            (Param::RequestTrajectory(a), Param::RequestTrajectory(b))
            | (Param::RandomizeTopology(a), Param::RandomizeTopology(b)) => a == b,
            (Param::Seed(a), Param::Seed(b)) => a == b,
            _ => false,
        }
    }
}

impl Serialize for Param {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Param::SourceHost(ip) | Param::TargetHost(ip) | Param::Blocked(_, ip) => ip.serialize(s),
            Param::TargetNetwork(n) => n.serialize(s),
            Param::TargetService(sv) => sv.serialize(s),
            Param::Data(d) => d.serialize(s),
            Param::AgentInfo(i) => i.serialize(s),
            Param::RequestTrajectory(b) | Param::RandomizeTopology(b) => s.serialize_bool(*b),
            Param::Seed(v) => v.serialize(s),
        }
    }
}

/// A decoded request. Parameters keep the order the client sent them in, because upstream
/// echoes that order in trajectories (`Action.as_dict`).
#[derive(Debug, Clone)]
pub struct Action {
    pub action_type: ActionType,
    pub params: Vec<Param>,
}

impl PartialEq for Action {
    /// Upstream equality: same type and the same parameters, in any order.
    fn eq(&self, other: &Self) -> bool {
        self.action_type == other.action_type
            && self.params.len() == other.params.len()
            && self.params.iter().all(|p| other.params.iter().any(|q| p.identical(q)))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", crate::pyjson::to_py_json(self))
    }
}

/// Generates a getter for a parameter variant that carries an `Ip`-like copy value.
macro_rules! getter {
    ($name:ident, $variant:ident, $ty:ty) => {
        pub fn $name(&self) -> Option<$ty> {
            self.params.iter().find_map(|p| match p {
                Param::$variant(v) => Some(v.clone()),
                _ => None,
            })
        }
    };
}

impl Action {
    pub fn new(action_type: ActionType, params: Vec<Param>) -> Self {
        Action { action_type, params }
    }

    getter!(source_host, SourceHost, Ip);
    getter!(target_host, TargetHost, Ip);
    getter!(target_network, TargetNetwork, Network);
    getter!(target_service, TargetService, Service);
    getter!(data, Data, Data);
    getter!(agent_info, AgentInfo, AgentInfo);

    /// The block target under either accepted key (B30).
    pub fn blocked_host(&self) -> Option<Ip> {
        self.params.iter().find_map(|p| match p {
            Param::Blocked(_, ip) => Some(*ip),
            _ => None,
        })
    }

    pub fn request_trajectory(&self) -> bool {
        self.params.iter().any(|p| matches!(p, Param::RequestTrajectory(true)))
    }

    /// `randomize_topology` if sent (None when absent, as upstream's `params.get`).
    pub fn randomize_topology(&self) -> Option<bool> {
        self.params.iter().find_map(|p| match p {
            Param::RandomizeTopology(b) => Some(*b),
            _ => None,
        })
    }

    /// The requested seed; None when absent or null.
    pub fn seed(&self) -> Option<i64> {
        self.params.iter().find_map(|p| match p {
            Param::Seed(s) => *s,
            _ => None,
        })
    }

    /// Checks that a game action carries the parameters the world needs; upstream crashes
    /// with a KeyError here and never answers (B3).
    pub fn check_required(&self) -> Result<(), ActionError> {
        let needed: &[&'static str] = match self.action_type {
            ActionType::ScanNetwork => &["source_host", "target_network"],
            ActionType::FindServices | ActionType::FindData => &["source_host", "target_host"],
            ActionType::ExploitService => &["source_host", "target_host", "target_service"],
            ActionType::ExfiltrateData => &["source_host", "target_host", "data"],
            ActionType::BlockIP => &["source_host", "target_host", "blocked_host"],
            ActionType::JoinGame => &["agent_info"],
            ActionType::QuitGame | ActionType::ResetGame => &[],
        };
        for &field in needed {
            let present = self
                .params
                .iter()
                .any(|p| p.key() == field || (field == "blocked_host" && matches!(p, Param::Blocked(..))));
            if !present {
                return Err(ActionError::MissingParameter { action: self.action_type, field });
            }
        }
        Ok(())
    }

    /// Decodes one request from raw bytes.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Action, ActionError> {
        let text = std::str::from_utf8(bytes).map_err(|_| ActionError::NotUtf8)?;
        let value: Value = serde_json::from_str(text.trim()).map_err(|e| ActionError::NotJson(e.to_string()))?;
        Action::from_value(&value)
    }

    /// Decodes one request from a parsed JSON value (upstream `Action.from_dict`).
    pub fn from_value(value: &Value) -> Result<Action, ActionError> {
        let obj = value.as_object().ok_or(ActionError::NotAnObject)?;
        let type_value = obj.get("action_type").ok_or(ActionError::Missing("action_type"))?;
        let type_text = type_value.as_str().ok_or_else(|| bad("action_type", "must be a string"))?;
        let action_type =
            ActionType::parse(type_text).ok_or_else(|| ActionError::UnknownActionType(type_text.to_string()))?;
        let params_value = obj.get("parameters").ok_or(ActionError::Missing("parameters"))?;
        let params_obj = params_value.as_object().ok_or_else(|| bad("parameters", "must be a JSON object"))?;
        let mut params = Vec::with_capacity(params_obj.len());
        for (key, v) in params_obj {
            params.push(decode_param(key, v)?);
        }
        Ok(Action { action_type, params })
    }
}

fn decode_param(key: &str, v: &Value) -> Result<Param, ActionError> {
    Ok(match key {
        "source_host" => Param::SourceHost(decode_ip(key, v)?),
        "target_host" => Param::TargetHost(decode_ip(key, v)?),
        "blocked_host" => Param::Blocked(BlockKey::BlockedHost, decode_ip(key, v)?),
        "blocked_ip" => Param::Blocked(BlockKey::BlockedIp, decode_ip(key, v)?),
        "target_network" => Param::TargetNetwork(decode_network(key, v)?),
        "target_service" => Param::TargetService(decode_service(key, v)?),
        "data" => Param::Data(decode_data(key, v)?),
        "agent_info" => Param::AgentInfo(decode_agent_info(key, v)?),
        "request_trajectory" => Param::RequestTrajectory(decode_flag(key, v)?),
        "randomize_topology" => Param::RandomizeTopology(decode_flag(key, v)?),
        "seed" => Param::Seed(decode_seed(key, v)?),
        other => return Err(ActionError::UnknownParameter(other.to_string())),
    })
}

/// Checks that `obj` has only `allowed` keys (upstream builds dataclasses with `**v`).
fn only_keys(field: &str, obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), ActionError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(bad(field, format!("unexpected key `{k}` (allowed: {})", allowed.join(", ")))),
        None => Ok(()),
    }
}

fn as_object<'a>(field: &str, v: &'a Value, shape: &str) -> Result<&'a Map<String, Value>, ActionError> {
    v.as_object().ok_or_else(|| bad(field, format!("must be an object like {shape}")))
}

pub(crate) fn decode_ip(field: &str, v: &Value) -> Result<Ip, ActionError> {
    let obj = as_object(field, v, r#"{"ip": "192.168.1.2"}"#)?;
    only_keys(field, obj, &["ip"])?;
    let text = obj
        .get("ip")
        .ok_or_else(|| bad(field, "missing key `ip`"))?
        .as_str()
        .ok_or_else(|| bad(field, "`ip` must be a string"))?;
    text.parse().map_err(|_| bad(field, format!("`{text}` is not an IP address")))
}

pub(crate) fn decode_network(field: &str, v: &Value) -> Result<Network, ActionError> {
    let obj = as_object(field, v, r#"{"ip": "192.168.1.0", "mask": 24}"#)?;
    only_keys(field, obj, &["ip", "mask"])?;
    let text = obj
        .get("ip")
        .ok_or_else(|| bad(field, "missing key `ip`"))?
        .as_str()
        .ok_or_else(|| bad(field, "`ip` must be a string"))?;
    let ip = text.parse().map_err(|_| bad(field, format!("`{text}` is not an IP address")))?;
    let mask_value = obj.get("mask").ok_or_else(|| bad(field, "missing key `mask`"))?;
    let mask = match mask_value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .and_then(|m| u8::try_from(m).ok())
    .ok_or_else(|| bad(field, format!("`mask` must be a prefix length, got {mask_value}")))?;
    Network::new(ip, mask).ok_or_else(|| bad(field, format!("prefix /{mask} is too long for {ip}")))
}

fn string_field(
    field: &str,
    obj: &Map<String, Value>,
    key: &str,
    default: Option<&str>,
) -> Result<Arc<str>, ActionError> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(Arc::from(s.as_str())),
        Some(other) => Err(bad(field, format!("`{key}` must be a string, got {other}"))),
        None => default.map(Arc::from).ok_or_else(|| bad(field, format!("missing key `{key}`"))),
    }
}

pub(crate) fn decode_service(field: &str, v: &Value) -> Result<Service, ActionError> {
    let obj = as_object(field, v, r#"{"name": "ssh", "type": "passive", "version": "8.1.0", "is_local": false}"#)?;
    only_keys(field, obj, &["name", "type", "version", "is_local"])?;
    Ok(Service {
        name: string_field(field, obj, "name", None)?,
        service_type: string_field(field, obj, "type", Some("unknown"))?,
        version: string_field(field, obj, "version", Some("unknown"))?,
        is_local: match obj.get("is_local") {
            None => true,
            Some(v) => decode_flag(&format!("{field}.is_local"), v)?,
        },
    })
}

pub(crate) fn decode_data(field: &str, v: &Value) -> Result<Data, ActionError> {
    let obj = as_object(field, v, r#"{"owner": "User1", "id": "DataFromServer1"}"#)?;
    only_keys(field, obj, &["owner", "id", "size", "type", "content"])?;
    let size = match obj.get("size") {
        None => 0,
        Some(Value::Number(n)) if n.is_i64() => n.as_i64().unwrap_or(0),
        Some(other) => return Err(bad(field, format!("`size` must be an integer, got {other}"))),
    };
    Ok(Data {
        owner: string_field(field, obj, "owner", None)?,
        id: string_field(field, obj, "id", None)?,
        size,
        data_type: string_field(field, obj, "type", Some(""))?,
        content: string_field(field, obj, "content", Some(""))?,
    })
}

fn decode_agent_info(field: &str, v: &Value) -> Result<AgentInfo, ActionError> {
    let owned;
    let obj = match v {
        Value::Object(o) => o,
        // Upstream also accepts a Python-literal dict string; JSON-compatible ones parse here.
        Value::String(s) => {
            owned = serde_json::from_str::<Value>(&s.replace('\'', "\""))
                .ok()
                .and_then(|v| v.as_object().cloned())
                .ok_or_else(|| bad(field, r#"must be an object like {"name": "agent", "role": "Attacker"}"#))?;
            &owned
        }
        _ => return Err(bad(field, r#"must be an object like {"name": "agent", "role": "Attacker"}"#)),
    };
    only_keys(field, obj, &["name", "role"])?;
    let name = match obj.get("name") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => return Err(bad(field, format!("`name` must be a string, got {other}"))),
        None => return Err(bad(field, "missing key `name`")),
    };
    let role_text = obj
        .get("role")
        .ok_or_else(|| bad(field, "missing key `role`"))?
        .as_str()
        .ok_or_else(|| bad(field, "`role` must be a string"))?;
    let role = AgentRole::parse(role_text)
        .ok_or_else(|| bad(field, format!("unknown role `{role_text}` (expected Attacker, Defender or Benign)")))?;
    Ok(AgentInfo { name, role })
}

/// A boolean flag: a JSON bool, or a string Python's `ast.literal_eval` turns into a value
/// whose truthiness we take (`"True"`, `"False"`, `"None"`, numbers).
fn decode_flag(field: &str, v: &Value) -> Result<bool, ActionError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => {
            let t = s.trim();
            match t {
                "True" => Ok(true),
                "False" | "None" => Ok(false),
                _ => t
                    .parse::<f64>()
                    .map(|x| x != 0.0)
                    .map_err(|_| bad(field, format!("must be true or false, got \"{s}\""))),
            }
        }
        other => Err(bad(field, format!("must be true or false, got {other}"))),
    }
}

fn decode_seed(field: &str, v: &Value) -> Result<Option<i64>, ActionError> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(i64::from(*b))),
        Value::Number(n) => {
            n.as_i64().map(Some).ok_or_else(|| bad(field, format!("must be an integer that fits in 64 bits, got {n}")))
        }
        Value::String(s) if s == "None" => Ok(None),
        other => Err(bad(field, format!("must be an integer or null, got {other}"))),
    }
}

impl Serialize for Action {
    /// Upstream `Action.as_dict`: `{"action_type": "ActionType.X", "parameters": {...}}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Params<'a>(&'a [Param]);
        impl Serialize for Params<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(self.0.len()))?;
                for p in self.0 {
                    m.serialize_entry(p.key(), p)?;
                }
                m.end()
            }
        }
        let mut st = s.serialize_struct("Action", 2)?;
        st.serialize_field("action_type", &self.action_type)?;
        st.serialize_field("parameters", &Params(&self.params))?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyjson::to_py_json;

    fn parse(text: &str) -> Result<Action, ActionError> {
        Action::from_json_bytes(text.as_bytes())
    }

    #[test]
    fn decodes_and_echoes_in_client_order() {
        let text = r#"{"action_type": "ActionType.ScanNetwork", "parameters": {"target_network": {"ip": "192.168.1.0", "mask": 24}, "source_host": {"ip": "192.168.1.1"}}}"#;
        let a = parse(text).unwrap();
        assert_eq!(a.action_type, ActionType::ScanNetwork);
        assert_eq!(to_py_json(&a), text);
    }

    #[test]
    fn accepts_upstream_lenient_forms() {
        let a =
            parse(r#"{"action_type": "JoinGame", "parameters": {"agent_info": {"name": "x", "role": "attacker"}}}"#)
                .unwrap();
        assert_eq!(a.agent_info().unwrap().role, AgentRole::Attacker);
        let r = parse(r#"{"action_type": "ActionType.ResetGame", "parameters": {"request_trajectory": "True", "randomize_topology": false, "seed": "None"}}"#).unwrap();
        assert!(r.request_trajectory());
        assert_eq!(r.seed(), None);
        let r = parse(r#"{"action_type": "ResetGame", "parameters": {"seed": true}}"#).unwrap();
        assert_eq!(r.seed(), Some(1));
        let b = parse(r#"{"action_type": "BlockIP", "parameters": {"source_host": {"ip": "1.1.1.1"}, "target_host": {"ip": "1.1.1.1"}, "blocked_ip": {"ip": "2.2.2.2"}}}"#).unwrap();
        assert_eq!(b.blocked_host(), Some(Ip::v4(2, 2, 2, 2)));
        assert!(b.check_required().is_ok());
    }

    #[test]
    fn rejects_with_field_names() {
        let cases = [
            (
                r#"{"action_type": "ActionType.Teleport", "parameters": {}}"#,
                "unknown action type `ActionType.Teleport`",
            ),
            (r#"{"action_type": "ScanNetwork", "parameters": {"foo": 1}}"#, "unknown parameter `foo`"),
            (
                r#"{"action_type": "FindData", "parameters": {"target_host": {"ip": "192.168.1.256"}}}"#,
                "parameter `target_host`: `192.168.1.256` is not an IP address",
            ),
            (r#"{"action_type": "FindData"}"#, "missing `parameters`"),
            (r#"{"action_type": "ResetGame", "parameters": {"seed": 1.5}}"#, "parameter `seed`"),
            (
                r#"{"action_type": "JoinGame", "parameters": {"agent_info": {"name": "a", "role": "Hacker"}}}"#,
                "unknown role `Hacker`",
            ),
            (
                r#"{"action_type": "ScanNetwork", "parameters": {"target_network": {"ip": "10.0.0.0", "mask": 40}}}"#,
                "prefix /40",
            ),
            ("hello server", "not valid JSON"),
            ("[1, 2]", "must be a JSON object"),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
        assert_eq!(Action::from_json_bytes(b"\xff\xfe").unwrap_err(), ActionError::NotUtf8);
    }

    #[test]
    fn required_parameters_are_checked() {
        let a = parse(r#"{"action_type": "ScanNetwork", "parameters": {"source_host": {"ip": "1.1.1.1"}}}"#).unwrap();
        assert_eq!(
            a.check_required().unwrap_err().to_string(),
            "ActionType.ScanNetwork needs parameter `target_network`"
        );
    }

    #[test]
    fn equality_ignores_parameter_order() {
        let a = parse(r#"{"action_type": "FindData", "parameters": {"source_host": {"ip": "1.1.1.1"}, "target_host": {"ip": "2.2.2.2"}}}"#).unwrap();
        let b = parse(r#"{"action_type": "FindData", "parameters": {"target_host": {"ip": "2.2.2.2"}, "source_host": {"ip": "1.1.1.1"}}}"#).unwrap();
        assert_eq!(a, b);
    }
}

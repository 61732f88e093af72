//! Wire decoding: requests (`Action`s) and game states from their JSON forms, with a typed
//! error that names the field and what was wrong.
//!
//! Decoding accepts what upstream's `Action.from_dict` accepts: prefixed or bare action names
//! (`"ActionType.ScanNetwork"` or `"ScanNetwork"`), case-insensitive roles, booleans given as
//! the strings `"True"`/`"False"`, seeds as an integer, null or `"None"`, a network mask as a
//! number or a numeric string, and a block target under `blocked_host` or `blocked_ip`. All of
//! these are harmless spellings of a meaningful request. Everything else is an [`ActionError`]:
//! unknown keys, wrong types, IPv6 addresses (no world has them), prefixes over 32. Upstream
//! answers such requests "Malformed Action" at best and at worst crashes later.

use crate::action::{Action, AgentInfo, BlockKey, Param};
use crate::components::{ActionType, AgentRole, Data, GameState, Ip, Network, Service};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
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

impl Action {
    /// Checks that a game action carries the parameters the world needs; upstream crashes
    /// with a KeyError there and never answers.
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

fn decode_ip(field: &str, v: &Value) -> Result<Ip, ActionError> {
    let obj = as_object(field, v, r#"{"ip": "192.168.1.2"}"#)?;
    only_keys(field, obj, &["ip"])?;
    let text = obj
        .get("ip")
        .ok_or_else(|| bad(field, "missing key `ip`"))?
        .as_str()
        .ok_or_else(|| bad(field, "`ip` must be a string"))?;
    text.parse().map_err(|e: String| bad(field, e))
}

fn decode_network(field: &str, v: &Value) -> Result<Network, ActionError> {
    let obj = as_object(field, v, r#"{"ip": "192.168.1.0", "mask": 24}"#)?;
    only_keys(field, obj, &["ip", "mask"])?;
    let text = obj
        .get("ip")
        .ok_or_else(|| bad(field, "missing key `ip`"))?
        .as_str()
        .ok_or_else(|| bad(field, "`ip` must be a string"))?;
    let ip: Ip = text.parse().map_err(|e: String| bad(field, e))?;
    let mask_value = obj.get("mask").ok_or_else(|| bad(field, "missing key `mask`"))?;
    let mask = match mask_value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .and_then(|m| u8::try_from(m).ok())
    .ok_or_else(|| bad(field, format!("`mask` must be a prefix length, got {mask_value}")))?;
    Network::new(ip.0, mask).ok_or_else(|| bad(field, format!("prefix /{mask} is too long for {ip}")))
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

fn decode_service(field: &str, v: &Value) -> Result<Service, ActionError> {
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

fn decode_data(field: &str, v: &Value) -> Result<Data, ActionError> {
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

impl GameState {
    /// Decodes the wire form (what clients receive); `known_blocks` may be absent, as in
    /// upstream's older replies.
    pub fn from_wire(v: &Value) -> Result<GameState, ActionError> {
        fn list<T: Ord>(
            v: &Value,
            key: &str,
            item: fn(&str, &Value) -> Result<T, ActionError>,
        ) -> Result<BTreeSet<T>, ActionError> {
            match v.get(key) {
                Some(Value::Array(a)) => a.iter().map(|x| item(key, x)).collect(),
                _ => Err(bad(key, "must be a list")),
            }
        }
        fn keyed<T: Ord>(
            v: &Value,
            key: &str,
            item: fn(&str, &Value) -> Result<T, ActionError>,
        ) -> Result<BTreeMap<Ip, BTreeSet<T>>, ActionError> {
            let mut out = BTreeMap::new();
            let Some(obj) = v.get(key) else { return Ok(out) };
            let obj = obj.as_object().ok_or_else(|| bad(key, "must be an object keyed by IP"))?;
            for (k, items) in obj {
                let ip: Ip = k.parse().map_err(|e: String| bad(key, e))?;
                let items = items.as_array().ok_or_else(|| bad(key, format!("`{k}` must map to a list")))?;
                out.insert(ip, items.iter().map(|x| item(key, x)).collect::<Result<_, _>>()?);
            }
            Ok(out)
        }
        Ok(GameState {
            known_networks: list(v, "known_networks", decode_network)?,
            known_hosts: list(v, "known_hosts", decode_ip)?,
            controlled_hosts: list(v, "controlled_hosts", decode_ip)?,
            known_services: keyed(v, "known_services", decode_service)?,
            known_data: keyed(v, "known_data", decode_data)?,
            known_blocks: keyed(v, "known_blocks", decode_ip)?,
        })
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
    fn flags_seeds_and_sizes_take_exactly_upstreams_spellings() {
        let flag = |v: &str| {
            parse(&format!(r#"{{"action_type": "ResetGame", "parameters": {{"request_trajectory": {v}}}}}"#))
                .map(|a| a.request_trajectory())
        };
        assert_eq!(flag(r#""True""#), Ok(true));
        assert_eq!(flag(r#""False""#), Ok(false));
        assert_eq!(flag(r#""None""#), Ok(false));
        assert_eq!(flag(r#""1""#), Ok(true));
        assert_eq!(flag(r#""0""#), Ok(false));
        assert!(flag(r#""yes""#).is_err());
        let seed = |v: &str| {
            parse(&format!(r#"{{"action_type": "ResetGame", "parameters": {{"seed": {v}}}}}"#)).map(|a| a.seed())
        };
        assert_eq!(seed(r#""None""#), Ok(None));
        assert!(seed(r#""7""#).is_err(), "a seed is a number, not a string");
        let data = |size: &str| {
            parse(&format!(
                r#"{{"action_type": "ExfiltrateData", "parameters": {{"source_host": {{"ip": "1.1.1.1"}}, "target_host": {{"ip": "1.1.1.2"}}, "data": {{"owner": "o", "id": "d", "size": {size}}}}}}}"#
            ))
        };
        assert_eq!(data("5").unwrap().data().unwrap().size, 5);
        assert!(data("1.5").unwrap_err().to_string().contains("`size` must be an integer"));
        assert!(data("18446744073709551615").is_err());
    }

    #[test]
    fn objects_take_only_their_own_keys() {
        let err = parse(r#"{"action_type": "FindData", "parameters": {"source_host": {"ip": "1.1.1.1", "port": 22}, "target_host": {"ip": "1.1.1.1"}}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unexpected key `port`"), "{err}");
    }

    #[test]
    fn a_block_target_is_required_under_one_of_its_names_only() {
        let a = parse(r#"{"action_type": "BlockIP", "parameters": {"source_host": {"ip": "1.1.1.1"}, "target_host": {"ip": "1.1.1.1"}}}"#).unwrap();
        assert!(a.check_required().unwrap_err().to_string().contains("`blocked_host`"));
        // A block target does not stand in for another parameter.
        let s = parse(r#"{"action_type": "ScanNetwork", "parameters": {"source_host": {"ip": "1.1.1.1"}, "blocked_ip": {"ip": "2.2.2.2"}}}"#).unwrap();
        assert!(s.check_required().unwrap_err().to_string().contains("`target_network`"));
    }

    #[test]
    fn harmless_spellings_are_accepted_and_ipv6_is_refused() {
        let bare = parse(r#"{"action_type": "ScanNetwork", "parameters": {"source_host": {"ip": "1.1.1.1"}, "target_network": {"ip": "1.1.1.0", "mask": "24"}}}"#).unwrap();
        assert_eq!(bare.action_type, ActionType::ScanNetwork);
        assert_eq!(bare.target_network().unwrap().mask(), 24);
        let v6 = parse(
            r#"{"action_type": "FindData", "parameters": {"source_host": {"ip": "::1"}, "target_host": {"ip": "1.1.1.1"}}}"#,
        );
        let err = v6.unwrap_err().to_string();
        assert!(err.contains("source_host") && err.contains("IPv6"), "{err}");
        let net6 =
            parse(r#"{"action_type": "ScanNetwork", "parameters": {"target_network": {"ip": "fe80::", "mask": 64}}}"#);
        assert!(net6.unwrap_err().to_string().contains("IPv6"));
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

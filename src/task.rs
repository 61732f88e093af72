//! Task configuration: the upstream YAML format, loaded with the `config` crate.
//!
//! Defaults are the ones upstream really uses (rewards 0, `use_firewall` true,
//! `required_players` 1), not the ones its docs claim. Keywords survive parsing as
//! [`HostSpec::Random`] and friends and are resolved by the world at every join and reset.
//! Where upstream silently drops or mangles input we either accept it meaningfully
//! (`random`/`all_local` networks, `all` services and data, the single-list data form, YAML
//! sets in `known_blocks`, missing view keys as empty) or fail with the file, the key path and
//! the expected form.

use crate::components::{AgentRole, Data, Ip, Network, Reward, Service};
use crate::scenario::{ScenarioError, Topology};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use thiserror::Error;

/// The task used when no file is given: the upstream example on `two_networks_tiny`.
pub const DEFAULT_TASK: &str = include_str!("../tasks/default.yaml");

/// Why a task configuration could not be loaded.
#[derive(Debug, Error)]
pub enum TaskError {
    #[error("cannot read task file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("task {origin}: not valid YAML: {message}")]
    Parse { origin: String, message: String },
    #[error("task {origin}: `{key}`: {message}")]
    Invalid { origin: String, key: String, message: String },
    #[error("task {origin}: {source}")]
    Scenario { origin: String, source: ScenarioError },
}

/// A host entry of a view.
#[derive(Debug, Clone, PartialEq)]
pub enum HostSpec {
    Ip(Ip),
    /// `random`: a start candidate (start views) or any world IP (goal views).
    Random,
    /// `all_local`: every IP in a private network.
    AllLocal,
}

/// A network entry of a view.
#[derive(Debug, Clone, PartialEq)]
pub enum NetSpec {
    Net(Network),
    /// One world network, drawn at random.
    Random,
    /// Every private world network (upstream's test was inverted and picked the public ones).
    AllLocal,
}

/// A service or data entry of a view: an item, or a keyword over the host's items.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemSpec<T> {
    Item(T),
    /// Services: one of the host's services not already listed. Data: in start views one
    /// of that host's items not listed; in goal views one from any host.
    Random,
    /// Every item of the host (data without the logfile).
    All,
}

/// A service entry of a view.
pub type ServiceSpec = ItemSpec<Service>;
/// A data entry of a view.
pub type DataSpec = ItemSpec<Data>;

/// A goal `known_blocks` entry.
#[derive(Debug, Clone, PartialEq)]
pub enum BlockSpec {
    Ips(Vec<Ip>),
    /// Every host currently controlled by an attacker.
    AllAttackers,
}

/// A start or goal description before keyword resolution (upstream's "view").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct View {
    pub known_networks: Vec<NetSpec>,
    pub known_hosts: Vec<HostSpec>,
    pub controlled_hosts: Vec<HostSpec>,
    pub known_services: Vec<(Ip, Vec<ServiceSpec>)>,
    pub known_data: Vec<(Ip, Vec<DataSpec>)>,
    pub known_blocks: Vec<(Ip, BlockSpec)>,
}

/// Per-role settings from `coordinator.agents.<Role>`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleConfig {
    /// Step limit per episode; None means unlimited (0 in the file also means unlimited).
    pub max_steps: Option<u64>,
    pub goal_description: String,
    pub start: View,
    pub goal: View,
}

/// The end-of-episode and per-step rewards.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rewards {
    pub step: Reward,
    pub success: Reward,
    pub fail: Reward,
    pub false_positive: Reward,
}

/// A loaded, validated task.
#[derive(Debug, Clone)]
pub struct TaskConfig {
    /// Where it came from, for messages.
    pub origin: String,
    pub topology: Arc<Topology>,
    pub use_firewall: bool,
    pub use_dynamic_addresses: bool,
    pub use_global_defender: bool,
    pub save_trajectories: bool,
    /// Agents, of any role, needed before an episode starts (upstream counted only some roles).
    pub required_players: usize,
    pub rewards: Rewards,
    pub attacker: RoleConfig,
    pub defender: RoleConfig,
    pub benign: RoleConfig,
    /// sha256 of the canonical task and the scenario text: stable across runs (upstream's changed with Python's hash seed).
    pub configuration_hash: String,
    /// Things worth telling the user that do not stop loading (ignored legacy keys, ...).
    pub warnings: Vec<String>,
}

impl TaskConfig {
    pub fn role(&self, role: AgentRole) -> &RoleConfig {
        match role {
            AgentRole::Attacker => &self.attacker,
            AgentRole::Defender => &self.defender,
            AgentRole::Benign => &self.benign,
        }
    }

    /// Loads a task file; its scenario path, if relative, is relative to the file.
    pub fn load(path: &Path) -> Result<TaskConfig, TaskError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| TaskError::Io { path: path.display().to_string(), source })?;
        TaskConfig::from_yaml(&text, &path.display().to_string(), path.parent())
    }

    /// The embedded default task.
    pub fn default_task() -> TaskConfig {
        TaskConfig::from_yaml(DEFAULT_TASK, "embedded:default", None).expect("the embedded default task is valid")
    }

    /// Parses task YAML.
    pub fn from_yaml(text: &str, origin: &str, base_dir: Option<&Path>) -> Result<TaskConfig, TaskError> {
        let root: Value = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Yaml))
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| TaskError::Parse { origin: origin.to_string(), message: e.to_string() })?;
        let mut p = Parser { origin, warnings: Vec::new() };
        let root = if root.is_null() { Value::Object(Map::new()) } else { root };
        let root = p.object(&root, "")?;
        let env = match root.get("env") {
            Some(v) => p.object(v, "env")?,
            None => return Err(p.err("env", "missing section (it must at least name `scenario`)")),
        };
        let scenario = match env.get("scenario") {
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(p.err("env.scenario", "must be a scenario name or a path to a scenario file")),
            None => return Err(p.err("env.scenario", "missing (e.g. `scenario: two_networks_tiny`)")),
        };
        let topology = Topology::load(&scenario, base_dir)
            .map_err(|source| TaskError::Scenario { origin: origin.to_string(), source })?;
        let use_firewall = p.flag(env, "env", "use_firewall", true)?;
        let use_dynamic_addresses = p.flag(env, "env", "use_dynamic_addresses", false)?;
        let use_global_defender = p.flag(env, "env", "use_global_defender", false)?;
        let save_trajectories = p.flag(env, "env", "save_trajectories", false)?;
        let required_players = match env.get("required_players") {
            None => 1,
            Some(v) => p.count(v, "env.required_players")?.max(1) as usize,
        };
        let rewards = match env.get("rewards") {
            None => Rewards::default(),
            Some(v) => {
                let r = p.object(v, "env.rewards")?;
                Rewards {
                    step: p.reward(r, "step")?,
                    success: p.reward(r, "success")?,
                    fail: p.reward(r, "fail")?,
                    false_positive: p.reward(r, "false_positive")?,
                }
            }
        };
        for key in env.keys() {
            if ![
                "scenario",
                "use_firewall",
                "use_dynamic_addresses",
                "use_global_defender",
                "save_trajectories",
                "required_players",
                "rewards",
            ]
            .contains(&key.as_str())
            {
                p.warnings.push(format!("env.{key} is not used by the server (upstream ignores it too)"));
            }
        }
        let agents = match root.get("coordinator") {
            None => None,
            Some(c) => match p.object(c, "coordinator")?.get("agents") {
                None => None,
                Some(a) => Some(p.object(a, "coordinator.agents")?),
            },
        };
        let empty = Map::new();
        let agents = agents.unwrap_or(&empty);
        for key in agents.keys() {
            if AgentRole::ALL.iter().all(|r| r.name() != key) {
                return Err(p.err(
                    &format!("coordinator.agents.{key}"),
                    "unknown role section (expected Attacker, Defender or Benign; the spelling is case-sensitive)",
                ));
            }
        }
        let attacker = p.role(agents.get("Attacker"), "Attacker", &topology)?;
        let defender = p.role(agents.get("Defender"), "Defender", &topology)?;
        let mut benign = p.role(agents.get("Benign"), "Benign", &topology)?;
        // Upstream hard-codes the Benign agent's views; only its max_steps is read.
        benign.goal_description = String::new();
        benign.start =
            View { controlled_hosts: vec![HostSpec::Random, HostSpec::Random, HostSpec::Random], ..View::default() };
        benign.goal = View {
            known_data: vec![(Ip::v4(1, 1, 1, 1), vec![ItemSpec::Item(Data::new("User1", "DataFromInternet"))])],
            ..View::default()
        };
        let mut hasher = Sha256::new();
        hasher.update(canonical_json(&Value::Object(root.clone())).as_bytes());
        hasher.update(b"\0");
        hasher.update(topology.source_text.as_bytes());
        let configuration_hash = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(TaskConfig {
            origin: origin.to_string(),
            topology: Arc::new(topology),
            use_firewall,
            use_dynamic_addresses,
            use_global_defender,
            save_trajectories,
            required_players,
            rewards,
            attacker,
            defender,
            benign,
            configuration_hash,
            warnings: p.warnings,
        })
    }
}

/// JSON with sorted keys, so the hash does not depend on key order in the file.
fn canonical_json(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let body: Vec<String> =
                keys.iter().map(|k| format!("{}:{}", Value::String((*k).clone()), canonical_json(&m[*k]))).collect();
            format!("{{{}}}", body.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(canonical_json).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// Parsing context: the origin for messages, and collected warnings.
struct Parser<'a> {
    origin: &'a str,
    warnings: Vec<String>,
}

impl Parser<'_> {
    fn err(&self, key: &str, message: impl Into<String>) -> TaskError {
        TaskError::Invalid { origin: self.origin.to_string(), key: key.to_string(), message: message.into() }
    }

    fn object<'v>(&self, v: &'v Value, key: &str) -> Result<&'v Map<String, Value>, TaskError> {
        v.as_object().ok_or_else(|| self.err(key, format!("must be a mapping, got {}", describe(v))))
    }

    /// A truth-tested flag: YAML booleans, numbers, and the words PyYAML reads as booleans.
    fn flag(&self, m: &Map<String, Value>, section: &str, key: &str, default: bool) -> Result<bool, TaskError> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::Number(n)) => Ok(n.as_f64() != Some(0.0)),
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "y" | "1" => Ok(true),
                "false" | "no" | "off" | "n" | "0" | "" => Ok(false),
                _ => Err(self.err(&format!("{section}.{key}"), format!("must be true or false, got \"{s}\""))),
            },
            Some(v) => {
                Err(self.err(&format!("{section}.{key}"), format!("must be true or false, got {}", describe(v))))
            }
        }
    }

    fn count(&self, v: &Value, key: &str) -> Result<u64, TaskError> {
        let n = match v {
            Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        n.ok_or_else(|| self.err(key, format!("must be a whole number, got {}", describe(v))))
    }

    fn reward(&self, m: &Map<String, Value>, key: &str) -> Result<Reward, TaskError> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(Reward::Int(0)),
            Some(Value::Number(n)) => Ok(match n.as_i64() {
                Some(i) => Reward::Int(i),
                None => Reward::Float(n.as_f64().unwrap_or(0.0)),
            }),
            Some(v) => Err(self.err(&format!("env.rewards.{key}"), format!("must be a number, got {}", describe(v)))),
        }
    }

    fn role(&mut self, v: Option<&Value>, role: &str, topo: &Topology) -> Result<RoleConfig, TaskError> {
        let Some(v) = v else { return Ok(RoleConfig::default()) };
        let base = format!("coordinator.agents.{role}");
        if v.is_null() {
            return Ok(RoleConfig::default());
        }
        let m = self.object(v, &base)?;
        let max_steps = match m.get("max_steps") {
            None | Some(Value::Null) => None,
            Some(v) => Some(self.count(v, &format!("{base}.max_steps"))?).filter(|n| *n > 0),
        };
        let (start, goal, description) = if role == "Benign" {
            (View::default(), View::default(), String::new())
        } else {
            let start = match m.get("start_position") {
                Some(v) => self.view(v, &format!("{base}.start_position"), false)?,
                None => View::default(),
            };
            let (goal, description) = match m.get("goal") {
                Some(v) => {
                    let key = format!("{base}.goal");
                    let gm = self.object(v, &key)?;
                    let description = match gm.get("description") {
                        None | Some(Value::Null) => String::new(),
                        Some(Value::String(s)) => s.clone(),
                        Some(other) => {
                            return Err(self
                                .err(&format!("{key}.description"), format!("must be text, got {}", describe(other))))
                        }
                    };
                    (self.view(v, &key, true)?, description)
                }
                None => (View::default(), String::new()),
            };
            (start, goal, description)
        };
        for (ip, _) in &goal.known_data {
            if !description.contains(&ip.to_string()) && !description.is_empty() {
                self.warnings.push(format!("{base}.goal.description does not mention goal data host {ip}"));
            }
        }
        let _ = topo;
        Ok(RoleConfig { max_steps, goal_description: description, start, goal })
    }

    fn view(&self, v: &Value, key: &str, is_goal: bool) -> Result<View, TaskError> {
        let m = self.object(v, key)?;
        let mut view = View::default();
        for (k, val) in m {
            let path = format!("{key}.{k}");
            match k.as_str() {
                "known_networks" => view.known_networks = self.list(val, &path)?.iter().map(|x| self.net(x, &path)).collect::<Result<_, _>>()?,
                "known_hosts" => view.known_hosts = self.list(val, &path)?.iter().map(|x| self.host(x, &path)).collect::<Result<_, _>>()?,
                "controlled_hosts" => view.controlled_hosts = self.list(val, &path)?.iter().map(|x| self.host(x, &path)).collect::<Result<_, _>>()?,
                "known_services" => {
                    for (ip, items) in self.ip_map(val, &path)? {
                        let p = format!("{path}.{ip}");
                        let specs = self.list(items, &p)?.iter().map(|x| self.service(x, &p)).collect::<Result<_, _>>()?;
                        view.known_services.push((ip, specs));
                    }
                }
                "known_data" => {
                    for (ip, items) in self.ip_map(val, &path)? {
                        let p = format!("{path}.{ip}");
                        view.known_data.push((ip, self.data_items(items, &p)?));
                    }
                }
                "known_blocks" if is_goal => {
                    for (ip, items) in self.ip_map(val, &path)? {
                        let p = format!("{path}.{ip}");
                        let spec = match items {
                            Value::String(s) if s == "all_attackers" => BlockSpec::AllAttackers,
                            // A YAML set `{a, b}` arrives as a mapping with null values.
                            Value::Object(o) => BlockSpec::Ips(o.keys().map(|k| self.ip(k, &p)).collect::<Result<_, _>>()?),
                            other => BlockSpec::Ips(self.list(other, &p)?.iter().map(|x| match x {
                                Value::String(s) => self.ip(s, &p),
                                other => Err(self.err(&p, format!("must list IP addresses, got {}", describe(other)))),
                            }).collect::<Result<_, _>>()?),
                        };
                        view.known_blocks.push((ip, spec));
                    }
                }
                // Start blocks are ignored upstream; `blocked_ips` is a legacy key.
                "known_blocks" | "blocked_ips" | "description" | "is_any_part_of_goal_random" => {}
                other => return Err(self.err(&path, format!("unknown key `{other}` (expected known_networks, known_hosts, controlled_hosts, known_services, known_data{})", if is_goal { ", known_blocks, description" } else { "" }))),
            }
        }
        Ok(view)
    }

    fn list<'v>(&self, v: &'v Value, key: &str) -> Result<Vec<&'v Value>, TaskError> {
        match v {
            Value::Null => Ok(vec![]),
            Value::Array(a) => Ok(a.iter().collect()),
            // A lone scalar where a list is expected: treat it as a one-item list.
            Value::String(_) => Ok(vec![v]),
            Value::Object(o) if o.is_empty() => Ok(vec![]),
            other => Err(self.err(key, format!("must be a list, got {}", describe(other)))),
        }
    }

    fn ip_map<'v>(&self, v: &'v Value, key: &str) -> Result<Vec<(Ip, &'v Value)>, TaskError> {
        match v {
            Value::Null => Ok(vec![]),
            Value::Array(a) if a.is_empty() => Ok(vec![]),
            Value::Object(o) => o.iter().map(|(k, val)| Ok((self.ip(k, key)?, val))).collect(),
            other => {
                Err(self.err(key, format!("must be a mapping from IP address to a list, got {}", describe(other))))
            }
        }
    }

    fn ip(&self, text: &str, key: &str) -> Result<Ip, TaskError> {
        text.trim().parse().map_err(|_| self.err(key, format!("`{text}` is not an IP address")))
    }

    fn host(&self, v: &Value, key: &str) -> Result<HostSpec, TaskError> {
        match v {
            Value::String(s) if s == "random" => Ok(HostSpec::Random),
            Value::String(s) if s == "all_local" => Ok(HostSpec::AllLocal),
            Value::String(s) => s.trim().parse().map(HostSpec::Ip).map_err(|_| {
                self.err(key, format!("`{s}` is neither an IP address nor one of the keywords random, all_local"))
            }),
            other => Err(self.err(key, format!("hosts must be IP addresses or keywords, got {}", describe(other)))),
        }
    }

    fn net(&self, v: &Value, key: &str) -> Result<NetSpec, TaskError> {
        match v {
            Value::String(s) if s == "random" => Ok(NetSpec::Random),
            Value::String(s) if s == "all_local" => Ok(NetSpec::AllLocal),
            Value::String(s) => s.parse().map(NetSpec::Net).map_err(|e| {
                self.err(key, format!("{e}; expected a CIDR such as 192.168.1.0/24 or random, all_local"))
            }),
            other => Err(self.err(key, format!("networks must be CIDR strings, got {}", describe(other)))),
        }
    }

    fn service(&self, v: &Value, key: &str) -> Result<ServiceSpec, TaskError> {
        match v {
            Value::String(s) if s.eq_ignore_ascii_case("random") => Ok(ItemSpec::Random),
            Value::String(s) if s.eq_ignore_ascii_case("all") => Ok(ItemSpec::All),
            Value::Array(a) if a.len() == 4 => {
                let text = |x: &Value| match x {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let is_local = match &a[3] {
                    Value::Bool(b) => *b,
                    Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "true" | "yes" | "1"),
                    other => {
                        return Err(self.err(key, format!("is_local must be true or false, got {}", describe(other))))
                    }
                };
                Ok(ItemSpec::Item(Service::new(&text(&a[0]), &text(&a[1]), &text(&a[2]), is_local)))
            }
            other => Err(self.err(
                key,
                format!("a service is [name, type, version, is_local] or random/all, got {}", describe(other)),
            )),
        }
    }

    fn data_items(&self, v: &Value, key: &str) -> Result<Vec<DataSpec>, TaskError> {
        let items = self.list(v, key)?;
        let is_keyword = |x: &Value| matches!(x, Value::String(s) if s.eq_ignore_ascii_case("random") || s.eq_ignore_ascii_case("all"));
        // The single-pair form from upstream comments, `{ip: [User1, DataFromServer1]}`.
        if items.len() == 2 && items.iter().all(|x| x.is_string() && !is_keyword(x)) {
            return Ok(vec![ItemSpec::Item(Data::new(
                items[0].as_str().unwrap_or(""),
                items[1].as_str().unwrap_or(""),
            ))]);
        }
        items
            .into_iter()
            .map(|x| match x {
                Value::String(s) if s.eq_ignore_ascii_case("random") => Ok(ItemSpec::Random),
                Value::String(s) if s.eq_ignore_ascii_case("all") => Ok(ItemSpec::All),
                Value::Array(a) if a.len() == 2 && a.iter().all(|p| p.is_string()) => {
                    Ok(ItemSpec::Item(Data::new(a[0].as_str().unwrap_or(""), a[1].as_str().unwrap_or(""))))
                }
                other => {
                    Err(self.err(key, format!("a data item is [owner, id] or random/all, got {}", describe(other))))
                }
            })
            .collect()
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("\"{s}\""),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "env:\n  scenario: two_networks_tiny\n";

    fn load(text: &str) -> Result<TaskConfig, TaskError> {
        TaskConfig::from_yaml(text, "t.yaml", None)
    }

    #[test]
    fn upstream_defaults() {
        let t = load(BASE).unwrap();
        assert!(t.use_firewall && !t.use_dynamic_addresses && !t.use_global_defender && !t.save_trajectories);
        assert_eq!(t.required_players, 1);
        assert_eq!(t.rewards, Rewards::default());
        assert_eq!(t.attacker, RoleConfig::default());
        assert_eq!(t.benign.start.controlled_hosts.len(), 3);
        assert_eq!(t.configuration_hash.len(), 64);
        assert_eq!(t.configuration_hash, load(BASE).unwrap().configuration_hash);
        assert_ne!(t.configuration_hash, load(&format!("{BASE}  required_players: 2\n")).unwrap().configuration_hash);
    }

    #[test]
    fn embedded_default_task_loads() {
        let t = TaskConfig::default_task();
        assert_eq!(t.topology.name, "two_networks_tiny");
        assert_eq!(t.attacker.max_steps, Some(50));
        assert_eq!(t.rewards.success, Reward::Int(100));
    }

    #[test]
    fn keywords_and_lenient_forms() {
        let text = format!(
            "{BASE}coordinator:\n  agents:\n    Attacker:\n      max_steps: 0\n      start_position:\n        known_networks: [random, all_local, 10.0.0.0/8]\n        controlled_hosts: [random, all_local, 192.168.1.2]\n        known_services: {{192.168.1.2: [random, all, [ssh, passive, '8.1', false]]}}\n        known_data: {{192.168.1.2: [User1, DataFromServer1]}}\n      goal:\n        description: get 192.168.1.2\n        known_data: {{192.168.1.2: [random, all, [a, b]]}}\n        known_blocks: {{192.168.1.2: all_attackers, 192.168.1.1: [1.2.3.4], 192.168.2.2: {{1.1.1.1, 2.2.2.2}}}}\n"
        );
        let t = load(&text).unwrap();
        let a = &t.attacker;
        assert_eq!(a.max_steps, None);
        assert_eq!(a.start.known_networks.len(), 3);
        assert_eq!(
            a.start.controlled_hosts,
            vec![HostSpec::Random, HostSpec::AllLocal, HostSpec::Ip(Ip::v4(192, 168, 1, 2))]
        );
        assert_eq!(a.start.known_services[0].1.len(), 3);
        assert_eq!(a.start.known_data[0].1, vec![ItemSpec::Item(Data::new("User1", "DataFromServer1"))]);
        assert_eq!(a.goal.known_data[0].1.len(), 3);
        assert_eq!(a.goal.known_blocks.len(), 3);
        assert_eq!(a.goal.known_blocks[2].1, BlockSpec::Ips(vec![Ip::v4(1, 1, 1, 1), Ip::v4(2, 2, 2, 2)]));
    }

    #[test]
    fn errors_name_file_key_and_form() {
        let cases = [
            ("env:\n  use_firewall: true\n", "`env.scenario`: missing"),
            ("env:\n  scenario: nope\n", "unknown scenario `nope`"),
            (&format!("{BASE}  required_players: null\n") as &str, "`env.required_players`: must be a whole number, got nothing"),
            (&format!("{BASE}  rewards:\n    step: abc\n"), "`env.rewards.step`: must be a number"),
            (&format!("{BASE}coordinator:\n  agents:\n    Attacker:\n      max_steps: abc\n"), "`coordinator.agents.Attacker.max_steps`"),
            (&format!("{BASE}coordinator:\n  agents:\n    attacker: {{}}\n"), "case-sensitive"),
            (&format!("{BASE}coordinator:\n  agents:\n    Attacker:\n      goal:\n        known_data: {{not_an_ip: [[a, b]]}}\n"), "`not_an_ip` is not an IP address"),
            (&format!("{BASE}coordinator:\n  agents:\n    Attacker:\n      goal:\n        known_data: {{1.1.1.1: [5]}}\n"), "a data item is [owner, id]"),
            (&format!("{BASE}coordinator:\n  agents:\n    Attacker:\n      start_position:\n        known_services: {{1.1.1.1: [[ssh]]}}\n"), "a service is [name, type, version, is_local]"),
            (&format!("{BASE}coordinator:\n  agents:\n    Attacker:\n      start_position:\n        controlled_hosts: [somewhere]\n"), "`somewhere` is neither an IP address"),
            (&format!("{BASE}coordinator:\n  agents:\n    Attacker:\n      start_position:\n        known_networks: [10.0.0.0/99]\n"), "prefix /99"),
            (&format!("{BASE}coordinator:\n  agents:\n    Attacker:\n      start_position:\n        controled_hosts: []\n"), "unknown key `controled_hosts`"),
            ("env: [1\n", "not valid YAML"),
        ];
        for (text, expected) in cases {
            let err = load(text).unwrap_err().to_string();
            assert!(err.contains(expected), "expected `{expected}` in: {err}");
            assert!(err.contains("t.yaml"), "{err}");
        }
    }
}

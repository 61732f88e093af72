//! Scenarios: network topologies as data.
//!
//! A scenario is a YAML file (format in `scenarios/README.md`) listing hosts with interfaces,
//! services and data, routers, start weights and firewall allow rules. The eight upstream
//! scenarios are embedded in the binary; a task may also name a file. Loading validates
//! everything (addresses, duplicate names and IPs, dangling host names in rules) and produces a
//! [`Topology`]: the world as upstream derives it from CYST, ready for `World`.

use crate::components::{Data, Ip, Network, Service};
use crate::firewall::Firewall;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use thiserror::Error;

/// The embedded scenarios: upstream's registry names and our YAML for each.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("scenario1", include_str!("../scenarios/scenario1.yaml")),
    ("scenario1_small", include_str!("../scenarios/scenario1_small.yaml")),
    ("scenario1_tiny", include_str!("../scenarios/scenario1_tiny.yaml")),
    ("one_network", include_str!("../scenarios/one_network.yaml")),
    ("three_net_scenario", include_str!("../scenarios/three_net_scenario.yaml")),
    ("two_networks", include_str!("../scenarios/two_networks.yaml")),
    ("two_networks_small", include_str!("../scenarios/two_networks_small.yaml")),
    ("two_networks_tiny", include_str!("../scenarios/two_networks_tiny.yaml")),
];

/// Why a scenario could not be loaded.
#[derive(Debug, Error)]
pub enum ScenarioError {
    #[error("unknown scenario `{name}`: use one of {} or a path to a scenario YAML file", embedded_names().join(", "))]
    Unknown { name: String },
    #[error("cannot read scenario file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("scenario {origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("scenario {origin}: {message}")]
    Invalid { origin: String, message: String },
}

/// Names of the embedded scenarios.
pub fn embedded_names() -> Vec<&'static str> {
    EMBEDDED.iter().map(|(n, _)| *n).collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    #[serde(default)]
    description: String,
    hosts: Vec<HostEntry>,
    #[serde(default)]
    routers: Vec<RouterEntry>,
    #[serde(default)]
    firewall: FirewallSection,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostEntry {
    name: String,
    interfaces: Vec<String>,
    #[serde(default)]
    start_weight: u32,
    #[serde(default)]
    services: Vec<ServiceEntry>,
    #[serde(default)]
    data: Vec<DataEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouterEntry {
    name: String,
    interfaces: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceEntry {
    name: Scalar,
    #[serde(default)]
    version: Option<Scalar>,
    #[serde(default, rename = "type")]
    service_type: Option<Scalar>,
    #[serde(default)]
    local: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataEntry {
    owner: Scalar,
    id: Scalar,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FirewallSection {
    #[serde(default)]
    allow: Vec<AllowRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowRule {
    from: Scalar,
    to: Scalar,
}

/// A YAML scalar read as text (versions such as `1` or `8.1` arrive as numbers).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Text(s) => s.clone(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

/// Whether a host is an ordinary node or a router (routers have no services and never start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    Node,
    Router,
}

/// A host of the world.
#[derive(Debug, Clone)]
pub struct Host {
    pub name: String,
    pub kind: HostKind,
    /// Each interface's address and its (canonical) network.
    pub interfaces: Vec<(Ip, Network)>,
    /// Services in declaration order (the order WhiteBox enumerates them).
    pub services: Vec<Service>,
    /// Data items (without the implicit logfile every host has).
    pub data: Vec<Data>,
}

/// A validated world description (upstream's derived world model).
#[derive(Debug, Clone)]
pub struct Topology {
    pub name: String,
    pub description: String,
    /// Where it came from, for messages: `embedded:<name>` or a path.
    pub origin: String,
    /// The YAML text, hashed into `configuration_hash`.
    pub source_text: String,
    /// Nodes in declaration order, then routers.
    pub hosts: Vec<Host>,
    /// Every world IP in upstream `_ip_to_hostname` order, with its host index.
    pub ips: Vec<(Ip, usize)>,
    /// Networks in order of first appearance, with member IP indices in insertion order.
    pub networks: Vec<(Network, Vec<usize>)>,
    /// `hosts_to_start` as IP indices, duplicates included (they weight `random`).
    pub start_candidates: Vec<usize>,
    /// Explicit allow rules resolved to IP indices.
    pub allow_rules: Vec<(Vec<usize>, Vec<usize>)>,
}

impl Topology {
    /// Loads an embedded scenario by name, or a scenario file by path. Relative paths are
    /// taken relative to `base_dir` (the task file's folder) when given.
    pub fn load(name_or_path: &str, base_dir: Option<&Path>) -> Result<Topology, ScenarioError> {
        if let Some((_, text)) = EMBEDDED.iter().find(|(n, _)| *n == name_or_path) {
            return Topology::from_yaml(text, &format!("embedded:{name_or_path}"));
        }
        let looks_like_path =
            name_or_path.contains('/') || name_or_path.ends_with(".yaml") || name_or_path.ends_with(".yml");
        if !looks_like_path {
            return Err(ScenarioError::Unknown { name: name_or_path.to_string() });
        }
        let mut path = Path::new(name_or_path).to_path_buf();
        if path.is_relative() {
            if let Some(base) = base_dir {
                path = base.join(path);
            }
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|source| ScenarioError::Io { path: path.display().to_string(), source })?;
        Topology::from_yaml(&text, &path.display().to_string())
    }

    /// Parses and validates scenario YAML.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Topology, ScenarioError> {
        let parse_err = |message: String| ScenarioError::Parse { origin: origin.to_string(), message };
        let value: Value = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Yaml))
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| parse_err(e.to_string()))?;
        let file: ScenarioFile = serde_json::from_value(value).map_err(|e| parse_err(e.to_string()))?;
        build(file, origin, text).map_err(|message| ScenarioError::Invalid { origin: origin.to_string(), message })
    }

    /// Index of an IP in [`Topology::ips`].
    pub fn ip_index(&self, ip: Ip) -> Option<usize> {
        self.ips.iter().position(|(i, _)| *i == ip)
    }

    /// The firewall upstream builds for this topology.
    pub fn firewall(&self, use_firewall: bool) -> Firewall {
        Firewall::build(self.ips.len(), &self.networks, &self.allow_rules, use_firewall)
    }

    /// The derived world as JSON, with the field names of `reference/scenarios/*.json`.
    pub fn dump(&self, use_firewall: bool) -> Value {
        let fw = self.firewall(use_firewall);
        let ip_str = |i: usize| self.ips[i].0.to_string();
        let networks: Vec<Value> = self
            .networks
            .iter()
            .map(|(net, members)| {
                json!({
                    "cidr": net.to_string(),
                    "ip": net.ip().to_string(),
                    "mask": net.mask(),
                    "is_private": net.is_private(),
                    "ips": members.iter().map(|&i| ip_str(i)).collect::<Vec<_>>(),
                })
            })
            .collect();
        let start: HashSet<usize> = self.start_candidates.iter().copied().collect();
        let hosts: Vec<Value> = self
            .hosts
            .iter()
            .enumerate()
            .map(|(h, host)| {
                let mut data: Vec<Data> = host.data.clone();
                data.push(Data::logfile(0, "".into()));
                data.sort_by(|a, b| (&a.data_type, &a.owner, &a.id).cmp(&(&b.data_type, &b.owner, &b.id)));
                data.dedup();
                json!({
                    "name": host.name,
                    "kind": match host.kind { HostKind::Node => "node", HostKind::Router => "router" },
                    "interfaces": host.interfaces.iter().map(|(ip, net)| json!({"ip": ip.to_string(), "network": net.to_string()})).collect::<Vec<_>>(),
                    "is_start_candidate": self.ips.iter().enumerate().any(|(i, (_, hh))| *hh == h && start.contains(&i)),
                    "services": host.services,
                    "data": data,
                })
            })
            .collect();
        let mut allowed = BTreeMap::new();
        let mut order: Vec<usize> = (0..self.ips.len()).collect();
        order.sort_by_key(|&i| self.ips[i].0);
        for &s in &order {
            let mut dsts: Vec<usize> = fw.destinations(s).collect();
            dsts.sort_by_key(|&d| self.ips[d].0);
            allowed.insert(ip_str(s), dsts.into_iter().map(ip_str).collect::<Vec<_>>());
        }
        let allowed: serde_json::Map<String, Value> =
            order.iter().map(|&s| (ip_str(s), json!(allowed[&ip_str(s)]))).collect();
        json!({
            "scenario": self.name,
            "description": self.description,
            "networks": networks,
            "hosts": hosts,
            "ip_to_host": self.ips.iter().map(|(ip, h)| (ip.to_string(), json!(self.hosts[*h].name))).collect::<serde_json::Map<_, _>>(),
            "start_candidates": self.start_candidates.iter().map(|&i| ip_str(i)).collect::<Vec<_>>(),
            "firewall": {"use_firewall": use_firewall, "allowed": allowed, "allowed_pairs_count": fw.pair_count()},
        })
    }
}

fn parse_interface(host: &str, text: &str) -> Result<(Ip, Network), String> {
    let net: Network =
        text.parse().map_err(|e| format!("host `{host}`: interface `{text}` must be written ip/prefix ({e})"))?;
    Ok((Ip(net.ip()), net.canonical()))
}

fn build(file: ScenarioFile, origin: &str, text: &str) -> Result<Topology, String> {
    let mut hosts = Vec::new();
    let mut names = HashSet::new();
    let mut weights = Vec::new();
    for h in &file.hosts {
        if h.interfaces.is_empty() {
            return Err(format!("host `{}` has no interfaces", h.name));
        }
        let interfaces = h.interfaces.iter().map(|t| parse_interface(&h.name, t)).collect::<Result<Vec<_>, _>>()?;
        let services = h
            .services
            .iter()
            .map(|s| Service {
                name: s.name.text().into(),
                service_type: s.service_type.as_ref().map(Scalar::text).unwrap_or_else(|| "passive".into()).into(),
                version: s.version.as_ref().map(Scalar::text).unwrap_or_default().into(),
                is_local: s.local,
            })
            .collect();
        let data = h.data.iter().map(|d| Data::new(&d.owner.text(), &d.id.text())).collect();
        hosts.push(Host { name: h.name.clone(), kind: HostKind::Node, interfaces, services, data });
        weights.push(h.start_weight);
    }
    for r in &file.routers {
        let interfaces = r.interfaces.iter().map(|t| parse_interface(&r.name, t)).collect::<Result<Vec<_>, _>>()?;
        if interfaces.is_empty() {
            return Err(format!("router `{}` has no interfaces", r.name));
        }
        hosts.push(Host { name: r.name.clone(), kind: HostKind::Router, interfaces, services: vec![], data: vec![] });
        weights.push(0);
    }
    for h in &hosts {
        if !names.insert(h.name.clone()) {
            return Err(format!("host name `{}` is used twice", h.name));
        }
    }
    let mut ips: Vec<(Ip, usize)> = Vec::new();
    let mut seen: HashMap<Ip, &str> = HashMap::new();
    let mut networks: Vec<(Network, Vec<usize>)> = Vec::new();
    let mut network_index: HashMap<Network, usize> = HashMap::new();
    for (hi, h) in hosts.iter().enumerate() {
        for (ip, net) in &h.interfaces {
            if let Some(other) = seen.insert(*ip, &h.name) {
                return Err(format!("IP {ip} is assigned to both `{other}` and `{}`", h.name));
            }
            let idx = ips.len();
            ips.push((*ip, hi));
            match network_index.get(net) {
                Some(&k) => networks[k].1.push(idx),
                None => {
                    network_index.insert(*net, networks.len());
                    networks.push((*net, vec![idx]));
                }
            }
        }
    }
    // IP indices of each host, so start weights and rules cost the host's IPs, not the world's.
    let mut ips_of: Vec<Vec<usize>> = vec![Vec::new(); hosts.len()];
    for (i, (_, h)) in ips.iter().enumerate() {
        ips_of[*h].push(i);
    }
    let by_name: HashMap<&str, usize> = hosts.iter().enumerate().map(|(i, h)| (h.name.as_str(), i)).collect();
    let mut start_candidates = Vec::new();
    for (hi, w) in weights.iter().enumerate() {
        for _ in 0..*w {
            start_candidates.extend_from_slice(&ips_of[hi]);
        }
    }
    let resolve = |s: &Scalar| -> Result<Vec<usize>, String> {
        let t = s.text();
        if let Some(&hi) = by_name.get(t.as_str()) {
            return Ok(ips_of[hi].clone());
        }
        let net: Network = if t.contains('/') {
            t.parse().map_err(|e| format!("firewall rule endpoint `{t}`: {e}"))?
        } else if let Ok(ip) = t.parse::<Ip>() {
            Network::new(ip.0, 32).expect("a /32 prefix is valid")
        } else {
            return Err(format!("firewall rule endpoint `{t}` is neither a host name, an IP nor a CIDR"));
        };
        Ok(ips.iter().enumerate().filter(|(_, (ip, _))| net.contains(*ip)).map(|(i, _)| i).collect())
    };
    let mut allow_rules = Vec::new();
    for rule in &file.firewall.allow {
        allow_rules.push((resolve(&rule.from)?, resolve(&rule.to)?));
    }
    Ok(Topology {
        name: file.name,
        description: file.description,
        origin: origin.to_string(),
        source_text: text.to_string(),
        hosts,
        ips,
        networks,
        start_candidates,
        allow_rules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_scenario_loads() {
        for name in embedded_names() {
            let t = Topology::load(name, None).unwrap();
            assert_eq!(t.name, name);
            assert!(!t.start_candidates.is_empty(), "{name}");
        }
    }

    #[test]
    fn validation_errors_are_precise() {
        let cases = [
            ("name: x\nhosts:\n  - name: a\n    interfaces: [10.0.0.300/24]\n", "interface `10.0.0.300/24`"),
            ("name: x\nhosts:\n  - name: a\n    interfaces: [10.0.0.1/24]\n  - name: a\n    interfaces: [10.0.0.2/24]\n", "`a` is used twice"),
            ("name: x\nhosts:\n  - name: a\n    interfaces: [10.0.0.1/24]\n  - name: b\n    interfaces: [10.0.0.1/24]\n", "IP 10.0.0.1 is assigned to both"),
            ("name: x\nhosts:\n  - name: a\n    interfaces: [10.0.0.1/24]\nfirewall:\n  allow:\n    - {from: a, to: ghost}\n", "`ghost` is neither"),
            ("name: x\nhosts:\n  - name: a\n    interfcs: [10.0.0.1/24]\n", "unknown field `interfcs`"),
            ("name: x\nhosts:\n  - name: a\n    interfaces: []\n", "has no interfaces"),
        ];
        for (text, expected) in cases {
            let err = Topology::from_yaml(text, "test.yaml").unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
            assert!(err.contains("test.yaml"), "{err}");
        }
        assert!(Topology::load("nope", None).unwrap_err().to_string().contains("two_networks_tiny"));
    }
}

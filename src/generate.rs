//! A topology generator: scenarios of any size from a few parameters, deterministic for a
//! seed, written in the scenario YAML format (`scenarios/README.md`), plus a matching task.
//!
//! The shape: `networks` private networks (10.x.y.0/prefix), one router with an interface in
//! each, hosts spread over the networks; in each network a share of servers (several
//! services, data items) and clients (a remote-access service and local ones, start
//! candidates for `random` starts); firewall rules joining neighbouring networks in a chain plus
//! random extra links; and one public C&C host. Every generated file passes validation (a
//! property test checks many seeds and sizes).

use crate::scenario::Topology;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use std::fmt::Write;
use thiserror::Error;

/// Generator knobs.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Hosts (servers and clients; the router and the C&C host come on top).
    pub hosts: usize,
    /// Private networks (default: one per 40 hosts, at least 1).
    pub networks: Option<usize>,
    /// Prefix length of each network (default: the longest that fits its hosts, at most 24).
    pub prefix: Option<u8>,
    pub seed: u64,
    /// Share of hosts that are servers.
    pub servers: f64,
    /// Services per server, inclusive range.
    pub services: (usize, usize),
    /// Share of servers holding data, and data items per such server (1 to this).
    pub data: f64,
    pub data_per_server: usize,
    /// Share of network pairs joined by an extra firewall rule, besides the chain.
    pub links: f64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            hosts: 20,
            networks: None,
            prefix: None,
            seed: 0,
            servers: 0.2,
            services: (2, 5),
            data: 0.5,
            data_per_server: 3,
            links: 0.05,
        }
    }
}

/// Why the parameters describe no network.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum GenerateError {
    #[error("--hosts must be at least 1")]
    NoHosts,
    #[error("--networks {networks} is more than --hosts {hosts}: every network needs a host")]
    MoreNetworksThanHosts { networks: usize, hosts: usize },
    #[error("--networks must be at least 1")]
    NoNetworks,
    #[error("at most 65,536 networks fit in 10.0.0.0/8 as /24s; {0} asked")]
    TooManyNetworks(usize),
    #[error("a /{prefix} network holds {capacity} hosts besides its router, but {needed} must go in one")]
    NetworkTooSmall { prefix: u8, capacity: usize, needed: usize },
    #[error("--prefix must be 8 to 30, got {0}")]
    BadPrefix(u8),
    #[error("{name} must be between 0 and 1, got {value}")]
    BadShare { name: &'static str, value: f64 },
    #[error("--services must be a range MIN-MAX with 1 <= MIN <= MAX, got {0}-{1}")]
    BadServices(usize, usize),
    #[error("a /{prefix} network per {networks} networks does not fit in 10.0.0.0/8")]
    NoRoom { prefix: u8, networks: usize },
}

/// A generated scenario (and task).
#[derive(Debug, Clone)]
pub struct Generated {
    pub scenario_yaml: String,
    pub name: String,
    /// The C&C host's address (the exfiltration target).
    pub cc: String,
    /// The data item the task's attacker must exfiltrate: (host address, owner, id).
    pub target: (String, String, String),
    /// The first server of the first network (the defender's goal host).
    pub guarded: String,
}

/// Services servers run: (name, versions to pick from).
const SERVER_SERVICES: &[(&str, &[&str])] = &[
    ("ssh", &["OpenSSH 7.4", "OpenSSH 8.2p1", "OpenSSH 9.3p1"]),
    ("http", &["Apache httpd 2.4.41", "nginx 1.18.0", "nginx 1.24.0"]),
    ("https", &["Apache httpd 2.4.57", "nginx 1.22.1"]),
    ("microsoft-ds", &["10.0.17763", "10.0.19041"]),
    ("ms-wbt-server", &["10.0.17763", "10.0.19041"]),
    ("mysql", &["5.7.42", "8.0.33"]),
    ("postgresql", &["12.15", "15.3"]),
    ("ftp", &["vsftpd 3.0.3", "ProFTPD 1.3.6"]),
    ("smtp", &["Postfix 3.4.13", "Exim 4.96"]),
    ("domain", &["ISC BIND 9.16.1", "ISC BIND 9.18.12"]),
    ("ldap", &["OpenLDAP 2.4.57"]),
];
/// Remote access of clients, and local services every host has.
const CLIENT_SERVICES: &[(&str, &[&str])] = &[("ms-wbt-server", &["10.0.19041"]), ("ssh", &["OpenSSH 8.9p1"])];
const LOCAL_SERVICES: &[(&str, &str)] = &[("powershell", "10.0.19041"), ("bash", "5.1.16")];

fn check_share(name: &'static str, value: f64) -> Result<(), GenerateError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(GenerateError::BadShare { name, value })
    }
}

/// Generates a scenario.
pub fn generate(o: &GenerateOptions) -> Result<Generated, GenerateError> {
    if o.hosts == 0 {
        return Err(GenerateError::NoHosts);
    }
    let networks = o.networks.unwrap_or_else(|| o.hosts.div_ceil(40).max(1));
    if networks == 0 {
        return Err(GenerateError::NoNetworks);
    }
    if networks > o.hosts {
        return Err(GenerateError::MoreNetworksThanHosts { networks, hosts: o.hosts });
    }
    if networks > 65_536 {
        return Err(GenerateError::TooManyNetworks(networks));
    }
    check_share("--servers", o.servers)?;
    check_share("--data", o.data)?;
    check_share("--links", o.links)?;
    if o.services.0 == 0 || o.services.0 > o.services.1 {
        return Err(GenerateError::BadServices(o.services.0, o.services.1));
    }
    let per_network = o.hosts.div_ceil(networks);
    // Addresses per network: hosts, the router, network and broadcast addresses.
    let needed_bits = (per_network + 3).next_power_of_two().trailing_zeros() as u8;
    let prefix = match o.prefix {
        Some(p) if !(8..=30).contains(&p) => return Err(GenerateError::BadPrefix(p)),
        Some(p) => p,
        None => (32 - needed_bits).min(24),
    };
    let capacity = (1usize << (32 - prefix)) - 3;
    if per_network > capacity {
        return Err(GenerateError::NetworkTooSmall { prefix, capacity, needed: per_network });
    }
    let span = 1u64 << (32 - prefix);
    if span * networks as u64 > 1 << 24 {
        return Err(GenerateError::NoRoom { prefix, networks });
    }
    let mut rng = crate::rng::seeded_rng(o.seed as i64, 11);
    let base = |k: usize| 0x0A00_0000u32 + (k as u64 * span) as u32;
    let addr = |a: u32| std::net::Ipv4Addr::from(a).to_string();
    let name = format!("generated_{}h_{}n_s{}", o.hosts, networks, o.seed);
    let cc = "203.0.113.10".to_string();
    let mut y = String::new();
    let _ = writeln!(y, "name: {name}");
    let _ = writeln!(
        y,
        "description: \"Generated by netsecgame scenario generate: {} hosts in {networks} private /{prefix} networks, seed {}.\"",
        o.hosts, o.seed
    );
    let _ = writeln!(y, "hosts:");
    let mut data_items: Vec<(String, String, String)> = Vec::new();
    let mut guarded = None;
    let mut host_no = 0;
    for k in 0..networks {
        let in_net = o.hosts / networks + usize::from(k < o.hosts % networks);
        // The first network always has a server (the task's data) and, with room, a client
        // (a start for the attacker).
        let wanted = (in_net as f64 * o.servers).round() as usize;
        let servers = if k == 0 { wanted.clamp(1, in_net.saturating_sub(1).max(1)) } else { wanted.min(in_net) };
        for j in 0..in_net {
            host_no += 1;
            let ip = addr(base(k) + 2 + j as u32);
            let server = j < servers;
            let _ = writeln!(y, "  - name: {}{host_no}", if server { "server" } else { "client" });
            let _ = writeln!(y, "    interfaces: [{ip}/{prefix}]");
            if !server {
                let _ = writeln!(y, "    start_weight: 1");
            }
            let _ = writeln!(y, "    services:");
            let remote: Vec<&(&str, &[&str])> = if server {
                let n = rng.random_range(o.services.0..=o.services.1).min(SERVER_SERVICES.len());
                SERVER_SERVICES.choose_multiple(&mut rng, n).collect()
            } else {
                CLIENT_SERVICES.choose_multiple(&mut rng, 1).collect()
            };
            for (svc, versions) in remote {
                let version = versions.choose(&mut rng).expect("versions listed");
                let _ = writeln!(y, "      - {{name: {svc}, version: \"{version}\", local: false}}");
            }
            let (local, version) = LOCAL_SERVICES[usize::from(rng.random_bool(0.5))];
            let _ = writeln!(y, "      - {{name: {local}, version: \"{version}\", local: true}}");
            if server {
                guarded.get_or_insert_with(|| ip.clone());
                if rng.random_bool(o.data) || (k == 0 && j == 0) {
                    let _ = writeln!(y, "    data:");
                    for d in 0..rng.random_range(1..=o.data_per_server.max(1)) {
                        let (owner, id) = (format!("User{}", rng.random_range(1..=20)), format!("Data{host_no}_{d}"));
                        let _ = writeln!(y, "      - {{owner: {owner}, id: {id}}}");
                        data_items.push((ip.clone(), owner, id));
                    }
                }
            }
        }
    }
    let _ = writeln!(y, "  - name: cc_server");
    let _ = writeln!(y, "    interfaces: [{cc}/24]");
    let _ = writeln!(y, "    services:");
    let _ = writeln!(y, "      - {{name: listener, version: \"1.0.0\", local: false}}");
    let _ = writeln!(y, "      - {{name: bash, version: \"5.0.0\", local: true}}");
    let _ = writeln!(y, "routers:");
    let _ = writeln!(y, "  - name: core_router");
    let interfaces: Vec<String> = (0..networks).map(|k| format!("{}/{prefix}", addr(base(k) + 1))).collect();
    let _ = writeln!(y, "    interfaces: [{}]", interfaces.join(", "));
    let net = |k: usize| format!("{}/{prefix}", addr(base(k)));
    let mut links: Vec<(usize, usize)> = (1..networks).map(|k| (k - 1, k)).collect();
    if networks > 2 && o.links > 0.0 {
        let extra = ((networks * (networks - 1) / 2) as f64 * o.links).round() as usize;
        let mut pairs: Vec<(usize, usize)> =
            (0..networks).flat_map(|a| (a + 2..networks).map(move |b| (a, b))).collect();
        pairs.shuffle(&mut rng);
        links.extend(pairs.into_iter().take(extra));
    }
    if !links.is_empty() {
        let _ = writeln!(y, "firewall:");
        let _ = writeln!(y, "  allow:");
        for (a, b) in links {
            let _ = writeln!(y, "    - {{from: {}, to: {}}}", net(a), net(b));
            let _ = writeln!(y, "    - {{from: {}, to: {}}}", net(b), net(a));
        }
    }
    let target = data_items.choose(&mut rng).cloned().expect("the first server of the first network holds data");
    Ok(Generated { scenario_yaml: y, name, cc, target, guarded: guarded.expect("at least one server") })
}

impl Generated {
    /// A task for this scenario, which lives at `scenario_path` (as the task file refers to
    /// it): an attacker starting on a random client and the C&C host must exfiltrate one data
    /// item to the C&C host; a defender on every private host must block the attackers at the
    /// server holding it.
    pub fn task_yaml(&self, scenario_path: &str, max_steps: u64) -> String {
        let (host, owner, id) = &self.target;
        format!(
            r#"# Generated with the scenario {name}.
env:
  scenario: {scenario_path}
  use_global_defender: true
  use_dynamic_addresses: false
  use_firewall: true
  save_trajectories: false
  required_players: 1
  rewards: {{success: 100, step: -1, fail: -10, false_positive: -5}}
coordinator:
  agents:
    Attacker:
      max_steps: {max_steps}
      goal:
        description: "Exfiltrate {id} (owned by {owner}) from {host} to the C&C server ({cc})."
        known_data: {{{cc}: [[{owner}, {id}]]}}
      start_position:
        controlled_hosts: [{cc}, random]
    Defender:
      max_steps: {max_steps}
      goal:
        description: "Block every host the attackers control from {host}."
        known_blocks: {{{host}: all_attackers}}
      start_position:
        controlled_hosts: [all_local]
"#,
            name = self.name,
            cc = self.cc,
        )
    }

    /// Parses the generated scenario (what `validate` does with it).
    pub fn topology(&self) -> Result<Topology, crate::scenario::ScenarioError> {
        Topology::from_yaml(&self.scenario_yaml, &format!("generated:{}", self.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(hosts: usize, networks: Option<usize>, seed: u64) -> GenerateOptions {
        GenerateOptions { hosts, networks, seed, ..GenerateOptions::default() }
    }

    #[test]
    fn the_same_seed_gives_the_same_scenario() {
        assert_eq!(
            generate(&opts(50, None, 3)).unwrap().scenario_yaml,
            generate(&opts(50, None, 3)).unwrap().scenario_yaml
        );
        assert_ne!(
            generate(&opts(50, None, 3)).unwrap().scenario_yaml,
            generate(&opts(50, None, 4)).unwrap().scenario_yaml
        );
    }

    #[test]
    fn impossible_parameters_are_refused_with_a_reason() {
        assert_eq!(generate(&opts(0, None, 1)).unwrap_err(), GenerateError::NoHosts);
        assert!(matches!(generate(&opts(3, Some(5), 1)), Err(GenerateError::MoreNetworksThanHosts { .. })));
        let small = GenerateOptions { prefix: Some(28), ..opts(100, Some(2), 1) };
        assert!(generate(&small).unwrap_err().to_string().contains("/28 network holds 13 hosts"));
        assert!(matches!(
            generate(&GenerateOptions { servers: 1.5, ..opts(10, None, 1) }),
            Err(GenerateError::BadShare { .. })
        ));
        assert!(matches!(
            generate(&GenerateOptions { services: (3, 2), ..opts(10, None, 1) }),
            Err(GenerateError::BadServices(3, 2))
        ));
    }

    #[test]
    fn generated_scenarios_load_with_the_sizes_asked() {
        let g = generate(&opts(100, Some(4), 9)).unwrap();
        let t = g.topology().unwrap();
        assert_eq!(t.hosts.len(), 100 + 2, "hosts, the C&C and the router");
        assert_eq!(t.networks.len(), 4 + 1);
        assert!(!t.start_candidates.is_empty());
        let dir = std::env::temp_dir().join(format!("nsg-gen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("net.yaml"), &g.scenario_yaml).unwrap();
        std::fs::write(dir.join("task.yaml"), g.task_yaml("net.yaml", 100)).unwrap();
        let task = crate::task::TaskConfig::load(&dir.join("task.yaml")).unwrap();
        assert_eq!(task.topology.hosts.len(), 102);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! The network as the pages draw it: networks, and hosts (nodes and routers) with the
//! networks they sit in, their services and data. The page lays it out itself (networks as
//! boxes of hosts, routers between the networks they join), so this is plain data.
//!
//! A world that moves its addresses between episodes (`use_dynamic_addresses`) is drawn with
//! its current addresses: the hosts stay, their labels change. A replayed trajectory whose
//! addresses fit no scenario is drawn from what its states name ([`from_states`]).

use netsecgame::components::{GameState, Ip, Network};
use netsecgame::scenario::{HostKind, Topology};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

use super::views::{data_json, service_json};

/// The graph of `topo`, with `current` addresses and networks (in the scenario's IP and
/// network order) when the world moved them.
pub fn of_topology(topo: &Topology, current: Option<&(Vec<Ip>, Vec<Network>)>) -> Value {
    let ip_now = |i: usize| current.and_then(|(ips, _)| ips.get(i)).copied().unwrap_or(topo.ips[i].0);
    let net_now = |k: usize| current.and_then(|(_, nets)| nets.get(k)).copied().unwrap_or(topo.networks[k].0);
    let mut host_ips: Vec<Vec<usize>> = vec![Vec::new(); topo.hosts.len()];
    for (i, (_, h)) in topo.ips.iter().enumerate() {
        host_ips[*h].push(i);
    }
    let mut host_nets: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); topo.hosts.len()];
    let networks: Vec<Value> = topo
        .networks
        .iter()
        .enumerate()
        .map(|(k, (_, members))| {
            let hosts: BTreeSet<usize> = members.iter().map(|&i| topo.ips[i].1).collect();
            for &h in &hosts {
                host_nets[h].insert(k);
            }
            let net = net_now(k);
            json!({"id": k, "cidr": net.to_string(), "private": net.is_private(), "hosts": hosts})
        })
        .collect();
    let starts: BTreeSet<usize> = topo.start_candidates.iter().map(|&i| topo.ips[i].1).collect();
    let mut ip_to_host = Map::new();
    let hosts: Vec<Value> = topo
        .hosts
        .iter()
        .enumerate()
        .map(|(h, host)| {
            let ips: Vec<String> = host_ips[h].iter().map(|&i| ip_now(i).to_string()).collect();
            for ip in &ips {
                ip_to_host.insert(ip.clone(), json!(h));
            }
            json!({
                "id": h,
                "name": host.name,
                "kind": match host.kind { HostKind::Node => "node", HostKind::Router => "router" },
                "ips": ips,
                "networks": host_nets[h],
                "services": host.services.iter().map(service_json).collect::<Vec<_>>(),
                "data": host.data.iter().map(data_json).collect::<Vec<_>>(),
                "start": starts.contains(&h),
            })
        })
        .collect();
    json!({
        "scenario": topo.name,
        "description": topo.description,
        "derived": false,
        "networks": networks,
        "hosts": hosts,
        "ips": ip_to_host,
    })
}

/// A graph drawn from what agents' states name, for trajectories of an unknown world: the
/// networks they know, and every host they mention placed in the first of those networks
/// that holds it (or in a catch-all box).
pub fn from_states<'a>(states: impl IntoIterator<Item = &'a GameState>) -> Value {
    let mut nets: BTreeSet<Network> = BTreeSet::new();
    let mut hosts: BTreeMap<Ip, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for s in states {
        nets.extend(s.known_networks.iter().copied());
        for ip in s.known_hosts.iter().chain(&s.controlled_hosts) {
            hosts.entry(*ip).or_default();
        }
        for (ip, services) in &s.known_services {
            let e = hosts.entry(*ip).or_default();
            e.0.extend(services.iter().map(|x| service_json(x).to_string()));
        }
        for (ip, data) in &s.known_data {
            let e = hosts.entry(*ip).or_default();
            e.1.extend(data.iter().map(|x| data_json(x).to_string()));
        }
        for ip in s.known_blocks.keys() {
            hosts.entry(*ip).or_default();
        }
    }
    let nets: Vec<Network> = nets.into_iter().collect();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); nets.len() + 1];
    let mut ip_to_host = Map::new();
    let host_values: Vec<Value> = hosts
        .iter()
        .enumerate()
        .map(|(h, (ip, (services, data)))| {
            let k = nets.iter().position(|n| n.0.contains(&ip.0)).unwrap_or(nets.len());
            members[k].push(h);
            ip_to_host.insert(ip.to_string(), json!(h));
            let parse = |set: &BTreeSet<String>| -> Vec<Value> {
                set.iter().filter_map(|t| serde_json::from_str(t).ok()).collect()
            };
            json!({
                "id": h, "name": ip.to_string(), "kind": "node", "ips": [ip.to_string()], "networks": [k],
                "services": parse(services), "data": parse(data), "start": false,
            })
        })
        .collect();
    let mut networks: Vec<Value> = nets
        .iter()
        .enumerate()
        .map(|(k, n)| json!({"id": k, "cidr": n.to_string(), "private": n.is_private(), "hosts": members[k]}))
        .collect();
    if !members[nets.len()].is_empty() {
        networks.push(json!({"id": nets.len(), "cidr": "other", "private": false, "hosts": members[nets.len()]}));
    }
    json!({
        "scenario": null,
        "description": "drawn from the trajectory's states (no embedded scenario has all of its addresses)",
        "derived": true,
        "networks": networks,
        "hosts": host_values,
        "ips": ip_to_host,
    })
}

/// The embedded scenario that has every address in `ips`: one of `preferred` if any fits
/// (the worlds of the games running here: a file recorded here is most likely of one of
/// them), else the smallest. Several embedded worlds are the same world under two names.
pub fn guess_scenario(ips: &BTreeSet<Ip>, preferred: &[String]) -> Option<Topology> {
    if ips.is_empty() {
        return None;
    }
    netsecgame::scenario::EMBEDDED
        .iter()
        .filter_map(|(name, _)| Topology::load(name, None).ok())
        .filter(|t| ips.iter().all(|ip| t.ips.iter().any(|(x, _)| x == ip)))
        .min_by_key(|t| (!preferred.contains(&t.name), t.ips.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tiny_world_has_its_router_in_every_network() {
        let topo = Topology::load("two_networks_tiny", None).unwrap();
        let g = of_topology(&topo, None);
        let hosts = g["hosts"].as_array().unwrap();
        assert_eq!(hosts.len(), topo.hosts.len());
        let router = hosts.iter().find(|h| h["kind"] == "router").expect("a router");
        assert!(router["networks"].as_array().unwrap().len() >= 2, "{router}");
        let server = &g["ips"]["192.168.1.2"];
        assert!(hosts[server.as_u64().unwrap() as usize]["services"].as_array().is_some_and(|s| !s.is_empty()));
    }

    #[test]
    fn moved_addresses_relabel_the_same_hosts() {
        let topo = Topology::load("two_networks_tiny", None).unwrap();
        let mut ips: Vec<Ip> = topo.ips.iter().map(|(ip, _)| *ip).collect();
        ips[0] = Ip::v4(10, 1, 1, 1);
        let nets: Vec<Network> = topo.networks.iter().map(|(n, _)| *n).collect();
        let g = of_topology(&topo, Some(&(ips, nets)));
        assert_eq!(g["ips"]["10.1.1.1"], json!(topo.ips[0].1));
    }

    #[test]
    fn guessing_picks_the_smallest_world_that_fits() {
        let ips: BTreeSet<Ip> = [Ip::v4(192, 168, 2, 2), Ip::v4(213, 47, 23, 195)].into();
        let t = guess_scenario(&ips, &[]).expect("a scenario fits");
        assert!(t.ips.iter().any(|(ip, _)| *ip == Ip::v4(213, 47, 23, 195)));
        // Two embedded names hold this world: the one a game here plays wins.
        for name in ["scenario1_tiny", "two_networks_tiny"] {
            assert_eq!(guess_scenario(&ips, &[name.to_string()]).unwrap().name, name);
        }
        assert!(guess_scenario(&[Ip::v4(1, 2, 3, 4)].into(), &[]).is_none());
    }
}

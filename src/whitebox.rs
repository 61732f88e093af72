//! WhiteBox mode: every action of the world, sent once at registration as a
//! JSON-encoded string (`all_actions`), in upstream's enumeration order.

use crate::action::{Action, BlockKey, Param};
use crate::components::{ActionType, Data, Ip, Network, Service};
use crate::pyjson::to_py_json;
use crate::scenario::Topology;
use std::collections::BTreeSet;

/// The items WhiteBox enumerates, in upstream's order: world IPs sorted by their text,
/// networks sorted, every `(host, service)` pair of the hosts that have services (hosts in
/// IP order, services in declaration order), and every data item of the world plus the
/// logfile, sorted by identity. [`all_actions`] is built from it, and the in-process
/// environments (`crate::env`) index actions and encode observations with the same indices.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub ips: Vec<Ip>,
    pub networks: Vec<Network>,
    pub services: Vec<(Ip, Service)>,
    pub data: Vec<Data>,
}

impl Catalogue {
    pub fn new(topo: &Topology) -> Catalogue {
        let mut ips: Vec<Ip> = topo.ips.iter().map(|(ip, _)| *ip).collect();
        ips.sort_by_key(|ip| ip.to_string());
        let mut networks: Vec<Network> = topo.networks.iter().map(|(n, _)| *n).collect();
        networks.sort();
        let mut data: BTreeSet<Data> = topo.hosts.iter().flat_map(|h| h.data.iter().cloned()).collect();
        data.insert(Data::logfile(0, "".into()));
        let services = ips
            .iter()
            .flat_map(|ip| {
                let host = topo.ips.iter().find(|(i, _)| i == ip).map(|(_, h)| *h);
                let services = host.map(|h| topo.hosts[h].services.as_slice()).unwrap_or_default();
                services.iter().map(move |sv| (*ip, sv.clone()))
            })
            .collect();
        Catalogue { ips, networks, services, data: data.into_iter().collect() }
    }
}

/// Every action, in upstream order: scans, service scans, exploits, data searches,
/// exfiltrations, blocks (with the `blocked_ip` key upstream emits, which its own decoder refused; we accept it).
pub fn all_actions(topo: &Topology) -> Vec<Action> {
    all_actions_of(&Catalogue::new(topo))
}

/// [`all_actions`] of a catalogue.
pub fn all_actions_of(c: &Catalogue) -> Vec<Action> {
    let (ips, nets, data) = (&c.ips, &c.networks, &c.data);
    let mut out = Vec::new();
    let src = Param::SourceHost;
    for &s in ips {
        for &n in nets {
            out.push(Action::new(ActionType::ScanNetwork, vec![src(s), Param::TargetNetwork(n)]));
        }
    }
    for &s in ips {
        for &t in ips {
            out.push(Action::new(ActionType::FindServices, vec![src(s), Param::TargetHost(t)]));
        }
    }
    for &s in ips {
        for (t, sv) in &c.services {
            out.push(Action::new(
                ActionType::ExploitService,
                vec![src(s), Param::TargetHost(*t), Param::TargetService(sv.clone())],
            ));
        }
    }
    for &s in ips {
        for &t in ips {
            out.push(Action::new(ActionType::FindData, vec![src(s), Param::TargetHost(t)]));
        }
    }
    for &s in ips {
        for &t in ips {
            for d in data {
                out.push(Action::new(
                    ActionType::ExfiltrateData,
                    vec![src(s), Param::TargetHost(t), Param::Data(d.clone())],
                ));
            }
        }
    }
    for &s in ips {
        for &t in ips {
            for &b in ips {
                out.push(Action::new(
                    ActionType::BlockIP,
                    vec![src(s), Param::TargetHost(t), Param::Blocked(BlockKey::BlockedIp, b)],
                ));
            }
        }
    }
    out
}

/// The double-encoded `all_actions` value.
pub fn all_actions_json(topo: &Topology) -> String {
    to_py_json(&all_actions(topo))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_networks_tiny_has_upstreams_330_actions() {
        let t = Topology::load("two_networks_tiny", None).unwrap();
        let all = all_actions(&t);
        let count = |ty| all.iter().filter(|a| a.action_type == ty).count();
        assert_eq!(
            [
                count(ActionType::ScanNetwork),
                count(ActionType::FindServices),
                count(ActionType::ExploitService),
                count(ActionType::FindData),
                count(ActionType::ExfiltrateData),
                count(ActionType::BlockIP)
            ],
            [15, 25, 40, 25, 100, 125]
        );
    }
}

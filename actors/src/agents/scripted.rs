//! A scripted attacker: the kill chain in priority order. Each step it takes the most
//! advanced action it has not tried yet: exfiltrate known data to a public controlled host
//! (the C&C), search data on controlled hosts, exploit known services, scan services of known
//! hosts, scan known networks. It wins `two_networks_tiny` every time without a defender.

use super::{find_data, find_services, scan, Policy};
use crate::client::Observation;
use netsecgame::action::{Action, Param};
use netsecgame::components::{ActionType, Ip};
use netsecgame::firewall::is_private;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;

#[derive(Default)]
pub struct ScriptedAttacker {
    /// Actions already sent this episode (by their JSON text).
    tried: HashSet<String>,
}

impl ScriptedAttacker {
    fn fresh(&mut self, a: Action) -> Option<Action> {
        self.tried.insert(a.to_string()).then_some(a)
    }
}

impl Policy for ScriptedAttacker {
    fn reset(&mut self, _: &Observation) {
        self.tried.clear();
    }

    fn act(&mut self, obs: &Observation, rng: &mut ChaCha8Rng) -> Action {
        let s = &obs.state;
        let controlled: Vec<Ip> = s.controlled_hosts.iter().copied().collect();
        let outside: Vec<Ip> = controlled.iter().copied().filter(|ip| !is_private(ip.0)).collect();
        // 1. Exfiltrate every non-log data item to the C&C.
        for (&src, data) in &s.known_data {
            if !s.controlled_hosts.contains(&src) {
                continue;
            }
            for d in data.iter().filter(|d| &*d.data_type != "log") {
                for &cc in outside.iter().filter(|cc| **cc != src) {
                    let a = Action::new(
                        ActionType::ExfiltrateData,
                        vec![Param::SourceHost(src), Param::TargetHost(cc), Param::Data(d.clone())],
                    );
                    if let Some(a) = self.fresh(a) {
                        return a;
                    }
                }
            }
        }
        // 2. Search data on every controlled host, from itself.
        for &h in &controlled {
            if let Some(a) = self.fresh(find_data(h, h)) {
                return a;
            }
        }
        // 3. Exploit known services of hosts not yet controlled, from any controlled host.
        for (&host, services) in &s.known_services {
            if s.controlled_hosts.contains(&host) {
                continue;
            }
            for service in services {
                for &src in &controlled {
                    let a = Action::new(
                        ActionType::ExploitService,
                        vec![Param::SourceHost(src), Param::TargetHost(host), Param::TargetService(service.clone())],
                    );
                    if let Some(a) = self.fresh(a) {
                        return a;
                    }
                }
            }
        }
        // 4. Service scans of known hosts not controlled.
        for &host in s.known_hosts.iter().filter(|h| !s.controlled_hosts.contains(h)) {
            for &src in &controlled {
                if let Some(a) = self.fresh(find_services(src, host)) {
                    return a;
                }
            }
        }
        // 5. Network scans, private sources first (the C&C reaches nothing).
        let mut sources = controlled.clone();
        sources.sort_by_key(|ip| !is_private(ip.0));
        for &net in &s.known_networks {
            for &src in &sources {
                if let Some(a) = self.fresh(scan(src, net)) {
                    return a;
                }
            }
        }
        // Out of ideas: look around again.
        self.tried.clear();
        let h = controlled[rng.random_range(0..controlled.len().max(1)) % controlled.len().max(1)];
        find_data(h, h)
    }
}

//! A scripted attacker: the kill chain in priority order. Each step it takes the most
//! advanced action it has not tried yet: exfiltrate known data to a public controlled host
//! (the C&C), search data on controlled hosts, exploit known services, scan services of known
//! hosts, scan known networks. It wins `two_networks_tiny` every time without a defender.

use super::{idle_action, Agent, EpisodeInfo, Observation};
use crate::action::Action;
use crate::components::{AgentRole, Ip};
use crate::rng::{seeded_rng, GameRng, AGENT_STREAM};
use rand::seq::IteratorRandom;
use std::collections::HashSet;

pub struct ScriptedAttacker {
    /// Actions already sent this episode.
    tried: HashSet<Action>,
    rng: GameRng,
}

impl ScriptedAttacker {
    pub fn new(seed: u64) -> Self {
        ScriptedAttacker { tried: HashSet::new(), rng: seeded_rng(seed as i64, AGENT_STREAM) }
    }

    fn fresh(&mut self, a: Action) -> Option<Action> {
        (!self.tried.contains(&a)).then(|| {
            self.tried.insert(a.clone());
            a
        })
    }
}

impl Agent for ScriptedAttacker {
    fn role(&self) -> AgentRole {
        AgentRole::Attacker
    }

    fn episode_start(&mut self, _: &Observation, _: &EpisodeInfo) {
        self.tried.clear();
    }

    fn act(&mut self, obs: &Observation) -> Action {
        let s = &obs.state;
        let controlled: Vec<Ip> = s.controlled_hosts.iter().copied().collect();
        let outside: Vec<Ip> = controlled.iter().copied().filter(|ip| !ip.is_private()).collect();
        // 1. Exfiltrate every non-log data item to the C&C.
        for (&src, data) in &s.known_data {
            if !s.controlled_hosts.contains(&src) {
                continue;
            }
            for d in data.iter().filter(|d| &*d.data_type != "log") {
                for &cc in outside.iter().filter(|cc| **cc != src) {
                    let a = Action::exfiltrate_data(src, cc, d.clone());
                    if let Some(a) = self.fresh(a) {
                        return a;
                    }
                }
            }
        }
        // 2. Search data on every controlled host, from itself.
        for &h in &controlled {
            if let Some(a) = self.fresh(Action::find_data(h, h)) {
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
                    let a = Action::exploit_service(src, host, service.clone());
                    if let Some(a) = self.fresh(a) {
                        return a;
                    }
                }
            }
        }
        // 4. Service scans of known hosts not controlled.
        for &host in s.known_hosts.iter().filter(|h| !s.controlled_hosts.contains(h)) {
            for &src in &controlled {
                if let Some(a) = self.fresh(Action::find_services(src, host)) {
                    return a;
                }
            }
        }
        // 5. Network scans, private sources first (the C&C reaches nothing).
        let mut sources = controlled.clone();
        sources.sort_by_key(|ip| !ip.is_private());
        for &net in &s.known_networks {
            for &src in &sources {
                if let Some(a) = self.fresh(Action::scan_network(src, net)) {
                    return a;
                }
            }
        }
        // Out of ideas: look around again.
        self.tried.clear();
        match controlled.iter().choose(&mut self.rng) {
            Some(&h) => Action::find_data(h, h),
            None => idle_action(),
        }
    }
}

//! A benign user: looks around its own hosts (service and data searches, scans of its
//! networks), never exploits or exfiltrates. Its traffic is what a defender must not block.

use super::{idle_action, Agent, Observation};
use crate::action::Action;
use crate::components::AgentRole;
use crate::rng::{seeded_rng, GameRng, AGENT_STREAM};
use rand::seq::IteratorRandom;
use rand::Rng;

pub struct BenignUser {
    rng: GameRng,
}

impl BenignUser {
    pub fn new(seed: u64) -> Self {
        BenignUser { rng: seeded_rng(seed as i64, AGENT_STREAM) }
    }
}

impl Agent for BenignUser {
    fn role(&self) -> AgentRole {
        AgentRole::Benign
    }

    fn act(&mut self, obs: &Observation) -> Action {
        let s = &obs.state;
        let Some(&src) = s.controlled_hosts.iter().choose(&mut self.rng) else { return idle_action() };
        match self.rng.random_range(0..3) {
            0 if !s.known_networks.is_empty() => {
                let net = *s.known_networks.iter().choose(&mut self.rng).expect("not empty");
                Action::scan_network(src, net)
            }
            1 if !s.known_hosts.is_empty() => {
                let host = *s.known_hosts.iter().choose(&mut self.rng).expect("not empty");
                Action::find_services(src, host)
            }
            _ => Action::find_data(src, src),
        }
    }
}

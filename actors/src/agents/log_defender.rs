//! A log-watching defender: it reads the logfile of each host it controls in turn and blocks
//! every source it sees attacking, on all of its hosts.
//!
//! Its own actions are only FindData and BlockIP on a host from that host, so any log entry
//! with another source, or with another action type, is someone else at work. It cannot tell
//! attackers from benign users, which is what false positives measure.

use super::{block, find_data, Policy};
use crate::client::Observation;
use netsecgame::action::Action;
use netsecgame::components::Ip;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use std::collections::HashSet;

#[derive(Default)]
pub struct LogDefender {
    /// Round-robin position over controlled hosts.
    next: usize,
    /// `(host, source)` pairs already blocked this episode.
    blocked: HashSet<(Ip, Ip)>,
}

#[derive(Deserialize)]
struct LogEntry {
    source_host: String,
    action_type: String,
}

impl Policy for LogDefender {
    fn reset(&mut self, _: &Observation) {
        self.next = 0;
        self.blocked.clear();
    }

    fn act(&mut self, obs: &Observation, _: &mut ChaCha8Rng) -> Action {
        let s = &obs.state;
        for (&host, data) in &s.known_data {
            let Some(log) = data.iter().find(|d| &*d.id == "logfile") else { continue };
            let entries: Vec<LogEntry> = serde_json::from_str(&log.content).unwrap_or_default();
            for e in entries {
                let Ok(src) = e.source_host.parse::<Ip>() else { continue };
                let own = src == host && matches!(e.action_type.as_str(), "ActionType.FindData" | "ActionType.BlockIP");
                if own {
                    continue;
                }
                // Cut the attacking source off everywhere, starting where it was seen.
                let targets = std::iter::once(host).chain(s.controlled_hosts.iter().copied());
                for target in targets.filter(|t| *t != src) {
                    if self.blocked.insert((target, src)) {
                        return block(target, target, src);
                    }
                }
            }
        }
        let hosts: Vec<Ip> = s.controlled_hosts.iter().copied().collect();
        if hosts.is_empty() {
            return find_data(Ip::v4(127, 0, 0, 1), Ip::v4(127, 0, 0, 1));
        }
        let h = hosts[self.next % hosts.len()];
        self.next += 1;
        find_data(h, h)
    }
}

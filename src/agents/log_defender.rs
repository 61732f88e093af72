//! A log-watching defender: it reads the logfile of each host it controls in turn and blocks
//! every source it sees attacking, on all of its hosts.
//!
//! Its own actions are only FindData and BlockIP on a host from that host, so any log entry
//! with another source, or with another action type, is someone else at work. It cannot tell
//! attackers from benign users, which is what false positives measure.

use super::{idle_action, Agent, EpisodeInfo, Observation};
use crate::action::Action;
use crate::components::{AgentRole, Ip};
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

impl Agent for LogDefender {
    fn role(&self) -> AgentRole {
        AgentRole::Defender
    }

    fn episode_start(&mut self, _: &Observation, _: &EpisodeInfo) {
        self.next = 0;
        self.blocked.clear();
    }

    fn act(&mut self, obs: &Observation) -> Action {
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
                        return Action::block_ip(target, target, src);
                    }
                }
            }
        }
        if s.controlled_hosts.is_empty() {
            return idle_action();
        }
        let h = *s.controlled_hosts.iter().nth(self.next % s.controlled_hosts.len()).expect("in range");
        self.next += 1;
        Action::find_data(h, h)
    }
}

//! Built-in agents. Each is a [`Policy`] (observation in, action out) driven by an
//! [`runner::AgentActor`], an actix actor that plays over the real TCP protocol with the Rust
//! [`crate::client::Client`], exactly as an external agent would.

pub mod benign;
pub mod log_defender;
pub mod random;
pub mod runner;
pub mod scripted;

use crate::client::Observation;
use netsecgame::action::{Action, BlockKey, Param};
use netsecgame::components::{ActionType, AgentRole, GameState, Ip};
use rand_chacha::ChaCha8Rng;

/// Chooses actions.
pub trait Policy: Send {
    /// Called with the first observation of every episode.
    fn reset(&mut self, _obs: &Observation) {}
    /// The next action.
    fn act(&mut self, obs: &Observation, rng: &mut ChaCha8Rng) -> Action;
}

/// The built-in agents, by the names tournament files use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgentKind {
    RandomAttacker,
    ScriptedAttacker,
    RandomDefender,
    LogDefender,
    Benign,
}

impl AgentKind {
    pub const ALL: [AgentKind; 5] = [
        AgentKind::RandomAttacker,
        AgentKind::ScriptedAttacker,
        AgentKind::RandomDefender,
        AgentKind::LogDefender,
        AgentKind::Benign,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AgentKind::RandomAttacker => "random_attacker",
            AgentKind::ScriptedAttacker => "scripted_attacker",
            AgentKind::RandomDefender => "random_defender",
            AgentKind::LogDefender => "log_defender",
            AgentKind::Benign => "benign",
        }
    }

    pub fn parse(text: &str) -> Option<AgentKind> {
        AgentKind::ALL.into_iter().find(|k| k.name() == text)
    }

    pub fn role(self) -> AgentRole {
        match self {
            AgentKind::RandomAttacker | AgentKind::ScriptedAttacker => AgentRole::Attacker,
            AgentKind::RandomDefender | AgentKind::LogDefender => AgentRole::Defender,
            AgentKind::Benign => AgentRole::Benign,
        }
    }

    pub fn policy(self) -> Box<dyn Policy> {
        match self {
            AgentKind::RandomAttacker => Box::new(random::RandomAgent { with_blocks: false }),
            AgentKind::ScriptedAttacker => Box::new(scripted::ScriptedAttacker::default()),
            AgentKind::RandomDefender => Box::new(random::RandomAgent { with_blocks: true }),
            AgentKind::LogDefender => Box::new(log_defender::LogDefender::default()),
            AgentKind::Benign => Box::new(benign::BenignUser),
        }
    }
}

pub fn scan(src: Ip, net: netsecgame::components::Network) -> Action {
    Action::new(ActionType::ScanNetwork, vec![Param::SourceHost(src), Param::TargetNetwork(net)])
}

pub fn find_services(src: Ip, target: Ip) -> Action {
    Action::new(ActionType::FindServices, vec![Param::SourceHost(src), Param::TargetHost(target)])
}

pub fn find_data(src: Ip, target: Ip) -> Action {
    Action::new(ActionType::FindData, vec![Param::SourceHost(src), Param::TargetHost(target)])
}

pub fn block(src: Ip, target: Ip, blocked: Ip) -> Action {
    Action::new(
        ActionType::BlockIP,
        vec![Param::SourceHost(src), Param::TargetHost(target), Param::Blocked(BlockKey::BlockedHost, blocked)],
    )
}

/// Every action that makes sense from `state` (upstream's `generate_valid_actions`):
/// scans of known networks, service scans of known hosts, exploits of known services, data
/// searches on controlled hosts, exfiltration of known data between controlled hosts, and
/// optionally blocks between controlled hosts and known hosts.
pub fn valid_actions(state: &GameState, with_blocks: bool) -> Vec<Action> {
    let mut out = Vec::new();
    for &src in &state.controlled_hosts {
        for &net in &state.known_networks {
            out.push(scan(src, net));
        }
        for &host in &state.known_hosts {
            out.push(find_services(src, host));
        }
        for (&host, services) in &state.known_services {
            for s in services {
                out.push(Action::new(
                    ActionType::ExploitService,
                    vec![Param::SourceHost(src), Param::TargetHost(host), Param::TargetService(s.clone())],
                ));
            }
        }
        for &host in &state.controlled_hosts {
            out.push(find_data(src, host));
        }
        if let Some(data) = state.known_data.get(&src) {
            for d in data {
                for &target in &state.controlled_hosts {
                    if target != src {
                        out.push(Action::new(
                            ActionType::ExfiltrateData,
                            vec![Param::SourceHost(src), Param::TargetHost(target), Param::Data(d.clone())],
                        ));
                    }
                }
            }
        }
        if with_blocks {
            for &target in &state.controlled_hosts {
                for &blocked in &state.known_hosts {
                    if blocked != target {
                        out.push(block(src, target, blocked));
                    }
                }
            }
        }
    }
    out
}

//! Agents as plain code: the [`Agent`] trait (observation in, action out, with episode
//! hooks), the valid-action generator, and the built-in agents.
//!
//! An agent never knows how it is connected: the runtime drives the same agent in-process
//! (typed messages to a game's coordinator) or over TCP against any server, Python's included.

mod benign;
mod log_defender;
mod random;
mod scripted;

pub use benign::BenignUser;
pub use log_defender::LogDefender;
pub use random::RandomAgent;
pub use scripted::ScriptedAttacker;

use crate::action::Action;
use crate::components::{AgentRole, AgentStatus, GameState, Ip};
use crate::protocol::Reply;
use std::sync::Arc;

/// What an agent sees after each request: its state, the reward of its last action (the end
/// reward included on the last step), and whether its episode ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub state: Arc<GameState>,
    pub reward: f64,
    pub end: bool,
    /// Why the episode ended, once it has.
    pub end_reason: Option<AgentStatus>,
}

impl Observation {
    /// The observation a reply carries (registration, reset and step replies do).
    pub fn of_reply(reply: &Reply) -> Option<Observation> {
        match reply {
            Reply::Created { state, .. } | Reply::ResetDone { state, .. } => {
                Some(Observation { state: state.clone(), reward: 0.0, end: false, end_reason: None })
            }
            Reply::Step { state, reward, end, info, .. } => Some(Observation {
                state: state.clone(),
                reward: reward.as_f64(),
                end: *end,
                end_reason: info.end_reason,
            }),
            _ => None,
        }
    }
}

/// What an agent is told at the start of each episode.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeInfo {
    /// The role's step limit, if any.
    pub max_steps: Option<u64>,
    pub goal_description: String,
}

impl EpisodeInfo {
    /// The episode information of a registration or reset reply.
    pub fn of_reply(reply: &Reply) -> Option<EpisodeInfo> {
        match reply {
            Reply::Created { welcome, .. } => {
                Some(EpisodeInfo { max_steps: welcome.max_steps, goal_description: welcome.goal_description.clone() })
            }
            Reply::ResetDone { info, .. } => {
                Some(EpisodeInfo { max_steps: info.max_steps, goal_description: info.goal_description.clone() })
            }
            _ => None,
        }
    }
}

/// An agent: chooses the next action from what it observes. Written once, it plays in-process
/// or over TCP (see the runtime crate's `agents` module).
pub trait Agent: Send {
    /// The role it plays.
    fn role(&self) -> AgentRole;
    /// Called with the first observation of every episode.
    fn episode_start(&mut self, _obs: &Observation, _info: &EpisodeInfo) {}
    /// The next action.
    fn act(&mut self, obs: &Observation) -> Action;
    /// Called with the last observation of every episode.
    fn episode_end(&mut self, _obs: &Observation) {}
}

impl Agent for Box<dyn Agent> {
    fn role(&self) -> AgentRole {
        (**self).role()
    }
    fn episode_start(&mut self, obs: &Observation, info: &EpisodeInfo) {
        (**self).episode_start(obs, info);
    }
    fn act(&mut self, obs: &Observation) -> Action {
        (**self).act(obs)
    }
    fn episode_end(&mut self, obs: &Observation) {
        (**self).episode_end(obs);
    }
}

/// The built-in agents, by the names tournament files use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BuiltinAgent {
    RandomAttacker,
    ScriptedAttacker,
    RandomDefender,
    LogDefender,
    Benign,
}

impl BuiltinAgent {
    pub const ALL: [BuiltinAgent; 5] = [
        BuiltinAgent::RandomAttacker,
        BuiltinAgent::ScriptedAttacker,
        BuiltinAgent::RandomDefender,
        BuiltinAgent::LogDefender,
        BuiltinAgent::Benign,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BuiltinAgent::RandomAttacker => "random_attacker",
            BuiltinAgent::ScriptedAttacker => "scripted_attacker",
            BuiltinAgent::RandomDefender => "random_defender",
            BuiltinAgent::LogDefender => "log_defender",
            BuiltinAgent::Benign => "benign",
        }
    }

    pub fn parse(text: &str) -> Option<BuiltinAgent> {
        BuiltinAgent::ALL.into_iter().find(|k| k.name() == text)
    }

    /// The names, comma-separated, for error messages.
    pub fn names() -> String {
        BuiltinAgent::ALL.map(BuiltinAgent::name).join(", ")
    }

    pub fn role(self) -> AgentRole {
        match self {
            BuiltinAgent::RandomAttacker | BuiltinAgent::ScriptedAttacker => AgentRole::Attacker,
            BuiltinAgent::RandomDefender | BuiltinAgent::LogDefender => AgentRole::Defender,
            BuiltinAgent::Benign => AgentRole::Benign,
        }
    }

    /// A fresh agent of this kind whose choices are seeded with `seed`.
    pub fn create(self, seed: u64) -> Box<dyn Agent> {
        match self {
            BuiltinAgent::RandomAttacker => Box::new(RandomAgent::attacker(seed)),
            BuiltinAgent::ScriptedAttacker => Box::new(ScriptedAttacker::new(seed)),
            BuiltinAgent::RandomDefender => Box::new(RandomAgent::defender(seed)),
            BuiltinAgent::LogDefender => Box::new(LogDefender::default()),
            BuiltinAgent::Benign => Box::new(BenignUser::new(seed)),
        }
    }
}

/// A harmless action for an agent that controls nothing: it keeps the episode moving.
pub fn idle_action() -> Action {
    Action::find_data(Ip::v4(127, 0, 0, 1), Ip::v4(127, 0, 0, 1))
}

/// Every action that makes sense from `state` (upstream's `generate_valid_actions`):
/// scans of known networks, service scans of known hosts, exploits of known services, data
/// searches on controlled hosts, exfiltration of known data between controlled hosts, and
/// optionally blocks between controlled hosts and known hosts.
pub fn valid_actions(state: &GameState, with_blocks: bool) -> Vec<Action> {
    let mut out = Vec::new();
    for_each_valid_action(state, with_blocks, |a| out.push(a));
    out
}

/// The number of valid actions of `state`, without building them.
pub fn count_valid_actions(state: &GameState, with_blocks: bool) -> usize {
    let c = state.controlled_hosts.len();
    let services: usize = state.known_services.values().map(|s| s.len()).sum();
    let exfil: usize = state
        .known_data
        .iter()
        .filter(|(h, _)| state.controlled_hosts.contains(h))
        .map(|(_, d)| d.len() * c.saturating_sub(1))
        .sum();
    let blocks = if with_blocks {
        state
            .controlled_hosts
            .iter()
            .map(|t| state.known_hosts.len() - usize::from(state.known_hosts.contains(t)))
            .sum::<usize>()
            * c
    } else {
        0
    };
    c * (state.known_networks.len() + state.known_hosts.len() + services + c) + exfil + blocks
}

/// The `n`th valid action in the order of [`valid_actions`], built alone (for uniform random
/// choice without allocating the whole list).
pub fn nth_valid_action(state: &GameState, with_blocks: bool, n: usize) -> Option<Action> {
    let mut i = 0;
    let mut found = None;
    for_each_valid_action_until(state, with_blocks, |make| {
        if i == n {
            found = Some(make());
            return true;
        }
        i += 1;
        false
    });
    found
}

fn for_each_valid_action(state: &GameState, with_blocks: bool, mut f: impl FnMut(Action)) {
    for_each_valid_action_until(state, with_blocks, |make| {
        f(make());
        false
    });
}

/// Walks the valid actions in order, handing `f` a constructor for each; stops when `f` says so.
fn for_each_valid_action_until(state: &GameState, with_blocks: bool, mut f: impl FnMut(&dyn Fn() -> Action) -> bool) {
    for &src in &state.controlled_hosts {
        for &net in &state.known_networks {
            if f(&|| Action::scan_network(src, net)) {
                return;
            }
        }
        for &host in &state.known_hosts {
            if f(&|| Action::find_services(src, host)) {
                return;
            }
        }
        for (&host, services) in &state.known_services {
            for s in services {
                if f(&|| Action::exploit_service(src, host, s.clone())) {
                    return;
                }
            }
        }
        for &host in &state.controlled_hosts {
            if f(&|| Action::find_data(src, host)) {
                return;
            }
        }
        if let Some(data) = state.known_data.get(&src) {
            for d in data {
                for &target in &state.controlled_hosts {
                    if target != src && f(&|| Action::exfiltrate_data(src, target, d.clone())) {
                        return;
                    }
                }
            }
        }
        if with_blocks {
            for &target in &state.controlled_hosts {
                for &blocked in &state.known_hosts {
                    if blocked != target && f(&|| Action::block_ip(src, target, blocked)) {
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_and_indexing_agree_with_the_list() {
        let mut s = GameState::default();
        s.controlled_hosts.extend([Ip::v4(10, 0, 0, 1), Ip::v4(10, 0, 0, 2)]);
        s.known_hosts.extend([Ip::v4(10, 0, 0, 1), Ip::v4(10, 0, 0, 2), Ip::v4(10, 0, 0, 3)]);
        s.known_networks.insert("10.0.0.0/24".parse().unwrap());
        s.known_services
            .entry(Ip::v4(10, 0, 0, 3))
            .or_default()
            .insert(crate::components::Service::new("ssh", "passive", "1", false));
        s.known_data.entry(Ip::v4(10, 0, 0, 1)).or_default().insert(crate::components::Data::new("u", "d"));
        for blocks in [false, true] {
            let all = valid_actions(&s, blocks);
            assert_eq!(count_valid_actions(&s, blocks), all.len());
            for (i, a) in all.iter().enumerate() {
                assert_eq!(nth_valid_action(&s, blocks, i).as_ref(), Some(a));
            }
            assert_eq!(nth_valid_action(&s, blocks, all.len()), None);
        }
    }
}

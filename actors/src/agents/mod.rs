//! Running agents: the same [`Agent`](netsecgame::agents::Agent) in-process ([`LocalAgent`],
//! an actor exchanging typed messages with a game's coordinator, at memory speed) or over TCP
//! against any server ([`play_remote`], with the Rust [`Client`](crate::client::Client)).
//! Both report every finished episode and how the agent stopped.

mod local;
mod remote;

pub use local::LocalAgent;
pub use remote::play_remote;

use actix::prelude::*;
use netsecgame::components::AgentStatus;

/// How many episodes an agent plays, and when it stops early.
#[derive(Debug, Clone)]
pub struct PlayPlan {
    /// The name it joins with.
    pub name: String,
    /// Episodes to play before quitting.
    pub episodes: u64,
    /// Set to stop at the next episode boundary.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Over TCP: wait this long before each action, so people can watch (the web view).
    pub pace: Option<std::time::Duration>,
}

impl PlayPlan {
    pub fn new(name: impl Into<String>, episodes: u64) -> Self {
        PlayPlan { name: name.into(), episodes, stop: None, pace: None }
    }

    fn should_stop(&self, played: u64) -> bool {
        played >= self.episodes || self.stop.as_ref().is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// One of the agent's finished episodes, as the agent saw it.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct EpisodeSeen {
    pub name: String,
    pub end_reason: Option<AgentStatus>,
    /// Sum of the rewards received (the last one includes the end reward).
    pub episode_return: f64,
    pub steps: u64,
}

/// The agent stopped: it played its episodes, was told to stop, or failed.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct AgentStopped {
    pub name: String,
    pub episodes: u64,
    pub error: Option<String>,
}

/// Where an agent's reports go (either may be absent).
#[derive(Clone, Default)]
pub struct Reports {
    pub episodes: Option<Recipient<EpisodeSeen>>,
    pub stopped: Option<Recipient<AgentStopped>>,
}

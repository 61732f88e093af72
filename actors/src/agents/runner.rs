//! AgentActor: runs a [`Policy`] against a server over TCP for a number of episodes and
//! reports each finished episode to a `Recipient<EpisodeReport>`.

use super::{AgentKind, Policy};
use crate::client::{Client, ClientError};
use actix::prelude::*;
use netsecgame::components::{ActionType, AgentStatus};
use netsecgame::world::seeded_rng;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// One agent's finished episode.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct EpisodeReport {
    pub kind: AgentKind,
    pub end_reason: Option<AgentStatus>,
    /// Sum of the rewards of the episode's steps (the last includes the end reward).
    pub episode_return: f64,
    pub steps: u32,
    /// BlockIP actions sent this episode.
    pub blocks: u32,
}

/// Sent when an agent stops (finished its episodes, was told to stop, or failed).
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct AgentDone {
    pub kind: AgentKind,
    pub error: Option<String>,
}

pub struct AgentActor {
    pub kind: AgentKind,
    pub name: String,
    pub server: SocketAddr,
    /// Episodes to play before quitting.
    pub episodes: u64,
    /// Set to stop at the next episode boundary.
    pub stop: Arc<AtomicBool>,
    pub seed: u64,
    pub reports: Recipient<EpisodeReport>,
    pub done: Recipient<AgentDone>,
}

impl Actor for AgentActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let play = play(
            self.kind,
            self.name.clone(),
            self.server,
            self.episodes,
            self.stop.clone(),
            self.seed,
            self.reports.clone(),
        );
        let kind = self.kind;
        let done = self.done.clone();
        ctx.spawn(play.into_actor(self).map(move |result, _, ctx| {
            done.do_send(AgentDone { kind, error: result.err().map(|e| e.to_string()) });
            ctx.stop();
        }));
    }
}

async fn play(
    kind: AgentKind,
    name: String,
    server: SocketAddr,
    episodes: u64,
    stop: Arc<AtomicBool>,
    seed: u64,
    reports: Recipient<EpisodeReport>,
) -> Result<(), ClientError> {
    let mut rng = seeded_rng(seed as i64, 7);
    let mut policy: Box<dyn Policy> = kind.policy();
    let mut client = Client::connect(server).await?;
    let mut obs = client.register(&name, kind.role()).await?;
    obs.info = serde_json::Value::Null;
    let mut played = 0;
    loop {
        policy.reset(&obs);
        let (mut ret, mut steps, mut blocks) = (0.0, 0u32, 0u32);
        loop {
            let action = policy.act(&obs, &mut rng);
            if action.action_type == ActionType::BlockIP {
                blocks += 1;
            }
            obs = client.step(&action).await?;
            ret += obs.reward;
            steps += 1;
            if obs.end {
                break;
            }
        }
        let end_reason = obs.info.get("end_reason").and_then(|v| v.as_str()).and_then(AgentStatus::parse);
        reports.do_send(EpisodeReport { kind, end_reason, episode_return: ret, steps, blocks });
        played += 1;
        if played >= episodes || stop.load(Ordering::Relaxed) {
            break;
        }
        obs = client.reset(false, false, None).await?;
    }
    client.quit().await
}

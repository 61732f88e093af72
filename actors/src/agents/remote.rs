//! Playing an agent over TCP against any NetSecGame server (ours or upstream's Python one).

use super::{EpisodeSeen, PlayPlan, Reports};
use crate::client::{Client, ClientError};
use netsecgame::action::ResetOptions;
use netsecgame::agents::Agent;
use std::net::SocketAddr;

/// Connects, joins, plays the plan's episodes (resetting between them) and quits. Returns
/// the number of episodes played.
pub async fn play_remote<A: Agent>(
    agent: &mut A,
    server: SocketAddr,
    plan: &PlayPlan,
    reports: &Reports,
) -> Result<u64, ClientError> {
    let mut client = Client::connect(server).await?;
    let (mut obs, mut info) = client.register(&plan.name, agent.role()).await?;
    let mut played = 0;
    loop {
        agent.episode_start(&obs, &info);
        let (mut episode_return, mut steps) = (0.0, 0u64);
        loop {
            let action = agent.act(&obs);
            if let Some(pace) = plan.pace {
                tokio::time::sleep(pace).await;
            }
            obs = client.step(&action).await?;
            episode_return += obs.reward;
            steps += 1;
            if obs.end {
                break;
            }
        }
        agent.episode_end(&obs);
        played += 1;
        if let Some(to) = &reports.episodes {
            to.do_send(EpisodeSeen { name: plan.name.clone(), end_reason: obs.end_reason, episode_return, steps });
        }
        if plan.should_stop(played) {
            break;
        }
        (obs, info) = client.reset(ResetOptions::default()).await?;
    }
    client.quit().await?;
    Ok(played)
}

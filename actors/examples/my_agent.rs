//! A Rust agent written once against `netsecgame::agents::Agent` and played both ways: in
//! process (typed messages with a game's coordinator, no sockets) and over TCP against a
//! server (ours or upstream's Python one).
//!
//! ```sh
//! cargo run --release -p netsecgame-actors --example my_agent               # in-process game
//! cargo run --release -p netsecgame-actors --example my_agent -- 127.0.0.1:9000   # a running server
//! ```

use netsecgame::action::Action;
use netsecgame::agents::{valid_actions, Agent, EpisodeInfo, Observation};
use netsecgame::components::{ActionType, AgentRole};
use netsecgame::game::GameSettings;
use netsecgame::task::TaskConfig;
use netsecgame_actors::agents::{play_remote, PlayPlan, Reports};
use netsecgame_actors::testkit::{AgentEvent, TestGame};
use std::sync::Arc;

/// A greedy attacker: of the actions it has not tried this episode, it takes the most advanced
/// kind its state allows (exfiltrate, then find data, exploit, find services, scan).
#[derive(Default)]
struct Greedy {
    tried: std::collections::HashSet<Action>,
}

fn stage(t: ActionType) -> u8 {
    match t {
        ActionType::ExfiltrateData => 5,
        ActionType::FindData => 4,
        ActionType::ExploitService => 3,
        ActionType::FindServices => 2,
        ActionType::ScanNetwork => 1,
        _ => 0,
    }
}

impl Agent for Greedy {
    fn role(&self) -> AgentRole {
        AgentRole::Attacker
    }

    fn episode_start(&mut self, _obs: &Observation, info: &EpisodeInfo) {
        println!("new episode: {} ({:?} steps)", info.goal_description, info.max_steps);
        self.tried.clear();
    }

    fn act(&mut self, obs: &Observation) -> Action {
        let fresh = valid_actions(&obs.state, false).into_iter().filter(|a| !self.tried.contains(a));
        let Some(action) = fresh.max_by_key(|a| stage(a.action_type)) else {
            return netsecgame::agents::idle_action();
        };
        self.tried.insert(action.clone());
        action
    }

    fn episode_end(&mut self, obs: &Observation) {
        println!("episode over: {:?}, last reward {}", obs.end_reason, obs.reward);
    }
}

fn main() {
    let plan = PlayPlan::new("greedy", 3);
    if let Some(addr) = std::env::args().nth(1) {
        let addr = addr.parse().expect("an address like 127.0.0.1:9000");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let mut agent = Greedy::default();
        let played = rt.block_on(play_remote(&mut agent, addr, &plan, &Reports::default())).expect("played");
        println!("played {played} episodes over TCP");
        return;
    }
    actix_rt::System::new().block_on(async move {
        let task = Arc::new(TaskConfig::default_task());
        let game = TestGame::with_settings(GameSettings::new(task), 42).await;
        let mut events = game.spawn_agent(Greedy::default(), plan);
        while let Some(event) = events.recv().await {
            if let AgentEvent::Stopped(s) = event {
                println!(
                    "played {} episodes in-process{}",
                    s.episodes,
                    s.error.map_or(String::new(), |e| format!(" ({e})"))
                );
                break;
            }
        }
    });
}

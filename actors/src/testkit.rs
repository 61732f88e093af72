//! An actor-level test kit: one game's real actors inside a test (`#[actix_rt::test]`), with
//! probe agents attached through the same typed messages in-process agents use. No ports,
//! no sleeps: [`TestGame::settle`] waits until the game has answered everything sent so far,
//! so "no reply" is a fact, not a timeout.
//!
//! ```ignore
//! let game = TestGame::start(task).await;
//! let mut a = game.agent().await;
//! assert_eq!(a.request(Action::join_game("a", AgentRole::Attacker)).await.status(), GameStatus::CREATED);
//! ```

use crate::agents::{AgentStopped, EpisodeSeen, LocalAgent, PlayPlan, Reports};
use crate::game::messages::{AgentRequest, Connect, Leave, LeaveReason, Settle, ToSession};
use crate::game::{Game, GameConfig, GameEvent};
use actix::prelude::*;
use netsecgame::action::Action;
use netsecgame::agents::Agent;
use netsecgame::game::{EpisodeRecord, GameSettings};
use netsecgame::protocol::Reply;
use netsecgame::task::TaskConfig;
use netsecgame::world::AgentId;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc;

/// A game under test.
pub struct TestGame {
    pub game: Game,
    /// Trajectory files go here (a fresh folder per game).
    pub trajectory_dir: PathBuf,
    events: Addr<Collector<GameEvent>>,
    events_rx: mpsc::UnboundedReceiver<GameEvent>,
}

impl TestGame {
    /// Starts a game of `task` with seed 42 and default settings.
    pub async fn start(task: Arc<TaskConfig>) -> TestGame {
        TestGame::with_settings(GameSettings::new(task), 42).await
    }

    /// Starts a game with explicit settings and seed.
    pub async fn with_settings(settings: GameSettings, seed: i64) -> TestGame {
        TestGame::with(settings, seed, false).await
    }

    /// Starts a game with explicit settings and seed, keeping metrics (as with `--http`).
    pub async fn with_metrics(settings: GameSettings, seed: i64) -> TestGame {
        TestGame::with(settings, seed, true).await
    }

    async fn with(settings: GameSettings, seed: i64, metrics: bool) -> TestGame {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let trajectory_dir = std::env::temp_dir().join(format!("nsg-testkit-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&trajectory_dir);
        let mut config = GameConfig::new(settings, seed, trajectory_dir.clone());
        config.metrics = metrics;
        let game = Game::start(config);
        let (tx, events_rx) = mpsc::unbounded_channel();
        let events = Collector { tx }.start();
        game.subscribe(events.clone().recipient());
        TestGame { game, trajectory_dir, events, events_rx }
    }

    /// Waits until the game is idle and every message it sent so far was delivered.
    pub async fn settle(&self) {
        let _ = self.game.coordinator.send(Settle).await;
    }

    /// Attaches a probe agent (connected, not joined).
    pub async fn agent(&self) -> TestAgent {
        let (tx, rx) = mpsc::unbounded_channel();
        let probe = Collector { tx }.start();
        let connect = Connect { session: probe.clone().recipient(), peer: "testkit".into() };
        let id = self.game.coordinator.send(connect).await.expect("the game runs").expect("a free slot");
        TestAgent { id, coordinator: self.game.coordinator.clone(), probe, rx }
    }

    /// Connects a probe agent and sends JoinGame (the CREATED reply may be held at the start
    /// barrier).
    pub async fn join(&self, name: &str, role: netsecgame::components::AgentRole) -> TestAgent {
        let a = self.agent().await;
        a.send(Action::join_game(name, role));
        a
    }

    /// Runs an in-process agent for `episodes` episodes and waits until it stops.
    pub fn spawn_agent<A: Agent + Unpin + 'static>(
        &self,
        agent: A,
        plan: PlayPlan,
    ) -> mpsc::UnboundedReceiver<AgentEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        let sink = Collector { tx }.start();
        let reports = Reports { episodes: Some(sink.clone().recipient()), stopped: Some(sink.recipient()) };
        LocalAgent::new(agent, plan, self.game.coordinator.clone(), reports).start();
        rx
    }

    /// The referee's episode records received so far.
    pub async fn records(&mut self) -> Vec<EpisodeRecord> {
        self.settle().await;
        let _ = self.events.send(Ping).await;
        let mut out = Vec::new();
        while let Ok(event) = self.events_rx.try_recv() {
            if let GameEvent::EpisodeEnded(r) = event {
                out.push(r);
            }
        }
        out
    }

    /// Every trajectory record written so far, in file-name then line order.
    pub async fn trajectories(&self) -> Vec<Value> {
        self.settle().await;
        let _ = self.game.recorder.send(crate::game::messages::Flush).await;
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.trajectory_dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .flat_map(|f| {
                std::fs::read_to_string(f)
                    .unwrap_or_default()
                    .lines()
                    .map(|l| serde_json::from_str(l).expect("trajectory lines are JSON"))
                    .collect::<Vec<Value>>()
            })
            .collect()
    }

    /// Writes every open episode (as a server does at shutdown); returns how many.
    pub async fn shutdown(&self) -> usize {
        self.game.shutdown().await
    }
}

impl Drop for TestGame {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.trajectory_dir);
    }
}

/// What an in-process agent started by [`TestGame::spawn_agent`] reports.
#[derive(Debug, Clone)]
pub enum AgentEvent {
    Episode(EpisodeSeen),
    Stopped(AgentStopped),
}

/// A probe agent: sends requests, and sees the game's messages to it in order.
pub struct TestAgent {
    pub id: AgentId,
    coordinator: Addr<crate::game::coordinator::Coordinator>,
    probe: Addr<Collector<ToSession>>,
    rx: mpsc::UnboundedReceiver<ToSession>,
}

impl TestAgent {
    /// Sends a request without waiting.
    pub fn send(&self, action: Action) {
        self.coordinator.do_send(AgentRequest { id: self.id, action });
    }

    /// Sends a request and returns its reply, which must come without any other agent acting.
    pub async fn request(&mut self, action: Action) -> Reply {
        self.send(action);
        self.reply().await.expect("a reply")
    }

    /// The next reply, if the game has sent one: waits until the game is idle, never longer.
    pub async fn reply(&mut self) -> Option<Reply> {
        match self.message().await? {
            ToSession::Reply(r) => Some(r),
            ToSession::Close => None,
        }
    }

    /// The next message (reply or close), if the game has sent one.
    pub async fn message(&mut self) -> Option<ToSession> {
        let _ = self.coordinator.send(Settle).await;
        let _ = self.probe.send(Ping).await;
        self.rx.try_recv().ok()
    }

    /// The agent leaves (a disconnect, or the end of its input).
    pub fn leave(&self) {
        self.coordinator.do_send(Leave { id: self.id, reason: LeaveReason::Disconnected });
    }
}

/// Forwards every message of type `M` into a channel; answers [`Ping`] once earlier messages
/// are forwarded.
struct Collector<M: Send + 'static> {
    tx: mpsc::UnboundedSender<M>,
}

impl<M: Send + Unpin + 'static> Actor for Collector<M> {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
struct Ping;

impl<M: Send + Unpin + 'static> Handler<Ping> for Collector<M> {
    type Result = ();
    fn handle(&mut self, _: Ping, _: &mut Context<Self>) {}
}

impl Handler<ToSession> for Collector<ToSession> {
    type Result = ();
    fn handle(&mut self, msg: ToSession, _: &mut Context<Self>) {
        let _ = self.tx.send(msg);
    }
}

impl Handler<GameEvent> for Collector<GameEvent> {
    type Result = ();
    fn handle(&mut self, msg: GameEvent, _: &mut Context<Self>) {
        let _ = self.tx.send(msg);
    }
}

impl Handler<EpisodeSeen> for Collector<AgentEvent> {
    type Result = ();
    fn handle(&mut self, msg: EpisodeSeen, _: &mut Context<Self>) {
        let _ = self.tx.send(AgentEvent::Episode(msg));
    }
}

impl Handler<AgentStopped> for Collector<AgentEvent> {
    type Result = ();
    fn handle(&mut self, msg: AgentStopped, _: &mut Context<Self>) {
        let _ = self.tx.send(AgentEvent::Stopped(msg));
    }
}

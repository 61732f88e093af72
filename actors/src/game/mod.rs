//! One game as actors: a Coordinator (which owns the rules), a World, a global defender (when
//! the task enables it) and a trajectory recorder, exchanging the typed messages of
//! [`messages`]. Nothing is global, so a process runs as many games as it likes.

pub mod coordinator;
pub mod defender;
pub mod messages;
pub mod metrics;
pub mod recorder;
pub mod world;

use actix::prelude::*;
use coordinator::Coordinator;
use defender::DefenderActor;
use messages::{Flush, Shutdown, Subscribe};
use netsecgame::defender::GlobalDefender;
use netsecgame::game::{GameSettings, Referee};
use netsecgame::task::TaskConfig;
use netsecgame::world::World;
use recorder::RecorderActor;
use std::path::PathBuf;
use std::sync::Arc;

pub use messages::GameEvent;

/// Everything needed to start a game.
#[derive(Debug, Clone)]
pub struct GameConfig {
    pub settings: GameSettings,
    /// The game seed (the server's `--seed`).
    pub seed: i64,
    /// Where trajectory files go when the task saves them.
    pub trajectory_dir: PathBuf,
    /// The arbiter file I/O runs on, shared by many games. None: a thread of this game's own
    /// is started when the task saves trajectories.
    pub io: Option<ArbiterHandle>,
    /// Keep [`metrics::GameMetrics`] (the web view's `/metrics`); off, the game reads no clock
    /// per step.
    pub metrics: bool,
}

impl GameConfig {
    pub fn new(settings: GameSettings, seed: i64, trajectory_dir: PathBuf) -> Self {
        GameConfig { settings, seed, trajectory_dir, io: None, metrics: false }
    }
}

/// A running game: the addresses its users need.
#[derive(Clone)]
pub struct Game {
    pub coordinator: Addr<Coordinator>,
    pub recorder: Addr<RecorderActor>,
    pub task: Arc<TaskConfig>,
    /// The game's counters, when its config asked for them.
    pub metrics: Option<Arc<metrics::GameMetrics>>,
}

impl Game {
    /// Starts a game's actors on the current arbiter; must run inside an actix system.
    pub fn start(config: GameConfig) -> Game {
        let task = config.settings.task.clone();
        let world = WorldActor { world: World::new(task.clone(), config.seed) }.start();
        let defender =
            task.use_global_defender.then(|| DefenderActor { defender: GlobalDefender::new(config.seed) }.start());
        let dir = config.trajectory_dir.clone();
        // Games that save nothing keep the idle recorder on their own arbiter.
        let recorder = match (&config.io, task.save_trajectories) {
            (_, false) => RecorderActor::new(dir).start(),
            (Some(io), true) => RecorderActor::start_in_arbiter(io, |_| RecorderActor::new(dir)),
            (None, true) => RecorderActor::start_in_arbiter(&Arbiter::new().handle(), |_| RecorderActor::new(dir)),
        };
        let metrics = config.metrics.then(|| Arc::new(metrics::GameMetrics::default()));
        let coordinator =
            Coordinator::new(Referee::new(config.settings), world, defender, recorder.clone(), metrics.clone()).start();
        Game { coordinator, recorder, task, metrics }
    }

    /// Starts a game on another arbiter (thread) and returns once it runs.
    pub async fn start_on(arbiter: &ArbiterHandle, config: GameConfig) -> Option<Game> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        arbiter.spawn(async move {
            let _ = tx.send(Game::start(config));
        });
        rx.await.ok()
    }

    /// Sends this game's events, steps included, to `to` while it has room for them (see
    /// [`messages::Watch`]).
    pub fn watch(&self, to: Recipient<messages::WatchBatch>) {
        self.coordinator.do_send(messages::Watch(to));
    }

    /// Sends this game's events (finished episodes) to `to`.
    pub fn subscribe(&self, to: Recipient<GameEvent>) {
        self.coordinator.do_send(Subscribe(to));
    }

    /// Writes every open episode and waits until the recorder has them on disk. Returns how
    /// many were handed over.
    pub async fn shutdown(&self) -> usize {
        let n = self.coordinator.send(Shutdown).await.unwrap_or(0);
        let _ = self.recorder.send(Flush).await;
        n
    }
}

use world::WorldActor;

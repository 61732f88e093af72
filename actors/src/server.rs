//! Assembling a game and serving it over TCP.
//!
//! [`start_game`] creates one game's actor set (Coordinator, World, GlobalDefender,
//! TrajectoryRecorder); nothing is global, so a process can run several games. [`serve`]
//! accepts connections and spreads the sessions over I/O arbiters (threads), while the game
//! actors stay on the arbiter that started them. [`ServerHandle`] runs a whole server on a
//! background thread, for tests, benchmarks and tournaments.

use crate::coordinator::{Coordinator, GameSettings};
use crate::defender::DefenderActor;
use crate::messages::{Flush, Shutdown};
use crate::recorder::RecorderActor;
use crate::session::{AgentSession, SessionSettings};
use crate::world::WorldActor;
use actix::prelude::*;
use netsecgame::defender::GlobalDefender;
use netsecgame::world::World;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;

/// One running game.
#[derive(Clone)]
pub struct Game {
    pub coordinator: Addr<Coordinator>,
    pub recorder: Addr<RecorderActor>,
}

impl Game {
    /// Writes every open episode and waits until the recorder has them on disk.
    pub async fn shutdown(&self) -> usize {
        let n = self.coordinator.send(Shutdown).await.unwrap_or(0);
        let _ = self.recorder.send(Flush).await;
        n
    }
}

/// Starts a game's actors; must run inside an actix system.
pub fn start_game(settings: GameSettings, seed: i64) -> Game {
    let task = settings.task.clone();
    let world = WorldActor { world: World::new(task.clone(), seed) }.start();
    let defender = task.use_global_defender.then(|| DefenderActor { defender: GlobalDefender::new(seed) }.start());
    // Trajectory files are written on a thread of their own, off the game's thread; games that
    // save nothing keep the (idle) recorder on their own arbiter and start no thread.
    let recorder = if task.save_trajectories {
        RecorderActor::start_in_arbiter(&Arbiter::new().handle(), |_| RecorderActor::default())
    } else {
        RecorderActor::default().start()
    };
    let coordinator = Coordinator::new(settings, world, defender, recorder.clone()).start();
    Game { coordinator, recorder }
}

/// Accepts connections forever, handing each to a session on one of `io` arbiters (or the
/// current one when `io` is empty).
pub async fn serve(listener: TcpListener, game: Game, sessions: SessionSettings, io: Vec<ArbiterHandle>) {
    let next = AtomicUsize::new(0);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let coordinator = game.coordinator.clone();
        let settings = sessions.clone();
        if io.is_empty() {
            AgentSession::start(stream, peer, coordinator, settings);
            continue;
        }
        let arbiter = &io[next.fetch_add(1, Ordering::Relaxed) % io.len()];
        let Ok(std_stream) = stream.into_std() else { continue };
        arbiter.spawn(async move {
            if let Ok(stream) = tokio::net::TcpStream::from_std(std_stream) {
                AgentSession::start(stream, peer, coordinator, settings);
            }
        });
    }
}

/// A server running on its own thread with its own actix system.
pub struct ServerHandle {
    pub addr: SocketAddr,
    system: actix_rt::System,
    game: Game,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerHandle {
    /// Binds `bind` (port 0 for any) and serves `settings` with `io_threads` session arbiters.
    pub fn spawn(
        bind: SocketAddr,
        settings: GameSettings,
        seed: i64,
        sessions: SessionSettings,
        io_threads: usize,
    ) -> std::io::Result<ServerHandle> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runner = actix_rt::System::new();
            runner.block_on(async move {
                let listener = match TcpListener::bind(bind).await {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                let addr = listener.local_addr().expect("bound listener has an address");
                let game = start_game(settings, seed);
                let io: Vec<ArbiterHandle> = (0..io_threads).map(|_| Arbiter::new().handle()).collect();
                let _ = tx.send(Ok((addr, actix_rt::System::current(), game.clone())));
                actix_rt::spawn(serve(listener, game, sessions, io));
            });
            let _ = runner.run();
        });
        let (addr, system, game) = rx.recv().map_err(|_| std::io::Error::other("server thread died"))??;
        Ok(ServerHandle { addr, system, game, thread: Some(thread) })
    }

    /// Writes open episodes, stops the server and waits for its thread.
    pub fn shutdown(mut self) -> usize {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> usize {
        let Some(thread) = self.thread.take() else { return 0 };
        let game = self.game.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        self.system.arbiter().spawn(async move {
            let n = game.shutdown().await;
            let _ = tx.send(n);
            actix_rt::System::current().stop();
        });
        let n = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap_or(0);
        let _ = thread.join();
        n
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// Shared settings builder used by the CLI and tests.
pub fn game_settings(
    task: Arc<netsecgame::task::TaskConfig>,
    max_agents: usize,
    trajectory_dir: std::path::PathBuf,
) -> GameSettings {
    GameSettings { task, max_agents, all_actions: None, trajectory_dir }
}

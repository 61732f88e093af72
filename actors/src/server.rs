//! Serving games over TCP: one way to start, used by the binary, the tests and the
//! benchmarks alike. [`Server::start_on`] binds, starts the game and spawns the accept loop,
//! on the current arbiter or another one; [`Server::stop`] stops accepting and writes every
//! open episode. [`ServerGroup`] serves many games in one process, one port each, spread over
//! one arbiter per core. [`ServerHandle`] runs a server on a background thread with its own
//! actix system.

use crate::game::{Game, GameConfig};
use crate::transports::tcp::{accept_loop, ConnectionLimits, SessionSettings};
use actix::prelude::*;
use std::net::SocketAddr;

/// Everything a server needs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on (`host:port`; port 0 for any free port).
    pub bind: String,
    pub game: GameConfig,
    pub sessions: SessionSettings,
    pub limits: ConnectionLimits,
    /// Extra threads for connection I/O (0: sessions share the game's thread).
    pub io_threads: usize,
}

impl ServerConfig {
    /// Defaults for everything but the address and the game.
    pub fn new(bind: impl Into<String>, game: GameConfig) -> Self {
        ServerConfig {
            bind: bind.into(),
            game,
            sessions: SessionSettings::default(),
            limits: ConnectionLimits::default(),
            io_threads: 0,
        }
    }
}

/// A game served on a listening socket.
pub struct Server {
    /// The address actually bound.
    pub addr: SocketAddr,
    pub game: Game,
    /// Dropping or sending stops the accept loop.
    stop_accepting: tokio::sync::oneshot::Sender<()>,
}

impl Server {
    /// Binds the address, starts the game on the current arbiter and accepts connections.
    /// Nothing is started when the bind fails.
    pub async fn start(config: ServerConfig) -> std::io::Result<Server> {
        Server::start_on(config, None).await
    }

    /// As [`Server::start`], with the game, its sessions and its accept loop on `arbiter`
    /// (the current one when None).
    pub async fn start_on(config: ServerConfig, arbiter: Option<&ArbiterHandle>) -> std::io::Result<Server> {
        let listener = std::net::TcpListener::bind(&config.bind)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let game = match arbiter {
            Some(a) => {
                Game::start_on(a, config.game).await.ok_or_else(|| std::io::Error::other("the arbiter is gone"))?
            }
            None => Game::start(config.game),
        };
        let io: Vec<ArbiterHandle> = (0..config.io_threads).map(|_| Arbiter::new().handle()).collect();
        let (stop_accepting, stopped) = tokio::sync::oneshot::channel::<()>();
        let coordinator = game.coordinator.clone();
        let mut sessions = config.sessions;
        if sessions.metrics.is_none() {
            sessions.metrics = game.metrics.clone();
        }
        let accepting = async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
            tokio::select! {
                _ = accept_loop(listener, coordinator, sessions, config.limits, io) => {}
                _ = stopped => {}
            }
        };
        match arbiter {
            Some(a) => {
                a.spawn(accepting);
            }
            None => {
                actix_rt::spawn(accepting);
            }
        }
        Ok(Server { addr, game, stop_accepting })
    }

    /// Stops accepting, writes every open episode and waits until they are on disk. Returns
    /// how many were written.
    pub async fn stop(self) -> usize {
        let _ = self.stop_accepting.send(());
        self.game.shutdown().await
    }
}

/// Many games in one process, each on a port of its own, spread over one arbiter per core,
/// with one arbiter for every game's trajectory files. Idle games cost a few KB each.
pub struct ServerGroup {
    pub servers: Vec<Server>,
    arbiters: Vec<Arbiter>,
    io: Option<Arbiter>,
}

impl ServerGroup {
    /// Binds and starts every game; on the first failure, what was started is stopped and the
    /// error says which address failed.
    pub async fn start(mut configs: Vec<ServerConfig>, threads: usize) -> std::io::Result<ServerGroup> {
        let arbiters: Vec<Arbiter> = (0..threads.max(1).min(configs.len().max(1))).map(|_| Arbiter::new()).collect();
        let io = Arbiter::new();
        let mut servers = Vec::with_capacity(configs.len());
        for (i, mut config) in configs.drain(..).enumerate() {
            config.game.io = Some(io.handle());
            let bind = config.bind.clone();
            match Server::start_on(config, Some(&arbiters[i % arbiters.len()].handle())).await {
                Ok(s) => servers.push(s),
                Err(e) => {
                    for s in servers {
                        s.stop().await;
                    }
                    return Err(std::io::Error::new(e.kind(), format!("{bind}: {e}")));
                }
            }
        }
        Ok(ServerGroup { servers, arbiters, io: Some(io) })
    }

    /// Registers every game of the group in `registry` (labelled with its task file), so the
    /// web view lists them; they stay there until the process ends.
    pub fn register(&self, registry: &crate::registry::GameRegistry) -> Vec<u64> {
        self.servers
            .iter()
            .map(|s| registry.register(s.game.task.origin.clone(), Some(s.addr.port()), &s.game))
            .collect()
    }

    /// A group of servers already started on the current arbiter.
    pub fn of(servers: Vec<Server>) -> ServerGroup {
        ServerGroup { servers, arbiters: Vec::new(), io: None }
    }

    /// Stops every game (writing its open episodes); returns how many episodes were written.
    pub async fn stop(self) -> usize {
        let mut n = 0;
        for s in self.servers {
            n += s.stop().await;
        }
        for a in self.arbiters {
            a.stop();
        }
        if let Some(io) = self.io {
            io.stop();
        }
        n
    }
}

/// A server running on its own thread with its own actix system.
pub struct ServerHandle {
    pub addr: SocketAddr,
    pub game: Game,
    system: actix_rt::System,
    thread: Option<std::thread::JoinHandle<()>>,
    server: Option<Server>,
}

impl ServerHandle {
    /// Starts a server on a new thread.
    pub fn spawn(config: ServerConfig) -> std::io::Result<ServerHandle> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runner = actix_rt::System::new();
            let started = runner.block_on(Server::start(config));
            let ok = started.is_ok();
            let _ = tx.send(started.map(|s| (s, actix_rt::System::current())));
            if ok {
                let _ = runner.run();
            }
        });
        let (server, system) = rx.recv().map_err(|_| std::io::Error::other("server thread died"))??;
        Ok(ServerHandle {
            addr: server.addr,
            game: server.game.clone(),
            system,
            thread: Some(thread),
            server: Some(server),
        })
    }

    /// The game's state now (asked of the coordinator, on the server's thread).
    pub fn snapshot(&self) -> crate::game::messages::GameSnapshot {
        let (tx, rx) = std::sync::mpsc::channel();
        let coordinator = self.game.coordinator.clone();
        self.system.arbiter().spawn(async move {
            let _ = tx.send(coordinator.send(crate::game::messages::Snapshot).await.unwrap_or_default());
        });
        rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap_or_default()
    }

    /// Waits (polling the game, at most `timeout`) until `done` holds for its snapshot.
    /// Returns whether it did.
    pub fn wait_for(
        &self,
        timeout: std::time::Duration,
        done: impl Fn(&crate::game::messages::GameSnapshot) -> bool,
    ) -> bool {
        let start = std::time::Instant::now();
        loop {
            if done(&self.snapshot()) {
                return true;
            }
            if start.elapsed() > timeout {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// Writes open episodes, stops the server and waits for its thread. Returns how many
    /// open episodes were written.
    pub fn shutdown(mut self) -> usize {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> usize {
        let (Some(thread), Some(server)) = (self.thread.take(), self.server.take()) else { return 0 };
        let (tx, rx) = std::sync::mpsc::channel();
        self.system.arbiter().spawn(async move {
            let n = server.stop().await;
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

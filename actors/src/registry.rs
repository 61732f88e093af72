//! The registry of running games: what the multi-game server, tournaments and the web view
//! read concurrently. A `DashMap` keyed by game id: registering, listing and dropping games
//! never block one another across threads.
//!
//! It also keeps the counters of games that finished ([`GameRegistry::retired`]), so the
//! process's totals in `/metrics` only ever grow while tournament matches come and go.

use crate::game::coordinator::Coordinator;
use crate::game::metrics::GameMetrics;
use crate::game::Game;
use actix::prelude::*;
use dashmap::DashMap;
use netsecgame::task::TaskConfig;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A running game, as others may look it up.
#[derive(Clone)]
pub struct GameEntry {
    pub id: u64,
    /// Where it comes from: a task file, or `match 12: ...`.
    pub label: String,
    pub scenario: String,
    /// The TCP port it listens on, if any.
    pub port: Option<u16>,
    pub coordinator: Addr<Coordinator>,
    pub task: Arc<TaskConfig>,
    /// Its counters, when it keeps them.
    pub metrics: Option<Arc<GameMetrics>>,
    /// When it was registered (seconds since the Unix epoch).
    pub since: i64,
}

/// Games by id; clones share the same map.
#[derive(Clone, Default)]
pub struct GameRegistry {
    games: Arc<DashMap<u64, GameEntry>>,
    next: Arc<AtomicU64>,
    retired: Arc<GameMetrics>,
}

impl GameRegistry {
    pub fn new() -> Self {
        GameRegistry::default()
    }

    /// Registers a running game and returns its id (1, 2, ... in order of registration).
    pub fn register(&self, label: String, port: Option<u16>, game: &Game) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let entry = GameEntry {
            id,
            label,
            scenario: game.task.topology.name.clone(),
            port,
            coordinator: game.coordinator.clone(),
            task: game.task.clone(),
            metrics: game.metrics.clone(),
            since: jiff::Timestamp::now().as_second(),
        };
        self.games.insert(id, entry);
        id
    }

    /// Drops a game that ended; its counters join the process's totals.
    pub fn remove(&self, id: u64) {
        if let Some((_, entry)) = self.games.remove(&id) {
            if let Some(m) = &entry.metrics {
                m.retire_into(&self.retired);
            }
        }
    }

    pub fn get(&self, id: u64) -> Option<GameEntry> {
        self.games.get(&id).map(|e| e.clone())
    }

    /// Every registered game, by id.
    pub fn list(&self) -> Vec<GameEntry> {
        let mut out: Vec<GameEntry> = self.games.iter().map(|e| e.value().clone()).collect();
        out.sort_by_key(|e| e.id);
        out
    }

    pub fn len(&self) -> usize {
        self.games.len()
    }

    pub fn is_empty(&self) -> bool {
        self.games.is_empty()
    }

    /// Games registered so far, finished ones included.
    pub fn registered(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }

    /// The counters of every game that was removed, added up.
    pub fn retired(&self) -> &GameMetrics {
        &self.retired
    }
}

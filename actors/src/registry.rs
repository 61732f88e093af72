//! The registry of running games: what the multi-game server, tournaments and the web view
//! read concurrently. A `DashMap` keyed by game id: registering, listing and dropping games
//! never block one another across threads.

use crate::game::coordinator::Coordinator;
use actix::prelude::*;
use dashmap::DashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A running game, as others may look it up.
#[derive(Clone)]
pub struct GameEntry {
    pub id: u64,
    /// Where it comes from: a task file, or `tournament match 12`.
    pub label: String,
    pub scenario: String,
    /// The TCP port it listens on, if any.
    pub port: Option<u16>,
    pub coordinator: Addr<Coordinator>,
}

/// Games by id; clones share the same map.
#[derive(Clone, Default)]
pub struct GameRegistry {
    games: Arc<DashMap<u64, GameEntry>>,
    next: Arc<AtomicU64>,
}

impl GameRegistry {
    pub fn new() -> Self {
        GameRegistry::default()
    }

    /// Registers a game and returns its id.
    pub fn register(&self, label: String, scenario: String, port: Option<u16>, coordinator: Addr<Coordinator>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.games.insert(id, GameEntry { id, label, scenario, port, coordinator });
        id
    }

    pub fn remove(&self, id: u64) {
        self.games.remove(&id);
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
}

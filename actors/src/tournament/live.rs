//! A running tournament as onlookers see it (the web view's tournament page): progress, the
//! matches being played with their games in the [`GameRegistry`], the latest results, and the
//! leaderboard and win-rate matrix recomputed from the store as matches finish.
//!
//! The run loop writes it; the web view reads copies. Recomputing results reads the whole
//! store, so it happens at most once a second ([`RECOMPUTE_EVERY`]) and once at the end,
//! whatever the pace of matches, and only when a run has a live view at all.

use super::play::MatchResult;
use super::ratings::Results;
use super::schedule::Match;
use super::Tournament;
use crate::registry::GameRegistry;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Least time between two recomputations of the results.
pub const RECOMPUTE_EVERY: Duration = Duration::from_secs(1);
/// Finished matches kept for the page (newest first).
const RECENT: usize = 20;

/// A match being played.
#[derive(Debug, Clone, Serialize)]
pub struct RunningMatch {
    pub index: usize,
    pub task: String,
    pub seed: i64,
    pub attacker: String,
    pub defender: Option<String>,
    pub benign: Vec<String>,
    /// Its game in the registry (watch it on the game page), once it runs.
    pub game: Option<u64>,
    /// Episodes recorded so far (all entrants).
    pub episodes: u64,
}

/// A match that finished.
#[derive(Debug, Clone, Serialize)]
pub struct FinishedMatch {
    pub index: usize,
    pub task: String,
    pub attacker: String,
    pub defender: Option<String>,
    pub episodes: u64,
    pub seconds: f64,
    /// (entrant, reason)
    pub forfeits: Vec<(String, String)>,
}

/// What the tournament page shows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LiveState {
    /// Bumped at every change, so readers can tell whether anything is new.
    pub version: u64,
    /// The tournament file.
    pub tournament: String,
    /// `I/N`, or `0/1` for the whole schedule.
    pub shard: String,
    /// Matches of this run's shard, finished earlier ones included.
    pub total: usize,
    /// Matches already in the store when the run began.
    pub resumed: usize,
    /// Matches played by this run.
    pub played: usize,
    pub forfeits: usize,
    /// Episodes recorded by this run.
    pub episodes: u64,
    pub episodes_per_match: u64,
    /// The run is over (the results are final).
    pub finished: bool,
    /// Seconds since the run began (at the last change).
    pub seconds: f64,
    pub running: Vec<RunningMatch>,
    pub recent: VecDeque<FinishedMatch>,
    /// Leaderboard, matrix and rating history, from every finished match in the store.
    pub results: Option<Results>,
    /// Whether `results` misses matches that finished since it was computed.
    pub results_stale: bool,
}

/// The shared live state of one run, and the registry its matches' games go to.
#[derive(Clone, Default)]
pub struct LiveTournament {
    state: Arc<Mutex<LiveState>>,
    pub registry: GameRegistry,
}

impl std::fmt::Debug for LiveTournament {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveTournament").finish_non_exhaustive()
    }
}

impl LiveTournament {
    pub fn new(registry: GameRegistry) -> Self {
        LiveTournament { state: Arc::default(), registry }
    }

    fn lock(&self) -> MutexGuard<'_, LiveState> {
        // A panic while holding the lock leaves plain data behind: keep using it.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn change(&self, f: impl FnOnce(&mut LiveState)) {
        let mut s = self.lock();
        f(&mut s);
        s.version += 1;
    }

    /// A copy of the state, if it changed since `version`.
    pub fn newer_than(&self, version: u64) -> Option<LiveState> {
        let s = self.lock();
        (s.version != version).then(|| s.clone())
    }

    pub fn snapshot(&self) -> LiveState {
        self.lock().clone()
    }

    pub(super) fn begin(&self, t: &Tournament, shard: String, total: usize, resumed: usize) {
        self.change(|s| {
            s.tournament = t.origin.clone();
            s.shard = shard;
            s.total = total;
            s.resumed = resumed;
            s.episodes_per_match = t.episodes;
        });
    }

    pub(super) fn match_started(&self, t: &Tournament, m: &Match, seconds: f64) {
        let name = |i: usize| t.entrants[i].name.clone();
        let running = RunningMatch {
            index: m.index,
            task: t.tasks[m.task].label.clone(),
            seed: m.seed,
            attacker: name(m.attacker),
            defender: m.defender.map(name),
            benign: m.benign.iter().map(|&i| name(i)).collect(),
            game: None,
            episodes: 0,
        };
        self.change(|s| {
            s.running.push(running);
            s.seconds = seconds;
        });
    }

    /// The match's game runs and is in the registry as `game`.
    pub(super) fn match_game(&self, index: usize, game: u64) {
        self.change(|s| {
            if let Some(m) = s.running.iter_mut().find(|m| m.index == index) {
                m.game = Some(game);
            }
        });
    }

    pub(super) fn episode(&self, index: usize) {
        self.change(|s| {
            s.episodes += 1;
            if let Some(m) = s.running.iter_mut().find(|m| m.index == index) {
                m.episodes += 1;
            }
        });
    }

    pub(super) fn match_finished(&self, r: &MatchResult, seconds: f64) {
        let done = FinishedMatch {
            index: r.row.id,
            task: r.row.task.clone(),
            attacker: r.row.attacker.clone(),
            defender: r.row.defender.clone(),
            episodes: r.episodes,
            seconds: r.row.seconds,
            forfeits: r.forfeits.iter().map(|f| (f.entrant.clone(), f.reason.clone())).collect(),
        };
        self.change(|s| {
            s.running.retain(|m| m.index != r.row.id);
            s.played += 1;
            s.forfeits += r.forfeits.len();
            s.recent.push_front(done);
            s.recent.truncate(RECENT);
            s.results_stale = true;
            s.seconds = seconds;
        });
    }

    pub(super) fn results(&self, results: Results) {
        self.change(|s| {
            s.results = Some(results);
            s.results_stale = false;
        });
    }

    pub(super) fn finish(&self, seconds: f64) {
        self.change(|s| {
            s.finished = true;
            s.seconds = seconds;
            s.running.clear();
        });
    }
}

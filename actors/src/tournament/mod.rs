//! Tournaments: users' agents (any program speaking the protocol) and built-in agents,
//! ranked over many matches, for hours or days.
//!
//! * [`config`]: the tournament file, checked before anything runs;
//! * [`schedule`]: the round robin, its fingerprint and shards;
//! * [`play`]: one match, refereed by the game itself, with forfeits;
//! * [`process`]: external entrants as process groups;
//! * [`store`]: the append-only SQLite log that makes a run resumable and mergeable;
//! * [`ratings`] and [`report`]: results recomputed from the log alone;
//! * [`progress`]: a bar or plain lines;
//! * [`live`]: progress and results for the web view, when a run has one.
//!
//! [`run`] plays the matches of a schedule (or a shard of it) that the store does not have
//! yet, up to `parallel` at once, each on one of the process's arbiters (one per core), and
//! writes every finished episode and match to the store as it finishes.

pub mod config;
pub mod live;
pub mod play;
pub mod process;
pub mod progress;
pub mod ratings;
pub mod report;
pub mod schedule;
pub mod store;

pub use config::{Tournament, TournamentTask};
pub use schedule::Shard;

use actix::prelude::*;
use config::EntrantKind;
use play::{play_match, MatchContext, MatchResult};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use store::{EntrantRow, EpisodeRow, Store, StoreError};

/// How to run a tournament.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The match log (created if missing; resumed if it holds this tournament).
    pub store: PathBuf,
    /// Outputs, entrants' logs and trajectories.
    pub out: PathBuf,
    pub shard: Shard,
    /// Override the file's `parallel`.
    pub parallel: Option<usize>,
    pub quiet: bool,
    /// Progress and results for the web view; each match's game is registered there while it
    /// runs (and keeps metrics).
    pub live: Option<live::LiveTournament>,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Matches of this shard already in the store when the run began.
    pub resumed: usize,
    /// Matches played now.
    pub played: usize,
    pub forfeits: usize,
    pub seconds: f64,
}

/// The entrants as the store remembers them.
pub fn entrant_rows(t: &Tournament) -> Vec<EntrantRow> {
    t.entrants
        .iter()
        .map(|e| EntrantRow {
            name: e.name.clone(),
            role: e.role.name().to_string(),
            kind: match &e.kind {
                EntrantKind::Builtin(b) => format!("builtin:{}", b.name()),
                EntrantKind::Command { .. } => "command".to_string(),
            },
        })
        .collect()
}

/// Plays every match of the shard that the store does not have; must run inside an actix
/// system.
pub async fn run(t: Tournament, options: &RunOptions) -> Result<RunSummary, StoreError> {
    let started = std::time::Instant::now();
    let fingerprint = schedule::fingerprint(&t);
    let mut store = Store::open(&options.store, &fingerprint, &entrant_rows(&t))?;
    store.set_meta("tournament", &t.origin)?;
    store.set_meta("shard", &format!("{}/{}", options.shard.index, options.shard.count))?;
    let discarded = store.discard_unfinished()?;
    let finished = store.finished()?;
    let all = schedule::schedule(&t);
    store.set_meta("schedule_size", &all.len().to_string())?;
    let mine: Vec<schedule::Match> = all.into_iter().filter(|m| options.shard.contains(m)).collect();
    let resumed = mine.iter().filter(|m| finished.contains(&m.index)).count();
    let todo: Vec<schedule::Match> = mine.into_iter().filter(|m| !finished.contains(&m.index)).collect();
    let mut progress = progress::Progress::new(todo.len(), options.quiet);
    let live = options.live.clone();
    if let Some(live) = &live {
        let shard = format!("{}/{}", options.shard.index, options.shard.count);
        live.begin(&t, shard, resumed + todo.len(), resumed);
        if resumed > 0 {
            live.results(ratings::compute(&store.contents()?));
        }
    }
    let mut computed = std::time::Instant::now();
    if resumed > 0 || discarded > 0 {
        progress.note(&format!(
            "resuming {}: {resumed} matches already played, {discarded} episodes of unfinished matches discarded",
            options.store.display()
        ));
    }
    let parallel = options.parallel.unwrap_or(t.parallel).max(1);
    let arbiters: Vec<ArbiterHandle> =
        (0..crate::bench::cores().min(parallel)).map(|_| Arbiter::new().handle()).collect();
    let io = Arbiter::new();
    let tournament = Arc::new(t);
    let (episodes_tx, mut episodes_rx) = tokio::sync::mpsc::unbounded_channel::<EpisodeRow>();
    let mut running = tokio::task::JoinSet::new();
    let mut next = 0;
    let mut pending: Vec<EpisodeRow> = Vec::new();
    let mut summary = RunSummary { resumed, played: 0, forfeits: 0, seconds: 0.0 };
    let mut flush = tokio::time::interval(Duration::from_millis(200));
    loop {
        while running.len() < parallel && next < todo.len() {
            let m = todo[next].clone();
            let ctx = MatchContext {
                tournament: tournament.clone(),
                arbiter: arbiters[next % arbiters.len()].clone(),
                io: io.handle(),
                out: options.out.clone(),
                episodes: episodes_tx.clone(),
                live: live.clone(),
            };
            if let Some(live) = &live {
                live.match_started(&tournament, &m, started.elapsed().as_secs_f64());
            }
            running.spawn_local(async move { play_match(&m, &ctx).await });
            next += 1;
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            done = running.join_next() => {
                let Some(Ok(result)) = done else { continue };
                while let Ok(row) = episodes_rx.try_recv() {
                    if let Some(live) = &live {
                        live.episode(row.match_id);
                    }
                    pending.push(row);
                }
                finish(&mut store, &mut pending, &result)?;
                summary.played += 1;
                summary.forfeits += result.forfeits.len();
                progress.match_done(&result);
                if let Some(live) = &live {
                    live.match_finished(&result, started.elapsed().as_secs_f64());
                }
            }
            Some(row) = episodes_rx.recv() => {
                if let Some(live) = &live {
                    live.episode(row.match_id);
                }
                pending.push(row);
            }
            _ = flush.tick() => {
                store.add_episodes(&pending)?;
                pending.clear();
                if let Some(live) = &live {
                    if live.snapshot().results_stale && computed.elapsed() >= live::RECOMPUTE_EVERY {
                        live.results(ratings::compute(&store.contents()?));
                        computed = std::time::Instant::now();
                    }
                }
            }
        }
    }
    progress.finish();
    if let Some(live) = &live {
        live.results(ratings::compute(&store.contents()?));
        live.finish(started.elapsed().as_secs_f64());
    }
    for a in arbiters {
        a.stop();
    }
    io.stop();
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Writes a finished match with its episodes still pending (and keeps the others pending).
fn finish(store: &mut Store, pending: &mut Vec<EpisodeRow>, r: &MatchResult) -> Result<(), StoreError> {
    let (mine, rest): (Vec<EpisodeRow>, Vec<EpisodeRow>) = pending.drain(..).partition(|e| e.match_id == r.row.id);
    *pending = rest;
    store.finish_match(&r.row, &mine, &r.forfeits)
}

/// Rebuilds every output in `out` from the store at `store`; returns the leaderboard table.
pub fn report(store: &Path, out: &Path) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let contents = Store::open_existing(store)?.contents()?;
    let results = ratings::compute(&contents);
    report::write_all(&results, &contents, out)?;
    Ok(report::table(&results))
}

/// Merges shard stores into `into` (created if missing), then reports into `out`.
pub fn merge(stores: &[PathBuf], into: &Path, out: &Path) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let first = stores.first().ok_or("no stores to merge")?;
    let c = Store::open_existing(first)?.contents()?;
    let mut target = Store::open(into, &c.fingerprint, &c.entrants)?;
    for s in stores {
        let contents = Store::open_existing(s)?.contents()?;
        target.merge_from(&contents).map_err(|e| format!("{}: {e}", s.display()))?;
    }
    drop(target);
    report(into, out)
}

//! `netsecgame tournament`: pairings of built-in agents over many episodes, K concurrent games
//! in one process, each game a full actor set of its own with the agents in-process.
//!
//! Results are aggregated as they arrive (nothing per episode is kept), so a run can go on for
//! hours with flat memory; the resident set size is sampled after warm-up and at the end.

use crate::agents::{AgentStopped, LocalAgent, PlayPlan, Reports};
use crate::game::{Game, GameConfig, GameEvent};
use actix::prelude::*;
use netsecgame::agents::BuiltinAgent as AgentKind;
use netsecgame::components::AgentStatus;
use netsecgame::game::{EpisodeEnd, EpisodeRecord, GameSettings};
use netsecgame::task::TaskConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum TournamentError {
    #[error("cannot read tournament file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("tournament {origin}: {message}")]
    Invalid { origin: String, message: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileFormat {
    #[serde(default = "one")]
    games: usize,
    #[serde(default)]
    episodes: Option<u64>,
    #[serde(default)]
    duration_s: Option<f64>,
    #[serde(default)]
    seed: u64,
    pairings: Vec<PairingSpec>,
}

fn one() -> usize {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PairingSpec {
    name: String,
    #[serde(default)]
    task: Option<String>,
    #[serde(default)]
    attacker: Option<String>,
    #[serde(default)]
    defender: Option<String>,
    #[serde(default)]
    benign: Option<String>,
}

/// One pairing: a task and the agents that play it together.
#[derive(Debug, Clone)]
pub struct Pairing {
    pub name: String,
    pub task: Arc<TaskConfig>,
    pub agents: Vec<AgentKind>,
}

/// A whole tournament.
#[derive(Debug, Clone)]
pub struct Tournament {
    pub games: usize,
    /// Episodes per pairing (over all its games).
    pub episodes: Option<u64>,
    /// Or: play each pairing this long.
    pub duration: Option<Duration>,
    pub seed: u64,
    pub pairings: Vec<Pairing>,
    /// Where games that save trajectories write them.
    pub trajectory_dir: PathBuf,
}

impl Tournament {
    pub fn load(path: &Path) -> Result<Tournament, TournamentError> {
        let origin = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| TournamentError::Io { path: origin.clone(), source })?;
        let invalid = |message: String| TournamentError::Invalid { origin: origin.clone(), message };
        let value: serde_json::Value = config::Config::builder()
            .add_source(config::File::from_str(&text, config::FileFormat::Yaml))
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| invalid(e.to_string()))?;
        let file: FileFormat = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut pairings = Vec::new();
        for p in file.pairings {
            let task = match &p.task {
                None => TaskConfig::default_task(),
                Some(t) => {
                    TaskConfig::load(&base.join(t)).map_err(|e| invalid(format!("pairing `{}`: {e}", p.name)))?
                }
            };
            let mut agents = Vec::new();
            for (slot, name) in [("attacker", &p.attacker), ("defender", &p.defender), ("benign", &p.benign)] {
                let Some(name) = name else { continue };
                let kind = AgentKind::parse(name).ok_or_else(|| {
                    invalid(format!("pairing `{}`: unknown {slot} `{name}` (known: {})", p.name, AgentKind::names()))
                })?;
                if kind.role().name().to_ascii_lowercase() != slot {
                    return Err(invalid(format!("pairing `{}`: `{name}` cannot play the {slot} slot", p.name)));
                }
                agents.push(kind);
            }
            if agents.is_empty() {
                return Err(invalid(format!("pairing `{}` has no agents", p.name)));
            }
            pairings.push(Pairing { name: p.name, task: Arc::new(task), agents });
        }
        if pairings.is_empty() {
            return Err(invalid("no pairings".into()));
        }
        if file.episodes.is_none() && file.duration_s.is_none() {
            return Err(invalid("set `episodes` or `duration_s`".into()));
        }
        Ok(Tournament {
            games: file.games.max(1),
            episodes: file.episodes,
            duration: file.duration_s.map(Duration::from_secs_f64),
            seed: file.seed,
            pairings,
            trajectory_dir: PathBuf::from("results/trajectories"),
        })
    }
}

/// Aggregates of one agent kind within one pairing.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AgentStats {
    pub episodes: u64,
    pub wins: u64,
    pub detected: u64,
    pub timeouts: u64,
    pub return_sum: f64,
    pub steps_sum: u64,
    pub blocks_sum: u64,
}

impl AgentStats {
    fn add(&mut self, r: &EpisodeRecord) {
        self.episodes += 1;
        match r.end {
            EpisodeEnd::Finished(AgentStatus::Success) => self.wins += 1,
            EpisodeEnd::Finished(AgentStatus::Fail) => self.detected += 1,
            EpisodeEnd::Finished(AgentStatus::TimeoutReached) => self.timeouts += 1,
            _ => {}
        }
        self.return_sum += r.episode_return;
        self.steps_sum += r.steps;
        self.blocks_sum += u64::from(r.blocks);
    }

    fn mean(&self, x: f64) -> f64 {
        if self.episodes == 0 {
            0.0
        } else {
            x / self.episodes as f64
        }
    }
}

/// One row of the results table.
#[derive(Debug, Clone, Serialize)]
pub struct ResultRow {
    pub pairing: String,
    pub scenario: String,
    pub agent: String,
    pub episodes: u64,
    pub win_rate: f64,
    pub mean_return: f64,
    pub mean_length: f64,
    pub detections: u64,
    pub timeouts: u64,
    pub mean_blocks: f64,
}

/// What a tournament measured.
#[derive(Debug, Clone, Serialize)]
pub struct TournamentReport {
    pub rows: Vec<ResultRow>,
    pub episodes: u64,
    pub seconds: f64,
    pub episodes_per_second: f64,
    pub rss_after_warmup_kib: u64,
    pub rss_end_kib: u64,
    pub errors: Vec<String>,
}

impl TournamentReport {
    /// Column headers and widths of the table (the CSV uses the same columns).
    const COLUMNS: [(&'static str, &'static str, usize); 10] = [
        ("pairing", "pairing", 28),
        ("scenario", "scenario", 20),
        ("agent", "agent", 18),
        ("episodes", "episodes", 8),
        ("win", "win_rate", 8),
        ("mean return", "mean_return", 11),
        ("mean length", "mean_length", 11),
        ("detected", "detections", 9),
        ("timeouts", "timeouts", 9),
        ("blocks", "mean_blocks", 8),
    ];

    /// A row's cells, formatted once for both outputs.
    fn cells(r: &ResultRow) -> [String; 10] {
        [
            r.pairing.clone(),
            r.scenario.clone(),
            r.agent.clone(),
            r.episodes.to_string(),
            format!("{:.3}", r.win_rate),
            format!("{:.2}", r.mean_return),
            format!("{:.2}", r.mean_length),
            r.detections.to_string(),
            r.timeouts.to_string(),
            format!("{:.2}", r.mean_blocks),
        ]
    }

    pub fn table(&self) -> String {
        let line = |cells: &[String]| {
            let mut out = String::new();
            for (i, (cell, (_, _, width))) in cells.iter().zip(Self::COLUMNS).enumerate() {
                // Text columns are left-aligned, numbers right-aligned.
                if i < 3 {
                    out.push_str(&format!("{cell:<width$} "));
                } else {
                    out.push_str(&format!("{cell:>width$} "));
                }
            }
            out.trim_end().to_string() + "\n"
        };
        let header: Vec<String> = Self::COLUMNS.iter().map(|(h, _, _)| h.to_string()).collect();
        let mut out = line(&header);
        for r in &self.rows {
            out.push_str(&line(&Self::cells(r)));
        }
        out.push_str(&format!(
            "{} episodes in {:.1} s ({:.0} episodes/s); RSS after warm-up {} KiB, at the end {} KiB\n",
            self.episodes, self.seconds, self.episodes_per_second, self.rss_after_warmup_kib, self.rss_end_kib
        ));
        out
    }

    pub fn csv(&self) -> String {
        let header: Vec<&str> = Self::COLUMNS.iter().map(|(_, c, _)| *c).collect();
        let mut out = header.join(",") + "\n";
        for r in &self.rows {
            out.push_str(&(Self::cells(r).join(",") + "\n"));
        }
        out
    }
}

/// Resident set size of this process, in KiB (0 where /proc is unavailable).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Per-kind aggregates of a pairing, and the agents' errors.
type PairingOutcome = (BTreeMap<AgentKind, AgentStats>, Vec<String>);

/// Collects the referee's records of one pairing's games.
struct Collector {
    stats: BTreeMap<AgentKind, AgentStats>,
    /// Agent names (`<kind>_<game>`) to kinds.
    kinds: BTreeMap<String, AgentKind>,
    /// The kind whose episodes count as the pairing's episodes (its first agent).
    lead: AgentKind,
    counter: Arc<AtomicU64>,
    agents_left: usize,
    errors: Vec<String>,
    finished: Option<tokio::sync::oneshot::Sender<PairingOutcome>>,
}

impl Actor for Collector {
    type Context = Context<Self>;
}

impl Handler<GameEvent> for Collector {
    type Result = ();
    fn handle(&mut self, event: GameEvent, _: &mut Context<Self>) {
        let GameEvent::EpisodeEnded(r) = event;
        // Episodes cut short by an agent's own departure at the end of its plan do not count.
        if r.end == EpisodeEnd::Left || r.end == EpisodeEnd::Reset {
            return;
        }
        let Some(&kind) = self.kinds.get(&r.name) else { return };
        if kind == self.lead {
            self.counter.fetch_add(1, Ordering::Relaxed);
        }
        self.stats.entry(kind).or_default().add(&r);
    }
}

impl Handler<AgentStopped> for Collector {
    type Result = ();
    fn handle(&mut self, d: AgentStopped, ctx: &mut Context<Self>) {
        if let Some(e) = d.error {
            self.errors.push(format!("{}: {e}", d.name));
        }
        self.agents_left -= 1;
        if self.agents_left == 0 {
            if let Some(tx) = self.finished.take() {
                let _ = tx.send((std::mem::take(&mut self.stats), std::mem::take(&mut self.errors)));
            }
            ctx.stop();
        }
    }
}

/// Plays one pairing over `games` concurrent games, spread over one arbiter per core.
async fn run_pairing(
    t: &Tournament,
    pairing: &Pairing,
    index: usize,
    counter: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    arbiters: &[ArbiterHandle],
) -> PairingOutcome {
    let per_game = t.episodes.map_or(u64::MAX, |e| e.div_ceil(t.games as u64));
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut kinds = BTreeMap::new();
    for g in 0..t.games {
        for kind in &pairing.agents {
            kinds.insert(format!("{}_{g}", kind.name()), *kind);
        }
    }
    let collector = Collector {
        stats: BTreeMap::new(),
        kinds,
        lead: pairing.agents[0],
        counter,
        agents_left: t.games * pairing.agents.len(),
        errors: Vec::new(),
        finished: Some(tx),
    }
    .start();
    for g in 0..t.games {
        let mut task = (*pairing.task).clone();
        task.required_players = pairing.agents.len();
        let mut settings = GameSettings::new(Arc::new(task));
        settings.max_agents = pairing.agents.len() + 4;
        let config = GameConfig::new(settings, (t.seed + g as u64) as i64, t.trajectory_dir.clone());
        let arbiter = &arbiters[g % arbiters.len()];
        let agents: Vec<(AgentKind, PlayPlan, u64)> = pairing
            .agents
            .iter()
            .enumerate()
            .map(|(a, kind)| {
                let plan =
                    PlayPlan { stop: Some(stop.clone()), ..PlayPlan::new(format!("{}_{g}", kind.name()), per_game) };
                (*kind, plan, t.seed ^ ((index as u64) << 32) ^ ((g as u64) << 8) ^ a as u64)
            })
            .collect();
        let collector = collector.clone();
        // The game and its agents live on one arbiter: their messages never cross threads.
        arbiter.spawn(async move {
            let game = Game::start(config);
            game.subscribe(collector.clone().recipient());
            for (kind, plan, seed) in agents {
                let reports = Reports { episodes: None, stopped: Some(collector.clone().recipient()) };
                LocalAgent::new(kind.create(seed), plan, game.coordinator.clone(), reports).start();
            }
        });
    }
    rx.await.unwrap_or_default()
}

/// Runs the tournament in the current actix system. `progress` prints to stderr every second.
pub async fn run(t: Tournament, progress: bool) -> TournamentReport {
    let start = Instant::now();
    let total_target = t.episodes.map(|e| e * t.pairings.len() as u64);
    let counter = Arc::new(AtomicU64::new(0));
    let warm_rss = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let ticker = {
        let (counter, warm_rss, done) = (counter.clone(), warm_rss.clone(), done.clone());
        actix_rt::spawn(async move {
            let mut last = 0;
            let mut ticks = 0u64;
            while !done.load(Ordering::Relaxed) {
                actix_rt::time::sleep(Duration::from_secs(1)).await;
                ticks += 1;
                let n = counter.load(Ordering::Relaxed);
                // Warm-up: the first 5% of the target, or 3 seconds for timed runs.
                let warmed = total_target.map_or(ticks >= 3, |t| n * 20 >= t && n > 0);
                if warmed && warm_rss.load(Ordering::Relaxed) == 0 {
                    warm_rss.store(rss_kib(), Ordering::Relaxed);
                }
                if progress {
                    let target = total_target.map_or(String::new(), |t| format!("/{t}"));
                    eprintln!(
                        "[{:>6.0} s] episodes {n}{target}  {} episodes/s  RSS {} KiB",
                        start.elapsed().as_secs_f64(),
                        n - last,
                        rss_kib()
                    );
                }
                last = n;
            }
        })
    };
    let arbiters: Vec<ArbiterHandle> = (0..crate::bench::cores()).map(|_| Arbiter::new().handle()).collect();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, pairing) in t.pairings.iter().enumerate() {
        let stop = Arc::new(AtomicBool::new(false));
        if let Some(d) = t.duration {
            let stop = stop.clone();
            actix_rt::spawn(async move {
                actix_rt::time::sleep(d).await;
                stop.store(true, Ordering::Relaxed);
            });
        }
        let (stats, errs) = run_pairing(&t, pairing, i, counter.clone(), stop, &arbiters).await;
        errors.extend(errs.into_iter().map(|e| format!("{}: {e}", pairing.name)));
        for kind in &pairing.agents {
            let s = stats.get(kind).cloned().unwrap_or_default();
            rows.push(ResultRow {
                pairing: pairing.name.clone(),
                scenario: pairing.task.topology.name.clone(),
                agent: kind.name().to_string(),
                episodes: s.episodes,
                win_rate: s.mean(s.wins as f64),
                mean_return: s.mean(s.return_sum),
                mean_length: s.mean(s.steps_sum as f64),
                // Only an attacker's Fail is a detection; a defender's Fail means it lost.
                detections: if kind.role() == netsecgame::components::AgentRole::Attacker { s.detected } else { 0 },
                timeouts: s.timeouts,
                mean_blocks: s.mean(s.blocks_sum as f64),
            });
        }
    }
    done.store(true, Ordering::Relaxed);
    ticker.abort();
    for a in arbiters {
        a.stop();
    }
    let seconds = start.elapsed().as_secs_f64();
    let episodes = counter.load(Ordering::Relaxed);
    let rss_end = rss_kib();
    let warm = warm_rss.load(Ordering::Relaxed);
    TournamentReport {
        rows,
        episodes,
        seconds,
        episodes_per_second: episodes as f64 / seconds.max(1e-9),
        rss_after_warmup_kib: if warm == 0 { rss_end } else { warm },
        rss_end_kib: rss_end,
        errors,
    }
}

/// Writes `tournament.json` and `tournament.csv` into `dir`.
pub fn write_results(report: &TournamentReport, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("tournament.json"), serde_json::to_string_pretty(report).map_err(std::io::Error::other)?)?;
    std::fs::write(dir.join("tournament.csv"), report.csv())
}

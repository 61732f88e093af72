//! `netsecgame analyze`: statistics of recorded trajectories, for the analyses researchers
//! run with upstream's `trajectory_analysis.py` and `gameplay_graphs.py`.
//!
//! Design:
//! * One pass over each file, one line at a time ([`input`]), each line decoded without
//!   copying ([`record`]) and folded into accumulators whose size depends on the game (steps,
//!   distinct states, actions and edges), never on the number of episodes. A multi-gigabyte
//!   file runs in the memory of its longest line plus its gameplay graph.
//! * Identities are upstream's ([`identity`]): the same states and actions make the same
//!   nodes and edges as `gameplay_graphs.py` builds, so the numbers can be compared.
//! * Each input file is a checkpoint: statistics are kept per file and shown side by side;
//!   the gameplay graph is shared, so its growth from one checkpoint to the next is measured.
//! * A bad line never stops the analysis: it is reported as a [`Problem`] (file, line, what is
//!   wrong) and the next line is read.
//!
//! [`analyze`] computes; [`output`] writes `summary.json`, the SVG charts ([`charts`]) and the
//! graph exports; [`report`] renders the summary for a terminal.

pub mod charts;
pub mod episodes;
pub mod graph;
pub mod identity;
pub mod input;
pub mod output;
pub mod record;
pub mod report;
pub mod steps;

use episodes::{AgentKey, EpisodeStats};
use graph::GameplayGraph;
use input::{LineError, Lines, Problem};
use netsecgame::components::ActionType;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use steps::StepStats;
use thiserror::Error;

/// What to analyse.
#[derive(Debug, Clone)]
pub struct Options {
    /// Keep only episodes with one of these end reasons (`Success`, `AgentStatus.Success`,
    /// `none` for episodes without one, or any other spelling a file uses); empty: all.
    pub end_reasons: Vec<String>,
    /// Read at most this many records of each file.
    pub max_episodes: Option<u64>,
    /// Steps drawn in the action-flow (Sankey) chart.
    pub flow_steps: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { end_reasons: Vec::new(), max_episodes: None, flow_steps: 12 }
    }
}

impl Options {
    fn keeps(&self, end_reason: Option<&str>) -> bool {
        if self.end_reasons.is_empty() {
            return true;
        }
        let shown = episodes::outcome_name(end_reason);
        self.end_reasons.iter().any(|r| {
            let wanted = episodes::outcome_name(Some(r));
            wanted.eq_ignore_ascii_case(&shown) || end_reason.is_some_and(|e| e == r)
        })
    }
}

/// What stops an analysis (bad lines do not: they are [`Problem`]s).
#[derive(Debug, Error)]
pub enum AnalyzeError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// The statistics of one input file.
#[derive(Debug)]
pub struct FileStats {
    pub path: PathBuf,
    /// Non-blank lines.
    pub lines: u64,
    /// Records decoded.
    pub records: u64,
    /// Lines that were not records (see the problems).
    pub bad_lines: u64,
    /// All analysed episodes (after the filter), then per agent.
    pub all: EpisodeStats,
    pub agents: BTreeMap<AgentKey, EpisodeStats>,
    pub steps: StepStats,
}

/// Everything [`analyze`] found.
#[derive(Debug)]
pub struct Analysis {
    pub files: Vec<FileStats>,
    pub graph: GameplayGraph,
    pub problems: Vec<Problem>,
    pub options: Options,
}

impl Analysis {
    /// Episodes analysed over all files.
    pub fn episodes(&self) -> u64 {
        self.files.iter().map(|f| f.all.episodes).sum()
    }
}

/// Problems kept per file; past this they are counted (in [`FileStats::bad_lines`]) but not
/// listed, so a file of garbage does not fill memory with messages.
pub const PROBLEMS_KEPT_PER_FILE: usize = 50;

/// Analyses `paths` in order (each a checkpoint). `on_problem` sees every problem as it is
/// found (the command prints them); the first [`PROBLEMS_KEPT_PER_FILE`] of each file are also
/// kept in the result.
pub fn analyze(
    paths: &[PathBuf],
    options: &Options,
    on_problem: &mut dyn FnMut(&Problem),
) -> Result<Analysis, AnalyzeError> {
    let mut graph = GameplayGraph::default();
    let mut files = Vec::with_capacity(paths.len());
    let mut problems = Vec::new();
    for path in paths {
        graph.start_checkpoint();
        let mut report = |p: Problem, kept: &mut usize| {
            on_problem(&p);
            if *kept < PROBLEMS_KEPT_PER_FILE {
                problems.push(p);
                *kept += 1;
            }
        };
        files.push(analyze_file(path, options, &mut graph, &mut report)?);
    }
    Ok(Analysis { files, graph, problems, options: options.clone() })
}

/// Scratch buffers reused from one record to the next.
#[derive(Default)]
struct Scratch {
    text: String,
    states: Vec<u32>,
    actions: Vec<u32>,
    types: Vec<usize>,
    changed: Vec<bool>,
}

fn analyze_file(
    path: &Path,
    options: &Options,
    graph: &mut GameplayGraph,
    report: &mut dyn FnMut(Problem, &mut usize),
) -> Result<FileStats, AnalyzeError> {
    let io = |source| AnalyzeError::Io { path: path.to_path_buf(), source };
    let mut lines = Lines::open(path).map_err(io)?;
    let mut stats = FileStats {
        path: path.to_path_buf(),
        lines: 0,
        records: 0,
        bad_lines: 0,
        all: EpisodeStats::default(),
        agents: BTreeMap::new(),
        steps: StepStats::new(options.flow_steps),
    };
    let mut kept = 0;
    let mut scratch = Scratch::default();
    while let Some(line) = lines.next_line().map_err(io)? {
        if input::is_blank(line.bytes) {
            continue;
        }
        stats.lines += 1;
        let number = line.number;
        let problem = |error| Problem { file: path.to_path_buf(), line: Some(number), error };
        let record = match input::decode(&line) {
            Ok(r) => r,
            Err(e) => {
                stats.bad_lines += 1;
                report(problem(e), &mut kept);
                continue;
            }
        };
        if let Err(e) = fold(&record, options, graph, &mut stats, &mut scratch) {
            stats.bad_lines += 1;
            report(problem(e), &mut kept);
            continue;
        }
        if options.max_episodes.is_some_and(|m| stats.records >= m) {
            break;
        }
    }
    if stats.lines == 0 {
        report(Problem { file: path.to_path_buf(), line: None, error: LineError::EmptyFile }, &mut kept);
    }
    Ok(stats)
}

/// Folds one record into the statistics.
fn fold(
    record: &record::Record<'_>,
    options: &Options,
    graph: &mut GameplayGraph,
    stats: &mut FileStats,
    s: &mut Scratch,
) -> Result<(), LineError> {
    let t = &record.trajectory;
    // Action types first: an unknown one makes the record unreadable, before anything counts.
    s.types.clear();
    for (i, a) in t.actions.iter().enumerate() {
        let ty = ActionType::parse(&a.action_type).ok_or_else(|| {
            LineError::NotARecord(format!("action {} has an unknown action type `{}`", i + 1, a.action_type))
        })?;
        s.types.push(steps::type_index(ty));
    }
    stats.records += 1;
    graph.count_record();
    let end_reason = record.end_reason.as_deref();
    if !options.keeps(end_reason) {
        return Ok(());
    }

    let ret: f64 = t.rewards.iter().sum();
    let key = AgentKey {
        role: record
            .agent_role
            .as_deref()
            .map_or_else(|| "unknown".into(), |r| r.rsplit('.').next().unwrap_or(r).into()),
        name: record.agent_name.as_deref().unwrap_or("unknown").into(),
    };
    stats.all.add(end_reason, t.actions.len(), ret, record.truncated);
    stats.agents.entry(key).or_default().add(end_reason, t.actions.len(), ret, record.truncated);
    if t.actions.is_empty() {
        return Ok(());
    }

    s.states.clear();
    for state in &t.states {
        identity::state_string(state, &mut s.text);
        s.states.push(graph.state_id(&s.text));
    }
    s.actions.clear();
    for (a, &ty) in t.actions.iter().zip(&s.types) {
        let name = ActionType::ALL[ty].name();
        identity::action_key(a, name, &mut s.text);
        s.actions.push(graph.action_id(&s.text, ty, || identity::action_label(a, name)));
    }
    s.changed.clear();
    s.changed.extend(s.states.windows(2).map(|w| w[0] != w[1]));
    stats.steps.add(&s.types, &s.changed);
    graph.add_play(&s.states, &s.actions, episodes::is_win(end_reason));
    Ok(())
}

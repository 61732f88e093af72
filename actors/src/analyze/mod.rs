//! `netsecgame analyze`: statistics of recorded trajectories, for the analyses researchers
//! run with upstream's `trajectory_analysis.py` and `gameplay_graphs.py`.
//!
//! Design:
//! * One pass over each file: chunks of whole lines are scanned on worker threads
//!   ([`pipeline`], [`input`], [`record`]) and folded in order on this thread into
//!   accumulators whose size depends on the game (steps, distinct states, actions and edges),
//!   never on the number of episodes. A multi-gigabyte file runs in the memory of a few chunks
//!   (or its longest line) plus its gameplay graph.
//! * A state written exactly as the one before it is found by a byte comparison, not a JSON
//!   scan ([`fast_states`]): most states of an episode repeat the last one.
//! * Only new text is decoded: a state or action whose exact text was seen before has the same
//!   identity, so a memo keyed by a 128-bit hash of the text ([`cache`]; the workers hash, this
//!   thread looks up) skips most of the work.
//! * Identities are upstream's ([`identity`]): the same states and actions make the same
//!   nodes and edges as `gameplay_graphs.py` builds, so the numbers can be compared.
//! * Each input file is a checkpoint: statistics are kept per file and shown side by side;
//!   the gameplay graph is shared, so its growth from one checkpoint to the next is measured.
//! * A bad line never stops the analysis: it is reported as a [`Problem`] (file, line, what is
//!   wrong) and the next line is read.
//!
//! [`analyze`] computes; [`output`] writes `summary.json`, the SVG charts ([`charts`]) and the
//! graph exports; [`report`] renders the summary for a terminal.

pub mod cache;
pub mod charts;
pub mod episodes;
pub mod fast_states;
pub mod graph;
pub mod graphml;
pub mod identity;
pub mod input;
pub mod output;
pub mod pipeline;
pub mod record;
pub mod report;
pub mod steps;

use episodes::{AgentKey, EpisodeStats};
use graph::GameplayGraph;
use input::{LineError, Problem};
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
    let mut scratch = Scratch::new();
    for path in paths {
        graph.start_checkpoint();
        let mut report = |p: Problem, kept: &mut usize| {
            on_problem(&p);
            if *kept < PROBLEMS_KEPT_PER_FILE {
                problems.push(p);
                *kept += 1;
            }
        };
        files.push(analyze_file(path, options, &mut graph, &mut scratch, &mut report)?);
    }
    Ok(Analysis { files, graph, problems, options: options.clone() })
}

/// Where a state or action of the current record stands.
#[derive(Clone, Copy)]
enum Slot {
    /// Already numbered.
    Known(u32),
    /// New text: its identity is entry `n` of the scratch pool.
    New(usize),
}

/// Scratch buffers reused from one record to the next, and the memos that live for the run.
struct Scratch {
    /// Identity strings of the record's new states and actions (a pool: strings keep their
    /// capacity from one record to the next).
    keys: Vec<String>,
    /// Per new state or action: the index of its text in the record.
    new_at: Vec<usize>,
    labels: Vec<String>,
    state_slots: Vec<Slot>,
    action_slots: Vec<(Slot, usize)>,
    states: Vec<u32>,
    actions: Vec<u32>,
    types: Vec<usize>,
    changed: Vec<bool>,
    state_memo: cache::TextMemo<u32>,
    action_memo: cache::TextMemo<(u32, usize)>,
    /// State texts known to be JSON, of records not counted (so not in `state_memo`).
    checked_states: cache::TextMemo<()>,
}

/// Distinct state and action texts remembered (see [`cache`]): at most about 33 and 8 MiB.
const STATE_MEMO_TEXTS: usize = 1 << 19;
const ACTION_MEMO_TEXTS: usize = 1 << 17;

impl Scratch {
    fn new() -> Self {
        Scratch {
            keys: Vec::new(),
            new_at: Vec::new(),
            labels: Vec::new(),
            state_slots: Vec::new(),
            action_slots: Vec::new(),
            states: Vec::new(),
            actions: Vec::new(),
            types: Vec::new(),
            changed: Vec::new(),
            state_memo: cache::TextMemo::new(STATE_MEMO_TEXTS),
            action_memo: cache::TextMemo::new(ACTION_MEMO_TEXTS),
            checked_states: cache::TextMemo::new(STATE_MEMO_TEXTS),
        }
    }

    /// A pool string for entry `n`, cleared.
    fn key(&mut self, n: usize) -> &mut String {
        if self.keys.len() == n {
            self.keys.push(String::new());
        }
        &mut self.keys[n]
    }
}

fn analyze_file(
    path: &Path,
    options: &Options,
    graph: &mut GameplayGraph,
    scratch: &mut Scratch,
    report: &mut dyn FnMut(Problem, &mut usize),
) -> Result<FileStats, AnalyzeError> {
    let io = |source| AnalyzeError::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io)?;
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
    pipeline::for_each_line(file, |number, result, bytes| {
        stats.lines += 1;
        let problem = |error| Problem { file: path.to_path_buf(), line: Some(number), error };
        let digest = match result {
            Ok(d) => d,
            Err(e) => {
                stats.bad_lines += 1;
                report(problem(e.clone()), &mut kept);
                return true;
            }
        };
        // The worker checked that the line is UTF-8 (a digest is made of nothing else), so the
        // fold reads bytes: no second look at the whole line on this thread.
        if let Err(e) = fold(digest, bytes, options, graph, &mut stats, scratch) {
            stats.bad_lines += 1;
            report(problem(e), &mut kept);
            return true;
        }
        options.max_episodes.is_none_or(|m| stats.records < m)
    })
    .map_err(io)?;
    if stats.lines == 0 {
        report(Problem { file: path.to_path_buf(), line: None, error: LineError::EmptyFile }, &mut kept);
    }
    Ok(stats)
}

/// Folds one record into the statistics. Everything that can fail (decoding the states and
/// actions) is done before anything is counted, so a bad record leaves no trace but its
/// problem.
fn fold(
    d: &record::Digest,
    line: &[u8],
    options: &Options,
    graph: &mut GameplayGraph,
    stats: &mut FileStats,
    s: &mut Scratch,
) -> Result<(), LineError> {
    let end_reason = d.end_reason.as_deref();
    let keep = options.keeps(end_reason);
    // What is wrong with a line is said as a single reading of it would: a syntax error
    // anywhere first (the workers only found where each state ends: see `fast_states`), then
    // a bad action, then a bad state. States are decoded only where they count.
    s.new_at.clear();
    s.labels.clear();
    let (n, state_error) = decode_states(d, line, s, keep && !d.actions.is_empty())?;
    let n = decode_actions(d, line, s, n)?;
    if let Some(e) = state_error {
        return Err(e);
    }

    stats.records += 1;
    graph.count_record();
    if !keep {
        return Ok(());
    }
    let key = AgentKey {
        role: d.agent_role.as_deref().map_or_else(|| "unknown".into(), |r| r.rsplit('.').next().unwrap_or(r).into()),
        name: d.agent_name.as_deref().unwrap_or("unknown").into(),
    };
    stats.all.add(end_reason, d.actions.len(), d.ret, d.truncated);
    stats.agents.entry(key).or_default().add(end_reason, d.actions.len(), d.ret, d.truncated);
    if d.actions.is_empty() {
        return Ok(());
    }
    debug_assert_eq!(n, s.new_at.len());

    // Number what is new, remember its text, and build the play.
    s.actions.clear();
    s.types.clear();
    let mut label = 0;
    for &(slot, ty) in &s.action_slots {
        let id = match slot {
            Slot::Known(id) => id,
            Slot::New(k) => {
                let id = graph.action_id(&s.keys[k], ty, || std::mem::take(&mut s.labels[label]));
                label += 1;
                let at = s.new_at[k];
                s.action_memo.insert(d.action_hashes[at], (id, ty));
                id
            }
        };
        s.actions.push(id);
        s.types.push(ty);
    }
    s.states.clear();
    let mut last_new = None;
    for &slot in &s.state_slots {
        let id = match slot {
            Slot::Known(id) => id,
            Slot::New(k) => match last_new {
                Some((lk, id)) if lk == k => id,
                _ => {
                    let id = graph.state_id(&s.keys[k]);
                    let at = s.new_at[k];
                    s.state_memo.insert(d.state_hashes[at], id);
                    last_new = Some((k, id));
                    id
                }
            },
        };
        s.states.push(id);
    }
    s.changed.clear();
    s.changed.extend(s.states.windows(2).map(|w| w[0] != w[1]));
    stats.steps.add(&s.types, &s.changed);
    graph.add_play(&s.states, &s.actions, episodes::is_win(end_reason));
    Ok(())
}

/// Classifies each action as known (its text was seen) or new (decoded, its identity key
/// written to the pool), continuing the pool at entry `n`. Returns the pool entries used.
fn decode_actions(d: &record::Digest, line: &[u8], s: &mut Scratch, mut n: usize) -> Result<usize, LineError> {
    s.action_slots.clear();
    for (i, range) in d.actions.iter().enumerate() {
        let text = &line[range.clone()];
        if let Some((id, ty)) = s.action_memo.get(d.action_hashes[i]) {
            s.action_slots.push((Slot::Known(id), ty));
            continue;
        }
        let bad = |e: String| LineError::NotARecord(format!("action {} (of {}): {e}", i + 1, d.actions.len()));
        let action: record::RawAction<'_> = serde_json::from_slice(text).map_err(|e| bad(e.to_string()))?;
        let ty = ActionType::parse(&action.action_type)
            .ok_or_else(|| bad(format!("unknown action type `{}`", action.action_type)))?;
        let ty_index = steps::type_index(ty);
        identity::action_key(&action, ty.name(), s.key(n));
        s.labels.push(identity::action_label(&action, ty.name()));
        s.new_at.push(i);
        s.action_slots.push((Slot::New(n), ty_index));
        n += 1;
    }
    Ok(n)
}

/// Classifies each state as known or new, as [`decode_actions`] does, starting the pool. A
/// state written exactly as the one before it is the same state: it takes the same slot
/// without even a look-up (most steps leave the state unchanged).
///
/// With `full` false (a record the analysis does not count) new states are only checked to
/// be JSON. A syntax error is the line's error at once, as a single reading of the line words
/// it; the first state that is JSON but not a state is returned beside the pool entries, so
/// that a bad action, which a single reading finds first, is reported before it.
fn decode_states(
    d: &record::Digest,
    line: &[u8],
    s: &mut Scratch,
    full: bool,
) -> Result<(usize, Option<LineError>), LineError> {
    s.state_slots.clear();
    let mut n = 0;
    let mut error = None;
    let mut previous: Option<(&[u8], Slot)> = None;
    for (i, range) in d.states.iter().enumerate() {
        let text = &line[range.clone()];
        let hash = d.state_hashes[i];
        let slot = match previous {
            Some((_, slot)) if d.repeats[i] => slot,
            Some((p, slot)) if p == text => slot,
            _ => match s.state_memo.get(hash) {
                Some(id) => Slot::Known(id),
                None if full && error.is_none() => match serde_json::from_slice::<record::State<'_>>(text) {
                    Ok(state) => {
                        identity::state_string(&state, s.key(n));
                        s.new_at.push(i);
                        n += 1;
                        Slot::New(n - 1)
                    }
                    Err(e) if is_syntax(&e) => return Err(line_error(line, i, d.states.len(), &e)),
                    Err(e) => {
                        error = Some(state_error(i, d.states.len(), &e));
                        Slot::Known(0)
                    }
                },
                None => {
                    if s.checked_states.get(hash).is_none() {
                        match serde_json::from_slice::<serde::de::IgnoredAny>(text) {
                            Ok(_) => s.checked_states.insert(hash, ()),
                            Err(e) => return Err(line_error(line, i, d.states.len(), &e)),
                        }
                    }
                    Slot::Known(0) // not used: this record adds no play
                }
            },
        };
        s.state_slots.push(slot);
        previous = Some((text, slot));
    }
    Ok((n, error))
}

fn is_syntax(e: &serde_json::Error) -> bool {
    matches!(e.classify(), serde_json::error::Category::Syntax | serde_json::error::Category::Eof)
}

fn state_error(i: usize, of: usize, e: &serde_json::Error) -> LineError {
    LineError::NotARecord(format!("state {} (of {of}): {e}", i + 1))
}

/// The error of a line in which state `i` is not JSON, worded as a single reading of the
/// whole line words it (its column counted along the line).
fn line_error(line: &[u8], i: usize, of: usize, e: &serde_json::Error) -> LineError {
    match input::decode(&input::Line { number: 0, bytes: line, complete: true }) {
        Err(whole) => whole,
        Ok(_) => state_error(i, of, e), // cannot happen: the state's text is part of the line
    }
}

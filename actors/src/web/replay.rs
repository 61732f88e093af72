//! Replays: a trajectory file (JSON lines, as our server or upstream's writes them) uploaded
//! from the replay page, read into episodes the page steps through on the same graph as a
//! live game, with the per-file summary of `netsecgame analyze` and two of its charts.
//!
//! Bounded by construction:
//! * the upload streams to a scratch file and stops at `--http_max_upload` bytes (413);
//! * at most [`CONCURRENT`] uploads are read at once (503 past that), on the blocking pool,
//!   never on the thread that serves pages;
//! * the file is read one line (one episode) at a time; states leave out data contents and a
//!   state equal to the one before it is sent as `null`; past [`STATES_BUDGET`] bytes of
//!   states, later episodes are listed without their steps (`"omitted": true`);
//! * bad lines are reported (line number and what is wrong, the first [`PROBLEMS_KEPT`]) and
//!   skipped, as `netsecgame analyze` does; a file with no record at all is refused (422).
//!
//! The graph is the smallest embedded scenario that has every address the file names, or,
//! when none has, one drawn from the states themselves.

use super::graph;
use super::views::{action_json, state_json};
use crate::analyze::input::{decode, is_blank, Line};
use crate::analyze::{self, charts, report};
use netsecgame::action::Action;
use netsecgame::components::GameState;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use thiserror::Error;

/// Uploads read at the same time.
pub const CONCURRENT: usize = 2;
/// Bytes of (estimated) state JSON sent for one file; later episodes are listed only.
pub const STATES_BUDGET: usize = 48 << 20;
/// Bad lines described in the answer (all are counted).
pub const PROBLEMS_KEPT: usize = 50;

/// Why a replay was refused.
#[derive(Debug, Error)]
pub enum ReplayError {
    #[error("the file is larger than {limit} bytes (the limit set by --http_max_upload)")]
    TooLarge { limit: usize },
    #[error("the upload is empty: send a trajectory file (JSON lines, one episode per line)")]
    Empty,
    #[error("no trajectory record in the file ({problem})")]
    NoRecords { problem: String, problems: Vec<Value> },
    #[error("cannot keep the upload: {0}")]
    Io(#[from] std::io::Error),
}

/// A scratch folder holding one upload, removed when dropped.
pub struct Scratch {
    pub dir: PathBuf,
    pub file: PathBuf,
}

impl Scratch {
    /// A new folder with a file named after the upload (so the analysis names it so).
    pub fn new(name: Option<&str>) -> std::io::Result<Scratch> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("netsecgame-replay-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch { file: dir.join(safe_name(name)), dir })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The upload's file name reduced to a harmless one (no folders, no odd characters).
fn safe_name(name: Option<&str>) -> String {
    let base = name.and_then(|n| n.rsplit(['/', '\\']).next()).unwrap_or("");
    let clean: String =
        base.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).take(100).collect();
    if clean.trim_matches('.').is_empty() {
        "upload.jsonl".into()
    } else {
        clean
    }
}

/// Collects every address a state names, and everything it knows, for the graph.
fn note(state: &GameState, ips: &mut BTreeSet<netsecgame::components::Ip>, all: &mut GameState) {
    ips.extend(state.known_hosts.iter().chain(&state.controlled_hosts).copied());
    ips.extend(state.known_services.keys().chain(state.known_data.keys()).chain(state.known_blocks.keys()).copied());
    all.known_networks.extend(state.known_networks.iter().copied());
    all.known_hosts.extend(state.known_hosts.iter().copied());
    all.controlled_hosts.extend(state.controlled_hosts.iter().copied());
    for (ip, s) in &state.known_services {
        all.known_services.entry(*ip).or_default().extend(s.iter().cloned());
    }
    for (ip, d) in &state.known_data {
        all.known_data
            .entry(*ip)
            .or_default()
            .extend(d.iter().map(|x| netsecgame::components::Data { content: "".into(), ..x.clone() }));
    }
    for (ip, b) in &state.known_blocks {
        all.known_blocks.entry(*ip).or_default().extend(b.iter().copied());
    }
}

/// Reads the file at `path` into the replay the page shows; `preferred` are the scenarios to
/// draw it on when several fit (see [`graph::guess_scenario`]).
pub fn load(path: &Path, bytes: u64, preferred: &[String]) -> Result<Value, ReplayError> {
    let mut reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let mut buf = Vec::new();
    let mut number = 0u64;
    let (mut records, mut bad) = (0u64, 0u64);
    let mut problems = Vec::new();
    let mut episodes = Vec::new();
    let mut budget = STATES_BUDGET;
    let mut ips = BTreeSet::new();
    let mut all = GameState::default();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        number += 1;
        let complete = buf.last() == Some(&b'\n');
        let bytes = if complete { &buf[..buf.len() - 1] } else { &buf[..] };
        if is_blank(bytes) {
            continue;
        }
        let mut problem = |message: String| {
            bad += 1;
            if problems.len() < PROBLEMS_KEPT {
                problems.push(json!({"line": number, "message": message}));
            }
        };
        let record = match decode(&Line { number, bytes, complete }) {
            Ok(r) => r,
            Err(e) => {
                problem(e.to_string());
                continue;
            }
        };
        // States first: a record whose states do not decode is a bad line, not an episode.
        let mut states = Vec::with_capacity(record.trajectory.states.len());
        let mut failed = None;
        let mut previous: Option<&str> = None;
        let mut cost = 0usize;
        for (i, raw) in record.trajectory.states.iter().enumerate() {
            if previous == Some(raw.get()) {
                states.push(None);
                continue;
            }
            previous = Some(raw.get());
            let decoded = serde_json::from_str::<Value>(raw.get())
                .map_err(|e| e.to_string())
                .and_then(|v| GameState::from_wire(&v).map_err(|e| e.to_string()));
            match decoded {
                Ok(s) => {
                    note(&s, &mut ips, &mut all);
                    cost += s.approx_json_len();
                    states.push(Some(s));
                }
                Err(e) => {
                    failed = Some(format!("state {i} does not decode: {e}"));
                    break;
                }
            }
        }
        if let Some(message) = failed {
            problem(message);
            continue;
        }
        records += 1;
        let actions: Vec<Value> = record
            .trajectory
            .actions
            .iter()
            .map(|raw| match Action::from_json_bytes(raw.get().as_bytes()) {
                Ok(a) => action_json(&a),
                Err(e) => json!({"type": "?", "params": {}, "text": format!("an action this server cannot read: {e}")}),
            })
            .collect();
        cost += actions.len() * 200;
        let keep = cost <= budget;
        if keep {
            budget -= cost;
        }
        let role = record.agent_role.as_deref().map(|r| r.rsplit('.').next().unwrap_or(r).to_string());
        episodes.push(json!({
            "line": number,
            "agent_name": record.agent_name.as_deref(),
            "agent_role": role,
            "end_reason": record.end_reason.as_deref().map(|r| r.rsplit('.').next().unwrap_or(r)),
            "truncated": record.truncated,
            "steps": actions.len(),
            "return": record.trajectory.rewards.iter().sum::<f64>(),
            "rewards": if keep { json!(record.trajectory.rewards) } else { Value::Null },
            "actions": if keep { Value::Array(actions) } else { Value::Null },
            "states": if keep {
                Value::Array(states.iter().map(|s| s.as_ref().map_or(Value::Null, state_json)).collect())
            } else {
                Value::Null
            },
            "omitted": !keep,
        }));
    }
    if number == 0 {
        return Err(ReplayError::Empty);
    }
    if records == 0 {
        let problem = problems.first().and_then(|p| p["message"].as_str()).unwrap_or("no line is a record").to_string();
        return Err(ReplayError::NoRecords { problem: format!("line 1: {problem}"), problems });
    }
    let graph = match graph::guess_scenario(&ips, preferred) {
        Some(topo) => graph::of_topology(&topo, None),
        None => graph::from_states([&all]),
    };
    Ok(json!({
        "name": path.file_name().map(|n| n.to_string_lossy().into_owned()),
        "bytes": bytes,
        "lines": number,
        "records": records,
        "bad_lines": bad,
        "problems": problems,
        "episodes": episodes,
        "graph": graph,
        "analysis": analysis(path),
    }))
}

/// `netsecgame analyze` on the file: its summary (as in `summary.json`), the text it prints,
/// and the action charts as SVG. An analysis that fails is reported, not fatal: the replay
/// is still worth showing.
fn analysis(path: &Path) -> Value {
    let a = match analyze::analyze(&[path.to_path_buf()], &analyze::Options::default(), &mut |_| {}) {
        Ok(a) => a,
        Err(e) => return json!({"error": e.to_string()}),
    };
    let stats = a.graph.stats();
    let summary = report::summary_json(&a, &stats, &[], json!({}));
    let text = report::text(&a, &stats);
    let mut svgs = serde_json::Map::new();
    // The chart writers write files: into a scratch folder of their own, gone with it.
    if let (Some(f), Ok(scratch)) = (a.files.first(), Scratch::new(None)) {
        let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let per_step = scratch.dir.join("actions_per_step.svg");
        let flow = scratch.dir.join("action_flow.svg");
        if charts::actions_per_step(&per_step, &f.steps, &format!("Action types per step — {name}"), 100).is_ok() {
            svgs.insert("actions_per_step".into(), json!(std::fs::read_to_string(&per_step).ok()));
        }
        if charts::action_flow(&flow, &f.steps, &format!("Action flow by step — {name}")).is_ok() {
            svgs.insert("action_flow".into(), json!(std::fs::read_to_string(&flow).ok()));
        }
    }
    json!({"summary": summary["files"][0], "graph": summary["graph"], "text": text, "charts": svgs})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/analyze").join(name)
    }

    #[test]
    fn both_servers_files_replay_on_their_scenario() {
        let listing = || std::fs::read_dir(data("")).unwrap().count();
        let files = listing();
        for name in ["ours_two_networks_tiny.jsonl", "upstream_two_networks_tiny.jsonl"] {
            let path = data(name);
            let r = load(&path, 0, &["two_networks_tiny".into()]).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(r["bad_lines"], 0, "{name}: {}", r["problems"]);
            let episodes = r["episodes"].as_array().unwrap();
            assert!(!episodes.is_empty());
            let e = &episodes[0];
            let steps = e["steps"].as_u64().unwrap() as usize;
            assert_eq!(e["actions"].as_array().unwrap().len(), steps);
            assert_eq!(e["states"].as_array().unwrap().len(), steps + 1);
            assert!(e["states"][0]["controlled_hosts"].is_array(), "the first state is always there");
            assert_eq!(r["graph"]["scenario"], "two_networks_tiny", "{name}");
            assert!(r["analysis"]["summary"]["records"].as_u64().unwrap() > 0, "{}", r["analysis"]);
            assert!(r["analysis"]["charts"]["action_flow"].as_str().unwrap().contains("<svg"));
        }
        assert_eq!(listing(), files, "nothing is written next to the file read");
    }

    #[test]
    fn bad_lines_are_reported_and_an_empty_file_refused() {
        let s = Scratch::new(Some("../../etc/passwd")).unwrap();
        assert!(s.file.ends_with("passwd") && s.file.starts_with(std::env::temp_dir()));
        let good = std::fs::read_to_string(data("ours_two_networks_tiny.jsonl")).unwrap();
        let first = good.lines().next().unwrap();
        std::fs::write(&s.file, format!("not json\n{first}\n{{\"trajectory\": 3}}\n{}", &first[..first.len() / 2]))
            .unwrap();
        let r = load(&s.file, 0, &[]).unwrap();
        assert_eq!(r["records"], 1);
        assert_eq!(r["bad_lines"], 3);
        let lines: Vec<u64> = r["problems"].as_array().unwrap().iter().map(|p| p["line"].as_u64().unwrap()).collect();
        assert_eq!(lines, [1, 3, 4]);
        assert!(r["problems"][2]["message"].as_str().unwrap().contains("truncated"), "{}", r["problems"]);
        std::fs::write(&s.file, "").unwrap();
        assert!(matches!(load(&s.file, 0, &[]), Err(ReplayError::Empty)));
        std::fs::write(&s.file, "[1, 2]\n").unwrap();
        match load(&s.file, 0, &[]) {
            Err(ReplayError::NoRecords { problems, .. }) => assert_eq!(problems.len(), 1),
            other => panic!("{other:?}"),
        }
    }
}

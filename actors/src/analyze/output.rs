//! Writing an analysis to a folder: `summary.json`, the SVG charts, the gameplay graph
//! (GraphML written by [`super::graphml`], and/or DOT through petgraph) and the edge table `edges.csv` (upstream's
//! `calculate_edge_play_likelihoods` printout, one row per edge, one column per checkpoint).
//!
//! With one input file the charts are `actions_per_step.svg`, `action_flow.svg` and
//! `efficiency.svg`; with several, each file's charts carry its number (`_1`, `_2`, ... in the
//! order given), `efficiency.svg` compares them and `graph_growth.svg` follows the graph.

use super::charts::{self, ChartError};
use super::graph::{play_likelihood, EdgeTable, GameplayGraph};
use super::report;
use super::Analysis;
use netsecgame::components::ActionType;
use petgraph::graph::DiGraph;
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum OutputError {
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Chart(#[from] ChartError),
    #[error("the thread writing the graph files panicked")]
    Thread,
}

/// Which graph exports to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphFormats {
    pub graphml: bool,
    pub dot: bool,
}

/// What was written.
#[derive(Debug)]
pub struct Written {
    pub files: Vec<PathBuf>,
    pub summary: Value,
    pub text: String,
}

/// Writes everything into `dir` (created if needed).
pub fn write(a: &Analysis, dir: &Path, formats: GraphFormats) -> Result<Written, OutputError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| OutputError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    // The edge table and the graph exports (most of the bytes) are written on a second thread
    // while this one computes the graph's statistics and draws the charts.
    std::thread::scope(|scope| {
        let graph_files = scope.spawn(|| write_graph_files(a, dir, formats));
        let mut written = Vec::new();
        let stats = a.graph.stats();
        let many = a.files.len() > 1;

        let mut charts_per_file = Vec::new();
        for (i, f) in a.files.iter().enumerate() {
            let suffix = if many { format!("_{}", i + 1) } else { String::new() };
            let name = f.path.file_name().map_or_else(|| f.path.display().to_string(), |n| n.to_string_lossy().into());
            let mut charts = Map::new();
            let steps_file = format!("actions_per_step{suffix}.svg");
            let path = dir.join(&steps_file);
            charts::actions_per_step(&path, &f.steps, &format!("Action types per step — {name}"), 100)?;
            written.push(path);
            charts.insert("actions_per_step".into(), json!(steps_file));
            let flow_file = format!("action_flow{suffix}.svg");
            let path = dir.join(&flow_file);
            charts::action_flow(&path, &f.steps, &format!("Action flow by step — {name}"))?;
            written.push(path);
            charts.insert("action_flow".into(), json!(flow_file));
            charts_per_file.push(charts);
        }
        let names: Vec<String> = a
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let n = f.path.file_name().map_or_else(|| f.path.display().to_string(), |n| n.to_string_lossy().into());
                if many {
                    format!("{} {n}", i + 1)
                } else {
                    n
                }
            })
            .collect();
        let eff_inputs: Vec<(&str, &super::steps::StepStats)> =
            names.iter().map(String::as_str).zip(a.files.iter().map(|f| &f.steps)).collect();
        let path = dir.join("efficiency.svg");
        charts::efficiency(&path, &eff_inputs)?;
        written.push(path);
        let mut exports = Map::new();
        exports.insert("efficiency_chart".into(), json!("efficiency.svg"));
        if many {
            let path = dir.join("graph_growth.svg");
            charts::graph_growth(&path, &stats)?;
            written.push(path);
            exports.insert("growth_chart".into(), json!("graph_growth.svg"));
        }

        let (files, graph_exports) = graph_files.join().map_err(|_| OutputError::Thread)??;
        written.extend(files);
        exports.extend(graph_exports);
        let summary = report::summary_json(a, &stats, &charts_per_file, Value::Object(exports));
        let path = dir.join("summary.json");
        let text = serde_json::to_string_pretty(&summary).expect("JSON values serialize");
        std::fs::write(&path, text + "\n").map_err(io(&path))?;
        written.push(path);
        Ok(Written { files: written, summary, text: report::text(a, &stats) })
    })
}

/// The edge table and the requested graph exports, with their entries for the summary.
fn write_graph_files(
    a: &Analysis,
    dir: &Path,
    formats: GraphFormats,
) -> Result<(Vec<PathBuf>, Map<String, Value>), OutputError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| OutputError::Io { path, source }
    };
    let mut written = Vec::new();
    let mut exports = Map::new();
    let edges = a.graph.edge_table();
    let path = dir.join("edges.csv");
    write_edges_csv(&a.graph, &edges, &path).map_err(io(&path))?;
    written.push(path);
    exports.insert("edges_csv".into(), json!("edges.csv"));
    if formats.graphml {
        let path = dir.join("gameplay_graph.graphml");
        super::graphml::write(&a.graph, &edges, &path).map_err(io(&path))?;
        written.push(path);
        exports.insert("graphml".into(), json!("gameplay_graph.graphml"));
    }
    if formats.dot {
        let g = petgraph_of(&a.graph, &edges);
        let path = dir.join("gameplay_graph.dot");
        write_dot(&g, &path).map_err(io(&path))?;
        written.push(path);
        exports.insert("dot".into(), json!("gameplay_graph.dot"));
    }

    Ok((written, exports))
}

fn write_edges_csv(g: &GameplayGraph, table: &EdgeTable, path: &Path) -> std::io::Result<()> {
    use std::fmt::Write as _;
    let mut w = BufWriter::with_capacity(1 << 16, File::create(path)?);
    let n = g.checkpoints.len();
    // Rows are built in a String and written whole, from parts made once: each action's
    // `label,type` columns, and the likelihood text of each small count (counts repeat: most
    // edges are played a few times). 109,351 rows take a few milliseconds.
    let mut row = String::with_capacity(256);
    row.push_str("source,target,action,action_type");
    for c in 1..=n {
        let _ = write!(row, ",count_{c}");
    }
    for c in 1..=n {
        let _ = write!(row, ",play_likelihood_{c}");
    }
    row.push('\n');
    w.write_all(row.as_bytes())?;
    let actions: Vec<String> = g
        .action_info
        .iter()
        .map(|(ty, label)| format!("{},{}", csv_field(label), ActionType::ALL[*ty].name()))
        .collect();
    const SMALL: usize = 1024;
    let likelihood_text: Vec<Vec<String>> = g
        .checkpoints
        .iter()
        .map(|cp| (0..SMALL as u64).map(|k| play_likelihood(k, cp.records).to_string()).collect())
        .collect();
    let mut int = itoa::Buffer::new();
    for (i, e) in table.edges.iter().enumerate() {
        let counts = table.counts(i);
        row.clear();
        row.push_str(int.format(e.0));
        row.push(',');
        row.push_str(int.format(e.1));
        row.push(',');
        row.push_str(&actions[e.2 as usize]);
        for &k in counts {
            row.push(',');
            row.push_str(int.format(k));
        }
        for (c, &k) in counts.iter().enumerate() {
            row.push(',');
            match likelihood_text[c].get(k as usize) {
                Some(text) => row.push_str(text),
                None => {
                    let _ = write!(row, "{}", play_likelihood(k, g.checkpoints[c].records));
                }
            }
        }
        row.push('\n');
        w.write_all(row.as_bytes())?;
    }
    w.flush()
}

fn csv_field(s: &str) -> Cow<'_, str> {
    if s.contains([',', '"', '\n']) {
        Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(s)
    }
}

/// A node of the DOT graph: a state.
struct NodeW<'g> {
    id: u32,
    state: &'g str,
}

/// An edge of the DOT graph: an action, with its count per checkpoint.
struct EdgeW<'g> {
    action: &'g str,
    action_type: &'static str,
    counts: Vec<u64>,
}

// petgraph's `Dot` wants Display weights even when the labels come from attribute getters.
impl std::fmt::Display for NodeW<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s{}", self.id)
    }
}
impl std::fmt::Display for EdgeW<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.action_type)
    }
}

fn petgraph_of<'g>(g: &'g GameplayGraph, table: &EdgeTable) -> DiGraph<NodeW<'g>, EdgeW<'g>> {
    let labels = g.states.labels();
    let mut out = DiGraph::with_capacity(labels.len(), table.edges.len());
    // States are numbered as they were met, so node index == state number.
    let nodes: Vec<_> =
        labels.iter().enumerate().map(|(i, s)| out.add_node(NodeW { id: i as u32, state: s })).collect();
    for (i, e) in table.edges.iter().enumerate() {
        let (ty, label) = &g.action_info[e.2 as usize];
        let counts = table.counts(i);
        out.add_edge(
            nodes[e.0 as usize],
            nodes[e.1 as usize],
            EdgeW { action: label, action_type: ActionType::ALL[*ty].name(), counts: counts.to_vec() },
        );
    }
    out
}

fn write_dot(g: &DiGraph<NodeW<'_>, EdgeW<'_>>, path: &Path) -> std::io::Result<()> {
    use petgraph::dot::{Config, Dot};
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let edge_attrs = |_, e: petgraph::graph::EdgeReference<'_, EdgeW<'_>>| {
        let w = e.weight();
        format!("label=\"{}\" tooltip=\"{}\" weight={}", w.action_type, esc(w.action), w.counts.iter().sum::<u64>())
    };
    let node_attrs = |_, (_, n): (petgraph::graph::NodeIndex, &NodeW<'_>)| {
        format!("label=\"s{}\" tooltip=\"{}\"", n.id, esc(n.state))
    };
    let dot = Dot::with_attr_getters(g, &[Config::NodeNoLabel, Config::EdgeNoLabel], &edge_attrs, &node_attrs);
    let mut w = BufWriter::new(File::create(path)?);
    write!(w, "{dot}")?;
    w.flush()
}

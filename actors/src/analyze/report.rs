//! The summary: as JSON (`summary.json`, every number the analysis has) and as text for the
//! terminal (the numbers a reader looks at first; several files side by side).

use super::episodes::{wilson, EpisodeStats};
use super::graph::GraphStats;
use super::steps::{StepStats, TYPES};
use super::{Analysis, FileStats};
use netsecgame::components::ActionType;
use serde_json::{json, Map, Value};
use std::fmt::Write;

/// The JSON form of one set of episodes.
pub fn episodes_json(s: &EpisodeStats) -> Value {
    let (lo, hi) = wilson(s.wins, s.episodes);
    json!({
        "episodes": s.episodes,
        "wins": s.wins,
        "win_rate": s.win_rate(),
        "win_rate_95ci": [lo, hi],
        "outcomes": s.outcomes,
        "length": s.length.stats(),
        "return": s.ret.stats(),
        "truncated_records": s.truncated,
    })
}

/// The JSON form of the step tables.
pub fn steps_json(s: &StepStats) -> Value {
    let (all, per) = s.efficiency();
    let mut by_type = Map::new();
    for (t, efficiency) in per.iter().enumerate() {
        if s.actions[t] > 0 {
            by_type.insert(
                ActionType::ALL[t].name().into(),
                json!({"actions": s.actions[t], "changed_state": s.changed[t], "efficiency": efficiency}),
            );
        }
    }
    let per_step: Vec<Value> = s
        .per_step
        .iter()
        .map(|row| {
            let m: Map<String, Value> = (0..TYPES)
                .filter(|&t| row[t] > 0)
                .map(|t| (ActionType::ALL[t].name().to_string(), json!(row[t])))
                .collect();
            Value::Object(m)
        })
        .collect();
    json!({
        "actions": s.actions.iter().sum::<u64>(),
        "efficiency": all,
        "by_type": by_type,
        "per_step": per_step,
        "mdp": s.mdp_probabilities(),
    })
}

/// `summary.json`: options, per-file statistics with their graph statistics and chart files,
/// the shared graph's size, and the problems found.
pub fn summary_json(a: &Analysis, graph_stats: &[GraphStats], charts: &[Map<String, Value>], exports: Value) -> Value {
    let files: Vec<Value> = a
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let agents: Vec<Value> = f
                .agents
                .iter()
                .map(|(k, s)| {
                    let mut v = episodes_json(s);
                    v["role"] = json!(k.role);
                    v["name"] = json!(k.name);
                    v
                })
                .collect();
            json!({
                "path": f.path.display().to_string(),
                "lines": f.lines,
                "records": f.records,
                "bad_lines": f.bad_lines,
                "summary": episodes_json(&f.all),
                "agents": agents,
                "actions": steps_json(&f.steps),
                "graph": graph_stats.get(i),
                "charts": charts.get(i),
            })
        })
        .collect();
    let problems: Vec<Value> = a
        .problems
        .iter()
        .map(|p| json!({"file": p.file.display().to_string(), "line": p.line, "message": p.error.to_string()}))
        .collect();
    json!({
        "options": {
            "end_reasons": a.options.end_reasons,
            "max_episodes": a.options.max_episodes,
        },
        "episodes": a.episodes(),
        "files": files,
        "graph": {
            "states": a.graph.states.len(),
            "actions": a.graph.actions.len(),
            "edges": a.graph.edge_count(),
            "files": exports,
        },
        "bad_lines": a.files.iter().map(|f| f.bad_lines).sum::<u64>(),
        "problems": problems,
    })
}

fn pct(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{:.1}%", x * 100.0)
    }
}

fn file_name(f: &FileStats) -> String {
    f.path.file_name().map_or_else(|| f.path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// The summary as text.
pub fn text(a: &Analysis, graph_stats: &[GraphStats]) -> String {
    let mut out = String::new();
    let bad: u64 = a.files.iter().map(|f| f.bad_lines).sum();
    let _ = writeln!(
        out,
        "{} episode{} from {} file{}{}",
        a.episodes(),
        if a.episodes() == 1 { "" } else { "s" },
        a.files.len(),
        if a.files.len() == 1 { "" } else { "s" },
        if bad > 0 { format!(" ({bad} bad line{} skipped)", if bad == 1 { "" } else { "s" }) } else { String::new() }
    );
    if !a.options.end_reasons.is_empty() {
        let _ = writeln!(out, "end reasons kept: {}", a.options.end_reasons.join(", "));
    }
    for (i, f) in a.files.iter().enumerate() {
        let _ = writeln!(out, "\n== {} ({} records)", f.path.display(), f.records);
        let _ = writeln!(
            out,
            "{:<32} {:>9} {:>22} {:>16} {:>18}",
            "agent (role name)", "episodes", "win rate (95% CI)", "length mean/med", "return mean/med"
        );
        for (k, s) in &f.agents {
            let (lo, hi) = wilson(s.wins, s.episodes);
            let l = s.length.stats();
            let r = s.ret.stats();
            let _ = writeln!(
                out,
                "{:<32} {:>9} {:>22} {:>16} {:>18}",
                format!("{} {}", k.role, k.name),
                s.episodes,
                format!("{} ({}–{})", pct(s.win_rate()), pct(lo), pct(hi)),
                format!("{:.1} / {}", l.mean, l.median),
                format!("{:.1} / {}", r.mean, r.median)
            );
            let outcomes: Vec<String> = s.outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let _ = writeln!(out, "{:<32} outcomes: {}", "", outcomes.join(", "));
        }
        let (eff, per) = f.steps.efficiency();
        let per: Vec<String> =
            (0..TYPES).filter_map(|t| per[t].map(|p| format!("{} {}", ActionType::ALL[t].name(), pct(p)))).collect();
        let _ = writeln!(out, "action efficiency (changed the state): {} — {}", pct(eff), per.join(", "));
        if let Some(g) = graph_stats.get(i) {
            let _ = writeln!(
                out,
                "gameplay graph: {} nodes, {} edges ({} simplified), {} loops; win rate {:.3}±{:.3} over {} plays; \
                 entropy {:.3} nats (per state {:.3})",
                g.nodes,
                g.edges,
                g.simplified_edges,
                g.loops,
                g.win_rate,
                g.win_rate_std,
                g.plays,
                g.edge_entropy,
                g.transition_entropy
            );
        }
    }
    if a.files.len() > 1 {
        let _ = writeln!(out, "\n== side by side");
        let _ = writeln!(
            out,
            "{:<4} {:<28} {:>8} {:>8} {:>8} {:>9} {:>7} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "#",
            "file",
            "episodes",
            "win",
            "len",
            "return",
            "effic.",
            "nodes",
            "edges",
            "+nodes",
            "-nodes",
            "+edges",
            "-edges"
        );
        for (i, f) in a.files.iter().enumerate() {
            let g = graph_stats.get(i);
            let gr = g.and_then(|g| g.growth.as_ref());
            let d = |x: Option<usize>| x.map_or("-".to_string(), |v| v.to_string());
            let mut name = file_name(f);
            if name.chars().count() > 28 {
                name = format!(
                    "…{}",
                    name.chars().rev().take(27).collect::<Vec<_>>().into_iter().rev().collect::<String>()
                );
            }
            let _ = writeln!(
                out,
                "{:<4} {:<28} {:>8} {:>8} {:>8.1} {:>9.1} {:>7} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8}",
                i + 1,
                name,
                f.all.episodes,
                pct(f.all.win_rate()),
                f.all.length.mean(),
                f.all.ret.mean(),
                pct(f.steps.efficiency().0),
                d(g.map(|g| g.nodes)),
                d(g.map(|g| g.edges)),
                d(gr.map(|g| g.nodes_added)),
                d(gr.map(|g| g.nodes_removed)),
                d(gr.map(|g| g.edges_added)),
                d(gr.map(|g| g.edges_removed)),
            );
        }
    }
    out
}

//! `/metrics` in the Prometheus text exposition format (version 0.0.4), for the tools
//! operators already run (Prometheus and the agents and databases that scrape its format).
//!
//! Process totals (`netsecgame_steps_total`, ...) count every game this process ran, finished
//! tournament matches included, so they only grow. Per-game series (`netsecgame_game_*`,
//! labelled with the game's id, label and scenario) exist while the game runs. Reading them
//! takes a few relaxed atomic loads per game: scraping never touches a game's thread.

use super::WebState;
use crate::game::metrics::{GameMetrics, Histogram, LATENCY_BOUNDS};
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// A label value with `\`, `"` and newlines escaped, as the format requires.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn histogram(out: &mut String, name: &str, labels: &str, h: &Histogram) {
    let sep = if labels.is_empty() { "" } else { "," };
    let cumulative = h.cumulative();
    for (bound, n) in LATENCY_BOUNDS.iter().zip(cumulative.iter()) {
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {n}");
    }
    let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", cumulative[LATENCY_BOUNDS.len()]);
    let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
    let _ = writeln!(out, "{name}_sum{braces} {}", h.sum_seconds());
    let _ = writeln!(out, "{name}_count{braces} {}", h.count());
}

/// The whole exposition.
pub fn render(state: &WebState) -> String {
    let games = state.registry.list();
    let live: Vec<(String, &GameMetrics)> = games
        .iter()
        .filter_map(|g| {
            g.metrics.as_deref().map(|m| {
                let labels =
                    format!("game=\"{}\",label=\"{}\",scenario=\"{}\"", g.id, escape(&g.label), escape(&g.scenario));
                (labels, m)
            })
        })
        .collect();
    let retired = state.registry.retired();
    let total = |f: fn(&GameMetrics) -> &std::sync::atomic::AtomicU64| {
        GameMetrics::get(f(retired)) + live.iter().map(|(_, m)| GameMetrics::get(f(m))).sum::<u64>()
    };
    let mut out = String::with_capacity(4096 + live.len() * 2048);

    header(&mut out, "netsecgame_games", "gauge", "Games running in this process.");
    let _ = writeln!(out, "netsecgame_games {}", games.len());
    header(
        &mut out,
        "netsecgame_games_started_total",
        "counter",
        "Games started in this process, ended ones included.",
    );
    let _ = writeln!(out, "netsecgame_games_started_total {}", state.registry.registered());
    header(&mut out, "netsecgame_steps_total", "counter", "Game actions processed, all games.");
    let _ = writeln!(out, "netsecgame_steps_total {}", total(|m| &m.steps));
    header(&mut out, "netsecgame_detections_total", "counter", "Game actions the global defender detected, all games.");
    let _ = writeln!(out, "netsecgame_detections_total {}", total(|m| &m.detections));
    header(&mut out, "netsecgame_episodes_total", "counter", "Agents' episodes that ended, all games.");
    let _ = writeln!(out, "netsecgame_episodes_total {}", total(|m| &m.agent_episodes));
    header(&mut out, "netsecgame_bad_requests_total", "counter", "Requests answered with BAD_REQUEST, all games.");
    let _ = writeln!(out, "netsecgame_bad_requests_total {}", total(|m| &m.bad_requests));
    header(&mut out, "netsecgame_connected_agents", "gauge", "Open agent connections, all games.");
    let _ = writeln!(
        out,
        "netsecgame_connected_agents {}",
        live.iter().map(|(_, m)| GameMetrics::get(&m.connections)).sum::<u64>()
    );
    header(
        &mut out,
        "netsecgame_watch_dropped_total",
        "counter",
        "Game events dropped because a live view was behind (it caught up from a snapshot).",
    );
    let _ = writeln!(out, "netsecgame_watch_dropped_total {}", total(|m| &m.watch_dropped));
    header(
        &mut out,
        "netsecgame_step_latency_seconds",
        "histogram",
        "Time from a game action's arrival at its game to its processing, all games.",
    );
    let all = Histogram::default();
    all.absorb(&retired.step_latency);
    for (_, m) in &live {
        all.absorb(&m.step_latency);
    }
    histogram(&mut out, "netsecgame_step_latency_seconds", "", &all);

    header(&mut out, "netsecgame_web_viewers", "gauge", "Pages receiving live updates now.");
    let _ = writeln!(out, "netsecgame_web_viewers {}", state.viewers.load(Ordering::Relaxed));
    header(&mut out, "netsecgame_web_updates_total", "counter", "Live updates sent to game pages.");
    let _ = writeln!(out, "netsecgame_web_updates_total {}", state.feeds.updates.load(Ordering::Relaxed));

    if let Some(t) = &state.tournament {
        let s = t.snapshot();
        header(&mut out, "netsecgame_tournament_matches", "gauge", "Matches of the tournament's schedule (its shard).");
        let _ = writeln!(out, "netsecgame_tournament_matches {}", s.total);
        header(&mut out, "netsecgame_tournament_matches_done", "gauge", "Matches finished, resumed ones included.");
        let _ = writeln!(out, "netsecgame_tournament_matches_done {}", s.played + s.resumed);
        header(&mut out, "netsecgame_tournament_matches_running", "gauge", "Matches being played.");
        let _ = writeln!(out, "netsecgame_tournament_matches_running {}", s.running.len());
        header(&mut out, "netsecgame_tournament_forfeits_total", "counter", "Forfeits in matches played by this run.");
        let _ = writeln!(out, "netsecgame_tournament_forfeits_total {}", s.forfeits);
    }

    type Pick = fn(&GameMetrics) -> &std::sync::atomic::AtomicU64;
    let series: [(&str, &str, &str, Pick); 7] = [
        ("netsecgame_game_steps_total", "counter", "Game actions processed.", |m| &m.steps),
        ("netsecgame_game_detections_total", "counter", "Game actions the global defender detected.", |m| {
            &m.detections
        }),
        ("netsecgame_game_episodes_total", "counter", "Agents' episodes that ended.", |m| &m.agent_episodes),
        ("netsecgame_game_bad_requests_total", "counter", "Requests answered with BAD_REQUEST.", |m| &m.bad_requests),
        ("netsecgame_game_connected_agents", "gauge", "Open agent connections, joined or not.", |m| &m.connections),
        ("netsecgame_game_episode", "gauge", "The number of the current episode (0 for the first).", |m| &m.episode),
        ("netsecgame_game_watch_dropped_total", "counter", "Events dropped for a live view that was behind.", |m| {
            &m.watch_dropped
        }),
    ];
    if !live.is_empty() {
        for (name, kind, help, pick) in series {
            header(&mut out, name, kind, help);
            for (labels, m) in &live {
                let _ = writeln!(out, "{name}{{{labels}}} {}", GameMetrics::get(pick(m)));
            }
        }
        header(
            &mut out,
            "netsecgame_game_step_latency_seconds",
            "histogram",
            "Time from a game action's arrival at the game to its processing.",
        );
        for (labels, m) in &live {
            histogram(&mut out, "netsecgame_game_step_latency_seconds", labels, &m.step_latency);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}

//! `netsecgame analyze`: golden numbers on trajectory files recorded from both servers, bad
//! input, the command's outputs, and streaming in bounded memory.
//!
//! The data (`tests/data/analyze/`): `upstream_two_networks_tiny.jsonl` was written by
//! upstream's Python server (`netsecgame[server]` 0.2.0 from the Python package index, task `two_networks_tiny`,
//! global defender on, 40 steps) while the official Python client played 30 episodes of a
//! biased random attacker; `ours_two_networks_tiny.jsonl` by our `netsecgame serve` with the
//! same task and client, 20 episodes. Every expected number below was computed once by
//! upstream's own utilities (`trajectory_analysis.py` and `gameplay_graphs.py` from its git
//! repository: `compute_mean_length`, the data of `get_action_type_barplot_per_step` and
//! `generate_mdp_from_trajecotries`, `TrajectoryGraph.get_checkpoint_stats`,
//! `calculate_edge_play_likelihoods`, `get_graph_modificiation`, `state_as_ordered_string`) on
//! these files and found equal to ours. Upstream's win rate reads 0 on both files: it tests
//! for the old end reason `goal_reached`; ours counts `AgentStatus.Success`.

mod common;

use common::{bin, repo, scratch};
use netsecgame_actors::analyze::{self, Options};
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    repo().join("actors/tests/data/analyze").join(name)
}

fn run(paths: &[PathBuf], options: &Options) -> analyze::Analysis {
    analyze::analyze(paths, options, &mut |p| panic!("unexpected problem: {p}")).expect("analysis")
}

#[test]
fn golden_numbers_on_upstreams_file() {
    let a = run(&[data("upstream_two_networks_tiny.jsonl")], &Options::default());
    let f = &a.files[0];
    assert_eq!(f.records, 30);
    assert_eq!(f.all.episodes, 30);
    assert!((f.all.length.mean() - 25.833_333_333_333_332).abs() < 1e-12); // compute_mean_length
    let outcomes: Vec<(&str, u64)> = f.all.outcomes.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(outcomes, [("Fail", 19), ("Success", 1), ("TimeoutReached", 10)]);
    assert_eq!(f.all.wins, 1);
    assert!((f.all.ret.mean() - (-32.166_666_666_666_664)).abs() < 1e-9);
    // Action types at steps 1 and 2 (get_action_type_barplot_per_step's data).
    let (scan, services, find, exfil) = (0, 1, 2, 4);
    assert_eq!((f.steps.per_step[0][scan], f.steps.per_step[0][services], f.steps.per_step[0][find]), (10, 5, 15));
    assert_eq!(f.steps.per_step[1][exfil], 9);
    assert_eq!(f.steps.per_step.len(), 40);
    // Action efficiency: 114 of 775 actions changed upstream's state string.
    assert_eq!((f.steps.changed.iter().sum::<u64>(), f.steps.actions.iter().sum::<u64>()), (114, 775));
    // generate_mdp_from_trajecotries, rounded as np.round does (0.125 -> 0.12).
    let mdp = f.steps.mdp_probabilities();
    assert_eq!(mdp[0].from, "Start");
    assert_eq!(mdp[0].to, vec![("ScanNetwork".into(), 0.33), ("FindServices".into(), 0.17), ("FindData".into(), 0.5)]);
    assert_eq!(mdp[1].to[1], ("FindServices".into(), 0.12));
    // TrajectoryGraph.get_checkpoint_stats
    let g = &a.graph.stats()[0];
    assert_eq!((g.nodes, g.edges, g.simplified_edges, g.loops, g.simplified_loops), (58, 347, 109, 281, 46));
    assert_eq!(g.plays, 30);
    assert!((g.win_rate - 1.0 / 30.0).abs() < 1e-12);
    // calculate_edge_play_likelihoods: the largest is 20 of 30 records.
    let cp = &a.graph.checkpoints[0];
    let max = cp.edges.values().map(|&n| analyze::graph::play_likelihood(n, cp.records)).fold(0.0, f64::max);
    assert!((max - 20.0 / 30.0).abs() < 1e-12);
}

#[test]
fn golden_numbers_on_our_file_and_growth_between_checkpoints() {
    let ours = data("ours_two_networks_tiny.jsonl");
    let upstream = data("upstream_two_networks_tiny.jsonl");
    let a = run(&[ours, upstream], &Options::default());
    let f = &a.files[0];
    assert_eq!(f.records, 20);
    assert!((f.all.length.mean() - 21.15).abs() < 1e-12);
    let outcomes: Vec<(&str, u64)> = f.all.outcomes.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(outcomes, [("Fail", 16), ("TimeoutReached", 4)]);
    assert_eq!((f.steps.changed.iter().sum::<u64>(), f.steps.actions.iter().sum::<u64>()), (89, 423));
    let stats = a.graph.stats();
    let g = &stats[0];
    assert_eq!((g.nodes, g.edges, g.simplified_edges, g.loops, g.simplified_loops), (65, 244, 114, 178, 49));
    assert!(g.growth.is_none());
    // The second checkpoint shares states with the first (same scenario): get_graph_modificiation.
    let grown = stats[1].growth.as_ref().expect("growth");
    assert_eq!((grown.nodes_added, grown.nodes_removed, grown.edges_added, grown.edges_removed), (37, 44, 299, 196));
    assert_eq!((stats[1].nodes, stats[1].edges), (58, 347));
    assert_eq!((a.graph.states.len(), a.graph.edge_count()), (102, 543));
}

#[test]
fn filters_and_limits() {
    let upstream = data("upstream_two_networks_tiny.jsonl");
    let options = Options { end_reasons: vec!["Success".into(), "TimeoutReached".into()], ..Options::default() };
    let a = run(std::slice::from_ref(&upstream), &options);
    assert_eq!((a.files[0].records, a.files[0].all.episodes), (30, 11));
    // Edge-play likelihoods still divide by every record read (upstream's checkpoint size).
    assert_eq!(a.graph.checkpoints[0].records, 30);
    assert_eq!(a.graph.checkpoints[0].plays, 11);
    let options = Options { max_episodes: Some(7), ..Options::default() };
    let a = run(&[upstream], &options);
    assert_eq!((a.files[0].records, a.files[0].all.episodes), (7, 7));
}

/// A copy of the first `n` lines of a data file.
fn first_lines(name: &str, n: usize) -> Vec<String> {
    std::fs::read_to_string(data(name)).unwrap().lines().take(n).map(str::to_string).collect()
}

#[test]
fn bad_lines_are_reported_with_their_place_and_the_rest_is_analysed() {
    let dir = scratch("analyze-bad");
    let good = first_lines("ours_two_networks_tiny.jsonl", 3);
    let bad = dir.join("bad.jsonl");
    let mut text = String::new();
    text.push_str(&good[0]);
    text.push('\n');
    text.push_str(r#"{"trajectory": [{"s": {}, "a": {"action_type": "ActionType.ScanNetwork"}, "r": -1, "s_next": {}}], "end_reason": "goal_reached"}"#);
    text.push('\n');
    text.push_str(&good[1]);
    text.push_str("\n\n");
    text.push_str(&good[2][..good[2].len() / 2]); // the writer stopped mid-line
    std::fs::write(&bad, text).unwrap();
    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let out = dir.join("out");
    let output = bin().arg("analyze").arg(&bad).arg(&empty).arg("--out").arg(&out).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let bad_name = bad.display().to_string();
    assert!(stderr.contains(&format!("{bad_name}:2: a record from another version")), "{stderr}");
    assert!(stderr.contains(&format!("{bad_name}:5: truncated record")), "{stderr}");
    assert!(stderr.contains(&format!("{}: the file is empty", empty.display())), "{stderr}");
    assert_eq!(stderr.lines().count(), 3, "{stderr}");
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["files"][0]["records"], 2);
    assert_eq!(summary["files"][0]["bad_lines"], 2);
    assert_eq!(summary["files"][1]["records"], 0);
    assert_eq!(summary["episodes"], 2);
    assert_eq!(summary["problems"].as_array().unwrap().len(), 3);

    // Nothing readable at all: a clear error and exit code 1.
    let output = bin().arg("analyze").arg(&empty).arg("--out").arg(&out).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no trajectory records could be read"), "{stderr}");
    let output = bin().arg("analyze").arg(dir.join("missing.jsonl")).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read"));
}

/// The GraphML is well-formed XML (parsed by a real parser), declares typed keys, and says of
/// every edge what `edges.csv` says (label, type, counts, likelihoods per checkpoint).
fn graphml_agrees_with_the_edge_table(graphml: &str, csv: &str, nodes: usize, edges: usize) {
    let doc = roxmltree::Document::parse(graphml).expect("well-formed GraphML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "graphml");
    let keys: Vec<(&str, &str, &str)> = root
        .children()
        .filter(|n| n.has_tag_name("key"))
        .map(|k| (k.attribute("id").unwrap(), k.attribute("for").unwrap(), k.attribute("attr.type").unwrap()))
        .collect();
    assert_eq!(
        keys,
        [
            ("state", "node", "string"),
            ("state_id", "node", "int"),
            ("first_checkpoint", "node", "int"),
            ("action", "edge", "string"),
            ("action_type", "edge", "string"),
            ("count_1", "edge", "long"),
            ("count_2", "edge", "long"),
            ("play_likelihood_1", "edge", "double"),
            ("play_likelihood_2", "edge", "double"),
        ]
    );
    let graph = root.children().find(|n| n.has_tag_name("graph")).unwrap();
    let data = |n: roxmltree::Node<'_, '_>, key: &str| -> String {
        n.children().find(|d| d.attribute("key") == Some(key)).and_then(|d| d.text()).unwrap_or("").to_string()
    };
    let node_list: Vec<_> = graph.children().filter(|n| n.has_tag_name("node")).collect();
    assert_eq!(node_list.len(), nodes);
    for (i, n) in node_list.iter().enumerate() {
        assert_eq!(n.attribute("id"), Some(format!("n{i}").as_str()));
        assert_eq!(data(*n, "state_id"), i.to_string());
        assert!(data(*n, "state").starts_with("nets:["), "{}", data(*n, "state"));
    }
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    let edge_list: Vec<_> = graph.children().filter(|n| n.has_tag_name("edge")).collect();
    assert_eq!((edge_list.len(), rows.len()), (edges, edges));
    for (e, row) in edge_list.iter().zip(&rows) {
        assert_eq!(e.attribute("source").unwrap(), format!("n{}", &row[0]));
        assert_eq!(e.attribute("target").unwrap(), format!("n{}", &row[1]));
        let from_graphml = [
            data(*e, "action"),
            data(*e, "action_type"),
            data(*e, "count_1"),
            data(*e, "count_2"),
            data(*e, "play_likelihood_1"),
            data(*e, "play_likelihood_2"),
        ];
        let from_csv: Vec<&str> = (2..8).map(|c| &row[c]).collect();
        assert_eq!(from_graphml.iter().map(String::as_str).collect::<Vec<_>>(), from_csv);
    }
}

/// Bad states are reported as a single reading of the line would report them, whichever way
/// the workers took through it: a state that is not JSON (a raw control character in a string:
/// its brackets balance, so only a real decoder sees it) is a JSON error of the line, with its
/// column along the line, even in a record the end-reason filter leaves out; a state that is
/// JSON but not a state is an error only where the state counts (a kept record with actions),
/// and comes after a bad action of the same record.
#[test]
fn bad_states_are_reported_as_a_single_reading_would() {
    let dir = scratch("analyze-bad-state");
    let good = first_lines("ours_two_networks_tiny.jsonl", 1);
    let s0 = r#"{"known_networks": [], "known_hosts": [], "controlled_hosts": [], "known_services": {}, "known_data": {}, "known_blocks": {}}"#;
    let not_json = s0.replace(r#""known_hosts": []"#, "\"known_hosts\": [{\"ip\": \"1.1.1.1\u{1}\"}]");
    let not_a_state = r#"{"foo": 1}"#;
    let action = r#"{"action_type": "ActionType.ScanNetwork", "parameters": {"target_network": "1.1.1.0/24", "source_host": "1.1.1.1"}}"#;
    let bad_action = action.replace("ScanNetwork", "Teleport");
    // The filter keeps the good record's end reason; the other records have another.
    let kept: Value = serde_json::from_str(&good[0]).unwrap();
    let kept = kept["end_reason"].as_str().unwrap().rsplit('.').next().unwrap().to_string();
    let other = if kept == "Fail" { "Success" } else { "Fail" };
    let record = |end: &str, states: &[&str], actions: &[&str]| {
        let rewards = vec!["-1"; actions.len()].join(", ");
        format!(
            r#"{{"agent_name": "a", "agent_role": "Attacker", "end_reason": "AgentStatus.{end}", "trajectory": {{"states": [{}], "actions": [{}], "rewards": [{rewards}]}}}}"#,
            states.join(", "),
            actions.join(", ")
        )
    };
    let lines = [
        good[0].clone(),
        record(other, &[s0, &not_json], &[action]),        // 2: not JSON
        record(&kept, &[s0, not_a_state], &[action]),      // 3: not a state, counted: bad
        record(other, &[s0, not_a_state], &[action]),      // 4: not a state, filtered out: fine
        record(&kept, &[not_a_state], &[]),                // 5: not a state, no actions: fine
        record(&kept, &[s0, not_a_state], &[&bad_action]), // 6: the action first
    ];
    let column = lines[1].find('\u{1}').unwrap() + 1;
    let file = dir.join("bad_states.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let name = file.display().to_string();
    for filter in [None, Some(kept.as_str())] {
        let mut cmd = bin();
        cmd.arg("analyze").arg(&file).arg("--out").arg(dir.join("out"));
        if let Some(f) = filter {
            cmd.args(["--end_reason", f]);
        }
        let output = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let said = |line: usize, what: &str| {
            stderr.lines().any(|l| l.contains(&format!("{name}:{line}: ")) && l.contains(what))
        };
        assert!(said(2, "not JSON: control character") && said(2, &format!("column {column}")), "{filter:?}: {stderr}");
        // Without a filter every record counts, so line 4's state is decoded too.
        assert!(said(3, "state 2 (of 2): missing field `known_networks`"), "{filter:?}: {stderr}");
        assert_eq!(said(4, "state 2 (of 2)"), filter.is_none(), "{filter:?}: {stderr}");
        assert!(said(6, "action 1 (of 1): unknown action type `ActionType.Teleport`"), "{filter:?}: {stderr}");
        let bad: u64 = if filter.is_none() { 4 } else { 3 };
        assert_eq!(stderr.lines().count() as u64, bad, "{filter:?}: {stderr}");
        let summary: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("out/summary.json")).unwrap()).unwrap();
        assert_eq!(
            (summary["files"][0]["records"].as_u64(), summary["files"][0]["bad_lines"].as_u64()),
            (Some(6 - bad), Some(bad))
        );
    }
}

#[test]
fn the_command_writes_summary_charts_and_graph() {
    let dir = scratch("analyze-cli");
    let out = dir.join("out");
    let output = bin()
        .args(["analyze", "--graph-format", "both", "--end_reason", "Fail,TimeoutReached,Success"])
        .arg(data("ours_two_networks_tiny.jsonl"))
        .arg(data("upstream_two_networks_tiny.jsonl"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("50 episodes from 2 files"), "{stdout}");
    assert!(stdout.contains("== side by side"), "{stdout}");
    assert!(stdout.contains("Attacker A"), "{stdout}");
    for file in [
        "summary.json",
        "actions_per_step_1.svg",
        "actions_per_step_2.svg",
        "action_flow_1.svg",
        "action_flow_2.svg",
        "efficiency.svg",
        "graph_growth.svg",
        "edges.csv",
        "gameplay_graph.graphml",
        "gameplay_graph.dot",
    ] {
        let meta = std::fs::metadata(out.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(meta.len() > 100, "{file} is nearly empty");
    }
    let svg = std::fs::read_to_string(out.join("action_flow_2.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("ExfiltrateData") && svg.contains("<polygon"), "{}", &svg[..200]);
    let graphml = std::fs::read_to_string(out.join("gameplay_graph.graphml")).unwrap();
    graphml_agrees_with_the_edge_table(&graphml, &std::fs::read_to_string(out.join("edges.csv")).unwrap(), 102, 543);
    let dot = std::fs::read_to_string(out.join("gameplay_graph.dot")).unwrap();
    assert!(dot.starts_with("digraph"));
    assert_eq!(dot.matches(" -> ").count(), 543);
    let csv = std::fs::read_to_string(out.join("edges.csv")).unwrap();
    assert_eq!(csv.lines().count(), 544);
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let f = &summary["files"][1];
    assert_eq!(f["summary"]["episodes"], 30);
    assert_eq!(f["summary"]["wins"], 1);
    let ci = f["summary"]["win_rate_95ci"].as_array().unwrap();
    assert!((ci[0].as_f64().unwrap() - 0.0059).abs() < 1e-3 && (ci[1].as_f64().unwrap() - 0.1667).abs() < 1e-3);
    assert_eq!(f["graph"]["growth"]["edges_added"], 299);
    assert_eq!(f["agents"][0]["role"], "Attacker");
    assert_eq!(f["charts"]["action_flow"], "action_flow_2.svg");
}

/// Peak resident memory of a finished `analyze` run, as it reports it.
fn peak_mib(stdout: &str) -> f64 {
    let at = stdout.find("peak memory ").unwrap_or_else(|| panic!("no peak memory in {stdout}"));
    stdout[at + 12..].split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn a_large_file_streams_in_bounded_memory() {
    let dir = scratch("analyze-large");
    let lines = first_lines("ours_two_networks_tiny.jsonl", 20);
    let write = |path: &PathBuf, bytes: usize| -> u64 {
        let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        let (mut written, mut records) = (0, 0u64);
        while written < bytes {
            for line in &lines {
                w.write_all(line.as_bytes()).unwrap();
                w.write_all(b"\n").unwrap();
                written += line.len() + 1;
                records += 1;
            }
        }
        w.flush().unwrap();
        records
    };
    let small = dir.join("small.jsonl");
    let large = dir.join("large.jsonl");
    let small_records = write(&small, 5 << 20);
    let large_records = write(&large, 150 << 20);
    let analyse = |path: &PathBuf| {
        let out = bin().arg("analyze").arg(path).arg("--out").arg(dir.join("out")).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let (small_out, large_out) = (analyse(&small), analyse(&large));
    assert!(large_out.contains(&format!("{large_records} episodes")), "{large_out}");
    assert!(small_out.contains(&format!("{small_records} episodes")), "{small_out}");
    let (small_peak, large_peak) = (peak_mib(&small_out), peak_mib(&large_out));
    // 30 times the data, the same memory: the reader holds one line, the tables grow with
    // distinct states and steps only.
    assert!(large_peak < small_peak + 16.0, "peak {large_peak} MiB on 150 MiB vs {small_peak} MiB on 5 MiB");
    assert!(large_peak < 64.0, "peak {large_peak} MiB on a 150 MiB file");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A record line with a few bytes changed, deleted or inserted (JSON's own characters, mostly,
/// where they do the most harm) is either analysed, and then it is valid JSON, or reported as
/// line 2 with the lines around it analysed: the fast path never takes a broken line for a
/// record, and nothing panics.
mod mutated_lines {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Edit {
        Set(prop::sample::Index, u8),
        Delete(prop::sample::Index),
        Insert(prop::sample::Index, u8),
    }

    fn byte() -> impl Strategy<Value = u8> {
        prop_oneof![
            4 => prop::sample::select(b"{}[]\",:\\ 0a\n\x01".to_vec()),
            1 => any::<u8>(),
        ]
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (any::<prop::sample::Index>(), byte()).prop_map(|(i, b)| Edit::Set(i, b)),
            any::<prop::sample::Index>().prop_map(Edit::Delete),
            (any::<prop::sample::Index>(), byte()).prop_map(|(i, b)| Edit::Insert(i, b)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
        #[test]
        fn a_broken_line_is_reported_never_analysed(which in 0usize..4, edits in prop::collection::vec(edit(), 1..4)) {
            let lines = first_lines("ours_two_networks_tiny.jsonl", 5);
            let mut line = lines[which + 1].clone().into_bytes();
            for e in &edits {
                match *e {
                    Edit::Set(i, b) => { let i = i.index(line.len()); line[i] = b; }
                    Edit::Delete(i) => { let i = i.index(line.len()); line.remove(i); }
                    Edit::Insert(i, b) => { let i = i.index(line.len() + 1); line.insert(i, b); }
                }
            }
            // A newline the edits put in makes two lines; keep the test about one.
            prop_assume!(!line.contains(&b'\n') && !line.iter().all(u8::is_ascii_whitespace));
            let dir = scratch("analyze-mutated");
            let path = dir.join("mutated.jsonl");
            let mut text = lines[0].clone().into_bytes();
            text.push(b'\n');
            text.extend_from_slice(&line);
            text.push(b'\n');
            text.extend_from_slice(lines[0].as_bytes());
            text.push(b'\n');
            std::fs::write(&path, &text).unwrap();
            let mut problems = Vec::new();
            let a = analyze::analyze(std::slice::from_ref(&path), &Options::default(), &mut |p| problems.push(p.line)).expect("analysis");
            let _ = std::fs::remove_dir_all(&dir);
            let f = &a.files[0];
            prop_assert_eq!(f.records + f.bad_lines, 3);
            if f.bad_lines == 0 {
                prop_assert!(serde_json::from_slice::<Value>(&line).is_ok(), "analysed a line that is not JSON: {}", String::from_utf8_lossy(&line));
            } else {
                prop_assert_eq!(problems, vec![Some(2)]);
            }
        }
    }
}

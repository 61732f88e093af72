//! Tournaments end to end through the real binary: built-in entrants, an external Python
//! entrant built on the official client, entrants that crash, stall or lie about their role,
//! a run killed with SIGKILL and resumed, shards merged, determinism.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn builtin_file(dir: &Path, episodes: u64) -> PathBuf {
    let tasks = repo().join("tasks");
    write(
        dir,
        "builtin.yaml",
        &format!(
            "episodes: {episodes}\nseeds: [1, 2]\ntasks: [{0}/default.yaml, {0}/multi_agent.yaml]\nparallel: 2\nentrants:\n  - {{name: scripted, role: Attacker, builtin: scripted_attacker}}\n  - {{name: random, role: Attacker, builtin: random_attacker}}\n  - {{name: logdef, role: Defender, builtin: log_defender}}\n  - {{name: randdef, role: Defender, builtin: random_defender}}\n  - {{name: user, role: Benign, builtin: benign}}\n",
            tasks.display()
        ),
    )
}

fn run(config: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let out = bin().args(["tournament", "--config"]).arg(config).arg("--out").arg(out).args(extra).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn leaderboard(out: &Path) -> Vec<Value> {
    serde_json::from_str::<Value>(&std::fs::read_to_string(out.join("leaderboard.json")).unwrap())
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn entry<'a>(board: &'a [Value], name: &str) -> &'a Value {
    board.iter().find(|e| e["entrant"] == name).unwrap_or_else(|| panic!("{name} not in {board:?}"))
}

/// matches.csv without its timing column.
fn matches_without_times(out: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(out.join("matches.csv")).unwrap();
    text.lines().map(|l| l.rsplit_once(',').map_or(l, |(head, _)| head).to_string()).collect()
}

/// Trajectory records under a folder (all matches).
fn trajectory_count(dir: &Path) -> usize {
    let mut n = 0;
    for m in std::fs::read_dir(dir).unwrap() {
        for f in std::fs::read_dir(m.unwrap().path()).unwrap() {
            n += std::fs::read_to_string(f.unwrap().path()).unwrap().lines().count();
        }
    }
    n
}

fn sqlite_count(store: &Path, table: &str) -> usize {
    let conn = rusqlite::Connection::open(store).unwrap();
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get::<_, i64>(0)).unwrap() as usize
}

#[test]
fn builtin_tournaments_rank_the_agents_and_replay_identically() {
    let dir = scratch("tour-builtin");
    let config = builtin_file(&dir, 15);
    let first = dir.join("first");
    let stdout = String::from_utf8(run(&config, &first, &["--quiet"]).stdout).unwrap();
    assert!(stdout.contains("scripted") && stdout.contains("16 matches"), "{stdout}");
    let board = leaderboard(&first);
    for e in &board {
        for key in ["entrant", "role", "rating", "rank", "matches", "episodes", "wins", "losses", "forfeits"] {
            assert!(e.get(key).is_some(), "{key} missing in {e}");
        }
    }
    assert_eq!(entry(&board, "scripted")["rank"], 1, "the scripted attacker beats the random one");
    assert_eq!(entry(&board, "random")["rank"], 2);
    assert_eq!(entry(&board, "scripted")["episodes"], 8 * 15);
    assert_eq!(entry(&board, "user")["matches"], 16, "the benign user is in every match");
    assert!(entry(&board, "user")["rating"].is_null());
    for f in ["matches.csv", "matrix.json", "winrate_matrix.svg", "ratings.svg", "tournament.sqlite"] {
        assert!(first.join(f).exists(), "{f}");
    }
    assert_eq!(std::fs::read_to_string(first.join("matches.csv")).unwrap().lines().count(), 17);
    // multi_agent.yaml saves trajectories: every episode of every agent, exactly once.
    assert_eq!(trajectory_count(&first.join("trajectories")), 8 * 15 * 3);
    // The same file again: the same results.
    let second = dir.join("second");
    run(&config, &second, &["--quiet"]);
    assert_eq!(matches_without_times(&first), matches_without_times(&second));
    assert_eq!(leaderboard(&first), leaderboard(&second));
    // The report rebuilds from the store alone.
    let rebuilt = dir.join("rebuilt");
    let out = bin()
        .args(["tournament", "report", "--store"])
        .arg(first.join("tournament.sqlite"))
        .arg("--out")
        .arg(&rebuilt)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(leaderboard(&rebuilt), leaderboard(&first));
    // A store of another tournament is refused.
    let other = builtin_file(&dir, 16);
    let out = bin()
        .args(["tournament", "--config"])
        .arg(&other)
        .arg("--store")
        .arg(first.join("tournament.sqlite"))
        .arg("--out")
        .arg(dir.join("x"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("belongs to another tournament"));
}

#[test]
fn a_killed_run_resumes_and_every_match_is_stored_once() {
    let dir = scratch("tour-resume");
    let config = builtin_file(&dir, 400);
    let out = dir.join("out");
    let store = out.join("tournament.sqlite");
    let mut child = bin()
        .args(["tournament", "--quiet", "--parallel", "1", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some matches are in the store and others are not.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let finished = if store.exists() { sqlite_count(&store, "matches") } else { 0 };
        if finished >= 3 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
        assert!(Instant::now() < deadline, "no match finished in time");
    }
    let _ = Command::new("kill").args(["-KILL", &child.id().to_string()]).status();
    let _ = child.wait();
    let before = sqlite_count(&store, "matches");
    assert!(before < 16, "killed mid-run ({before} matches stored)");
    let resumed = run(&config, &out, &["--parallel", "2"]);
    let note = String::from_utf8_lossy(&resumed.stderr);
    assert!(note.contains(&format!("{before} matches already played")), "{note}");
    assert_eq!(sqlite_count(&store, "matches"), 16, "every match exactly once");
    let episodes = sqlite_count(&store, "episodes");
    assert_eq!(episodes, 16 * 400 * 3, "every episode of every entrant exactly once");
    // Resumed results equal an uninterrupted run's.
    let whole = dir.join("whole");
    run(&config, &whole, &["--quiet"]);
    assert_eq!(leaderboard(&out), leaderboard(&whole));
}

#[test]
fn shards_merge_into_the_whole_tournament() {
    let dir = scratch("tour-shards");
    let config = builtin_file(&dir, 10);
    let whole = dir.join("whole");
    run(&config, &whole, &["--quiet"]);
    let shards = dir.join("shards");
    for i in 0..3 {
        run(&config, &shards, &["--quiet", "--shard", &format!("{i}/3")]);
    }
    let merged = dir.join("merged");
    let out = bin()
        .args(["tournament", "merge", "--into"])
        .arg(merged.join("tournament.sqlite"))
        .arg("--out")
        .arg(&merged)
        .args((0..3).map(|i| shards.join(format!("shard-{i}-of-3.sqlite"))))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(leaderboard(&merged), leaderboard(&whole));
    assert_eq!(matches_without_times(&merged), matches_without_times(&whole));
}

fn python() -> PathBuf {
    let p = repo().join(".venv/bin/python");
    assert!(p.exists(), "the external entrant tests need the Python client: run `bash .ci/setup-python`");
    p
}

#[test]
fn external_python_entrants_play_and_misbehaving_ones_forfeit_alone() {
    let python = python();
    let dir = scratch("tour-external");
    let agent = repo().join("tests/python/tournament_agent.py");
    let cmd = |mode: &str| {
        format!(
            "{} {} --port {{port}} --episodes {{episodes}} --seed {{seed}} --mode {mode}",
            python.display(),
            agent.display()
        )
    };
    let config = write(
        &dir,
        "external.yaml",
        &format!(
            "episodes: 3\nseeds: [1]\ntasks: [{tasks}/default.yaml]\nparallel: 2\nlimits: {{join_s: 20, step_s: 3, match_s: 120}}\nentrants:\n  - {{name: mine, role: Attacker, command: '{play}'}}\n  - {{name: crasher, role: Attacker, command: '{crash}'}}\n  - {{name: staller, role: Attacker, command: '{stall}'}}\n  - {{name: turncoat, role: Attacker, command: '{turn}'}}\n  - {{name: nosuch, role: Attacker, command: '/nonexistent/agent --port {{port}}'}}\n  - {{name: scripted, role: Attacker, builtin: scripted_attacker}}\n  - {{name: logdef, role: Defender, builtin: log_defender}}\n",
            tasks = repo().join("tasks").display(),
            play = cmd("play"),
            crash = cmd("crash"),
            stall = cmd("stall"),
            turn = cmd("defender"),
        ),
    );
    let out = dir.join("out");
    let t = Instant::now();
    run(&config, &out, &["--quiet"]);
    let took = t.elapsed();
    let board = leaderboard(&out);
    for (name, forfeits) in
        [("mine", 0), ("scripted", 0), ("logdef", 0), ("crasher", 1), ("staller", 1), ("turncoat", 1), ("nosuch", 1)]
    {
        assert_eq!(entry(&board, name)["forfeits"], forfeits, "{name}: {board:?}");
    }
    assert_eq!(entry(&board, "mine")["episodes"], 3, "the Python entrant played its episodes");
    assert_eq!(entry(&board, "scripted")["episodes"], 3);
    assert_eq!(entry(&board, "logdef")["episodes"], 6, "the defender's completed matches are intact");
    let csv = std::fs::read_to_string(out.join("matches.csv")).unwrap();
    for reason in [
        "crasher: ",
        "staller: sent no action within 3 s",
        "turncoat: joined as Defender, entered as Attacker",
        "nosuch: cannot start",
    ] {
        assert!(csv.contains(reason), "{reason} not in\n{csv}");
    }
    assert!(took < Duration::from_secs(60), "forfeits come within the limits ({took:?})");
    assert!(out.join("logs/match-0-mine.log").exists(), "entrants' output goes to a log per match");
    // No entrant process is left behind.
    let ps = Command::new("ps").args(["-eo", "stat,args"]).output().unwrap();
    let ps = String::from_utf8_lossy(&ps.stdout);
    assert!(!ps.lines().any(|l| l.contains(agent.to_str().unwrap())), "entrant processes left:\n{ps}");
    assert!(!ps.lines().any(|l| l.starts_with('Z') && l.contains("python")), "zombies:\n{ps}");
}

#[test]
fn a_long_tournament_saving_trajectories_keeps_its_memory_flat() {
    let dir = scratch("tour-memory");
    let config = write(
        &dir,
        "long.yaml",
        &format!(
            "episodes: 3000\nseeds: [1, 2]\ntasks: [{}/multi_agent.yaml]\nentrants:\n  - {{name: scripted, role: Attacker, builtin: scripted_attacker}}\n  - {{name: logdef, role: Defender, builtin: log_defender}}\n  - {{name: user, role: Benign, builtin: benign}}\n",
            repo().join("tasks").display()
        ),
    );
    let out = dir.join("out");
    let mut child = bin()
        .args(["tournament", "--quiet", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        peak = peak.max(proc_status(child.id(), "VmRSS:"));
        std::thread::sleep(Duration::from_millis(20));
    }
    // 18,000 trajectories of about 30 KB each: with no backpressure from the recorder they
    // pile up in memory (hundreds of MB); bounded, the process stays small.
    eprintln!("peak RSS {peak} KiB");
    assert!(peak < 40 * 1024, "peak RSS {peak} KiB");
    assert_eq!(trajectory_count(&out.join("trajectories")), 2 * 3000 * 3);
}

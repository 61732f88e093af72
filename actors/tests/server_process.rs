//! The `netsecgame` binary as users run it: trajectories on disk after reset and after
//! SIGTERM, `validate` on good and broken task files, `scenario dump` against the reference.

mod common;
use common::*;
use serde_json::Value;

#[test]
fn trajectories_are_saved_at_reset_and_on_sigterm() {
    let dir = scratch("traj");
    let task = dir.join("task.yaml");
    let text = std::fs::read_to_string(repo().join("tasks/default.yaml"))
        .unwrap()
        .replace("save_trajectories: false", "save_trajectories: true");
    std::fs::write(&task, text).unwrap();
    let mut server = BinServer::start(&task, &dir, &[]);
    let mut c = server.connect();
    assert_eq!(c.request(&join("json agent", "Attacker"))["status"], "GameStatus.CREATED");
    c.request(&scan("192.168.1.1", "192.168.1.0", 24));
    assert_eq!(c.request(&reset(false, None, false))["status"], "GameStatus.RESET_DONE");
    c.request(&scan("192.168.1.1", "192.168.1.0", 24));
    c.request(&scan("192.168.1.1", "192.168.1.0", 24));
    // The episode in progress must survive a SIGTERM.
    assert!(server.signal("TERM").success());
    let lines = trajectory_lines(&dir);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let (name, first) = &lines[0];
    assert!(name.ends_with("_json_agent_AgentRole.Attacker.jsonl"), "{name}");
    assert_eq!(first["agent_role"], "Attacker");
    assert_eq!(first["trajectory"]["actions"].as_array().unwrap().len(), 1);
    assert_eq!(first["trajectory"]["states"].as_array().unwrap().len(), 2);
    assert_eq!(lines[1].1["trajectory"]["actions"].as_array().unwrap().len(), 2);
    assert!(lines[1].1["end_reason"].is_null());
}

#[test]
fn validate_accepts_good_tasks_and_explains_broken_ones() {
    let mut good = Vec::new();
    for e in std::fs::read_dir(repo().join("tasks")).unwrap() {
        let p = e.unwrap().path();
        // Tournament files live in tasks/ too; task files are the ones with an `env` section.
        if std::fs::read_to_string(&p).unwrap().lines().any(|l| l.starts_with("env:")) {
            good.push(p);
        }
    }
    assert!(good.len() >= 4, "{good:?}");
    for e in std::fs::read_dir(reference().join("traces")).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with(".task.yaml") {
            good.push(p);
        }
    }
    for e in std::fs::read_dir(reference().join("wire/task_configs")).unwrap() {
        good.push(e.unwrap().path());
    }
    assert!(good.len() >= 10);
    for task in &good {
        let out = bin().arg("validate").arg("--task_config").arg(task).output().unwrap();
        assert!(out.status.success(), "{}: {}", task.display(), String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("configuration hash"));
    }
    let dir = scratch("validate");
    for (text, expected) in [
        ("env:\n  scenario: three_nets\n", "unknown scenario `three_nets`"),
        ("env:\n  scenario: two_networks_tiny\n  required_players: many\n", "env.required_players"),
        ("env: [\n", "not valid YAML"),
    ] {
        let path = dir.join("broken.yaml");
        std::fs::write(&path, text).unwrap();
        let out = bin().arg("validate").arg("--task_config").arg(&path).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains(expected) && err.contains("broken.yaml"), "{err}");
    }
    let out = bin().arg("validate").arg("--task_config").arg(dir.join("missing.yaml")).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read") && err.contains("missing.yaml"), "{err}");
    assert_eq!(err.matches("missing.yaml").count(), 1, "the error is printed once: {err}");
    // A tournament file is recognised and checked as one.
    let out = bin().arg("validate").arg("--task_config").arg(repo().join("tasks/tournament.yaml")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("netsecgame tournament --config"));
    // Something else is named for what it is not.
    let path = dir.join("other.yaml");
    std::fs::write(&path, "players: 3\n").unwrap();
    let out = bin().arg("validate").arg("--task_config").arg(&path).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither a task file"));
}

#[test]
fn scenario_dump_matches_the_reference_for_all_eight() {
    for name in netsecgame::scenario::embedded_names() {
        let out = bin().args(["scenario", "dump", name]).output().unwrap();
        assert!(out.status.success());
        let ours: Value = serde_json::from_slice(&out.stdout).unwrap();
        let theirs: Value =
            serde_json::from_str(&std::fs::read_to_string(reference().join(format!("scenarios/{name}.json"))).unwrap())
                .unwrap();
        assert_eq!(ours["firewall"]["allowed"], theirs["firewall"]["allowed"], "{name}");
        assert_eq!(ours["start_candidates"], theirs["start_candidates"], "{name}");
        let cidrs = |v: &Value| {
            v["networks"].as_array().unwrap().iter().map(|n| (n["cidr"].clone(), n["ips"].clone())).collect::<Vec<_>>()
        };
        assert_eq!(cidrs(&ours), cidrs(&theirs), "{name}");
        for (a, b) in ours["hosts"].as_array().unwrap().iter().zip(theirs["hosts"].as_array().unwrap()) {
            for k in ["name", "kind", "interfaces", "services", "data"] {
                assert_eq!(a[k], b[k], "{name}: {k}");
            }
        }
    }
    let path = repo().join("scenarios/two_networks_tiny.yaml");
    let out = bin().args(["scenario", "dump"]).arg(&path).output().unwrap();
    assert!(out.status.success(), "a scenario file path works too");
}

#[test]
fn a_second_server_on_a_busy_port_fails_once_and_leaves_the_first_ones_log_alone() {
    let dir = scratch("busy-port");
    let task = repo().join("tasks/default.yaml");
    let first = BinServer::start(&task, &dir, &[]);
    let log = dir.join("logs").join(format!("netsecgame-{}.log", first.port));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::fs::read_to_string(&log).map_or(true, |t| !t.contains("listening")) {
        assert!(std::time::Instant::now() < deadline, "the first server logs its start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let before = std::fs::read(&log).unwrap();
    let out = bin()
        .args(["--task_config", task.to_str().unwrap(), "--game_port", &first.port.to_string()])
        .arg("--log_dir")
        .arg(dir.join("logs"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("cannot listen on").count(), 1, "the error is printed once: {err}");
    assert!(err.contains("Address already in use") || err.contains("address in use"), "{err}");
    let after = std::fs::read(&log).unwrap();
    assert!(after.starts_with(&before), "the running server's log is untouched");
    assert!(!after.contains(&0u8), "no NUL bytes");
    drop(first);
    // A restart on the same port appends to the log instead of emptying it.
    let port = log
        .file_name()
        .unwrap()
        .to_string_lossy()
        .trim_start_matches("netsecgame-")
        .trim_end_matches(".log")
        .to_string();
    let mut again = bin()
        .args(["--task_config", task.to_str().unwrap(), "--game_port", &port])
        .arg("--log_dir")
        .arg(dir.join("logs"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_to_string(&log).unwrap().matches("listening").count() < 2 {
        assert!(std::time::Instant::now() < deadline, "the restarted server appends");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(std::fs::read(&log).unwrap().starts_with(&after));
    let _ = again.kill();
    let _ = again.wait();
}

#[test]
fn flags_take_dashes_or_underscores_and_the_last_value_wins() {
    let dir = scratch("flags");
    let task = repo().join("tasks/default.yaml");
    let port = free_port();
    let mut child = bin()
        .args(["--task-config", task.to_str().unwrap(), "--game_port", "1", "--game-port", &port.to_string()])
        .args(["--io-threads", "1", "--io_threads", "2", "--max-per-ip", "4"])
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "the last --game_port is the one served");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut c = Raw::from_stream(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap());
    assert_eq!(c.request(&join("a", "Attacker"))["status"], "GameStatus.CREATED");
    let _ = child.kill();
    let _ = child.wait();
    let help = String::from_utf8(bin().arg("--help").output().unwrap().stdout).unwrap();
    assert!(help.contains("--game_port") && !help.contains("--game-port"), "one spelling in --help");
}

/// Starts the binary with `--games`, retrying on another base port if one of the range is
/// taken; returns the child and its first port.
fn start_games(extra: &[&str], count: usize, dir: &std::path::Path) -> (std::process::Child, u16) {
    for _ in 0..5 {
        let base = free_port();
        if usize::from(base) + count > 65_000 {
            continue;
        }
        let mut child = bin()
            .args(["--game_port", &base.to_string()])
            .args(extra)
            .arg("--log_dir")
            .arg(dir.join("logs"))
            .arg("--trajectory_dir")
            .arg(dir.join("trajectories"))
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let last = base + count as u16 - 1;
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", last)).is_ok() {
                return (child, base);
            }
            if child.try_wait().unwrap().is_some() || std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    panic!("could not start {count} games");
}

#[test]
fn one_process_serves_many_independent_games_and_idle_ones_cost_little() {
    let dir = scratch("many-games");
    // A folder of tasks: one game per task, on consecutive ports.
    let tasks = dir.join("tasks");
    std::fs::create_dir_all(&tasks).unwrap();
    let default = std::fs::read_to_string(repo().join("tasks/default.yaml")).unwrap();
    std::fs::write(tasks.join("a_fifty.yaml"), &default).unwrap();
    std::fs::write(tasks.join("b_seven.yaml"), default.replace("max_steps: 50", "max_steps: 7")).unwrap();
    std::fs::write(tasks.join("c_tournament.yaml"), "episodes: 1\nentrants: []\n").unwrap();
    let (mut child, base) = start_games(&["--task_config", tasks.to_str().unwrap(), "--games", "2"], 4, &dir);
    let max_steps = |port: u16| {
        let mut c = Raw::from_stream(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap());
        c.request(&join("p", "Attacker"))["message"]["max_steps"].clone()
    };
    assert_eq!([max_steps(base), max_steps(base + 1)], [50, 50]);
    assert_eq!([max_steps(base + 2), max_steps(base + 3)], [7, 7], "the folder's second task, twice");
    // The games are independent: an agent joining one does not start another's barrier.
    let _ = child.kill();
    let _ = child.wait();
    // 256 idle games.
    let (mut child, base) = start_games(&["--games", "256"], 256, &dir);
    let rss = proc_status(child.id(), "VmRSS:");
    let mut c = Raw::from_stream(std::net::TcpStream::connect(("127.0.0.1", base + 200)).unwrap());
    assert_eq!(c.request(&join("p", "Attacker"))["status"], "GameStatus.CREATED");
    let _ = child.kill();
    let _ = child.wait();
    assert!(rss < 64 * 1024, "256 idle games take {rss} KiB");
}

#[test]
fn the_servers_own_flags_work_through_the_binary() {
    let dir = scratch("flags-own");
    let task = repo().join("tasks/default.yaml");
    let server = BinServer::start(
        &task,
        &dir,
        &[
            "--max_agents",
            "2",
            "--idle_timeout",
            "1",
            "--frame_timeout_ms",
            "200",
            "--max_request_bytes",
            "1000",
            "--io_threads",
            "2",
        ],
    );
    // --max_request_bytes: a larger request is refused, the connection goes on.
    let mut a = server.connect();
    let big = format!(
        r#"{{"action_type": "JoinGame", "parameters": {{"agent_info": {{"name": "{}", "role": "Attacker"}}}}}}"#,
        "x".repeat(1500)
    );
    let v = a.request(&big);
    assert!(v["message"]["message"].as_str().unwrap().contains("exceeds 1000 bytes"), "{v}");
    assert_eq!(a.request(&join("a", "Attacker"))["status"], "GameStatus.CREATED", "--io_threads 2 serves");
    // --max_agents 2: a third connection is refused.
    let mut b = server.connect();
    // b's connection is known to the game once it has an answer (with two I/O threads, b's
    // and c's arrivals could otherwise reach the game in either order).
    let v = b.request(r#"{"action_type": "ResetGame", "parameters": {}}"#);
    assert_eq!(v["status"], "GameStatus.BAD_REQUEST", "{v}");
    let mut c = server.connect();
    let v = c.recv();
    assert!(v["message"]["message"].as_str().unwrap().contains("Server full"), "{v}");
    // --frame_timeout_ms 200: half a request is answered as malformed after 200 ms.
    let t = std::time::Instant::now();
    a.send(b"{\"action_type\": ");
    let v = a.recv();
    assert!(v["message"]["message"].as_str().unwrap().contains("Malformed Action"), "{v}");
    assert!(t.elapsed() >= std::time::Duration::from_millis(150), "not before the frame timeout");
    // --idle_timeout 1: a silent agent is closed.
    let v = a.recv();
    assert!(v["message"]["message"].as_str().unwrap().contains("No request for 1 s"), "{v}");
    assert!(a.closed_within(std::time::Duration::from_secs(3)));
}

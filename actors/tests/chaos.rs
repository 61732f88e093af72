//! A bounded chaos suite against the real binary: clients that never read, marathon episodes,
//! agents killed with SIGKILL, connection storms, idle floods, signals with open episodes.
//! Each checks that the server's memory and descriptors stay bounded, survivors finish, and
//! trajectories are written.

mod common;
use common::*;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn write_task(dir: &Path, required: usize, attacker_steps: u64, save: bool) -> PathBuf {
    let path = dir.join("task.yaml");
    std::fs::write(
        &path,
        format!(
            r#"env:
  scenario: two_networks_tiny
  required_players: {required}
  save_trajectories: {save}
coordinator:
  agents:
    Attacker:
      max_steps: {attacker_steps}
      goal:
        description: "Exfiltrate DataFromServer1 to 213.47.23.195"
        known_data: {{213.47.23.195: [[User1, DataFromServer1]]}}
      start_position:
        controlled_hosts: [213.47.23.195, 192.168.1.1]
    Defender:
      goal:
        description: "Block all attackers"
        known_blocks: {{213.47.23.195: all_attackers}}
      start_position:
        controlled_hosts: [all_local]
"#
        ),
    )
    .unwrap();
    path
}

fn status(v: &Value) -> String {
    v["status"].as_str().unwrap_or("").to_string()
}

fn scan_net() -> String {
    scan("192.168.1.1", "192.168.1.0", 24)
}

fn find_data_router() -> String {
    r#"{"action_type": "ActionType.FindData", "parameters": {"source_host": {"ip": "192.168.1.1"}, "target_host": {"ip": "192.168.1.1"}}}"#.to_string()
}

#[test]
fn a_client_pipelining_without_reading_leaves_the_server_memory_flat() {
    let dir = scratch("chaos-greedy");
    let server = BinServer::start(&write_task(&dir, 1, 0, false), &dir, &["--max_unsent_bytes", "65536"]);
    let mut greedy = server.connect();
    greedy.request(&join("greedy", "Attacker"));
    let before = server.rss_kib();
    let request = scan_net();
    let mut writer = greedy.stream.try_clone().unwrap();
    writer.set_write_timeout(Some(Duration::from_millis(100))).unwrap();
    let start = Instant::now();
    let mut peak = 0;
    while start.elapsed() < Duration::from_secs(3) {
        // Full speed while the server reads; once it stops, every write times out.
        let _ = writer.write(request.as_bytes());
        peak = peak.max(server.rss_kib());
    }
    // Someone else plays normally meanwhile.
    let mut other = server.connect();
    assert_eq!(status(&other.request(&join("other", "Attacker"))), "GameStatus.CREATED");
    assert_eq!(status(&other.request(&scan_net())), "GameStatus.OK");
    eprintln!("server RSS: {before} KiB before, peak {peak} KiB while flooded");
    assert!(peak < before + 32 * 1024, "memory grew from {before} KiB to {peak} KiB");
}

#[test]
fn a_marathon_of_find_data_stays_bounded_and_its_trajectory_says_truncated() {
    let dir = scratch("chaos-marathon");
    let task = write_task(&dir, 1, 0, true);
    let mut server = BinServer::start(&task, &dir, &["--max_trajectory_bytes", "4000000"]);
    let mut c = server.connect();
    c.request(&join("marathon", "Attacker"));
    let request = find_data_router();
    let mut peak = 0;
    for i in 0..6000 {
        let v = c.request(&request);
        assert_eq!(status(&v), "GameStatus.OK");
        if i % 500 == 0 {
            peak = peak.max(server.rss_kib());
        }
    }
    eprintln!("server RSS peak {peak} KiB over 6000 FindData steps with 64 KiB logs");
    // Unbounded, the trajectory alone would hold 6000 x 64 KiB = 375 MiB.
    assert!(peak < 80 * 1024, "peak RSS {peak} KiB");
    assert!(server.signal("TERM").success());
    let lines = trajectory_lines(&dir);
    assert_eq!(lines.len(), 1);
    let t = &lines[0].1;
    assert_eq!(t["truncated"], true);
    let kept = t["trajectory"]["actions"].as_array().unwrap().len();
    assert!(kept > 10 && kept < 6000, "{kept} steps kept");
}

/// When run by `an_agent_killed_mid_episode_...` with `NSG_CHAOS_CHILD=port`: join as a
/// defender, play a few steps, then wait to be killed.
#[test]
fn chaos_child() {
    let Ok(port) = std::env::var("NSG_CHAOS_CHILD") else { return };
    let stream = std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
    let mut c = Raw::from_stream(stream);
    assert_eq!(status(&c.request(&join("doomed", "Defender"))), "GameStatus.CREATED");
    for _ in 0..3 {
        c.request(&find_data_router());
    }
    println!("READY");
    std::io::stdout().flush().unwrap();
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn an_agent_killed_mid_episode_leaves_the_others_playing_and_is_recorded() {
    let dir = scratch("chaos-kill");
    let mut server = BinServer::start(&write_task(&dir, 3, 30, true), &dir, &[]);
    let mut attacker = server.connect();
    let mut benign = server.connect();
    attacker.send(join("attacker", "Attacker").as_bytes());
    benign.send(join("benign", "Benign").as_bytes());
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "chaos_child", "--nocapture", "--test-threads=1"])
        .env("NSG_CHAOS_CHILD", server.port.to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(status(&attacker.recv()), "GameStatus.CREATED");
    assert_eq!(status(&benign.recv()), "GameStatus.CREATED");
    // Wait until the child played its steps, then SIGKILL it in mid-episode.
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("READY") {
        line.clear();
        assert!(std::io::BufRead::read_line(&mut out, &mut line).unwrap() > 0, "the child died early");
    }
    let _ = Command::new("kill").args(["-KILL", &child.id().to_string()]).status();
    let _ = child.wait();
    // The survivors play their episode to the end and reset together.
    let mut steps = 0;
    loop {
        steps += 1;
        // Both act; a final reply is held until the other's episode ends too.
        attacker.send(scan_net().as_bytes());
        benign.send(find_data_router().as_bytes());
        let v = attacker.recv();
        assert_eq!(status(&v), "GameStatus.OK");
        assert_eq!(status(&benign.recv()), "GameStatus.OK");
        if v["observation"]["end"] == true {
            break;
        }
        assert!(steps <= 30);
    }
    // The next episode needs three players again: a replacement defender starts it.
    attacker.send(reset(false, None, false).as_bytes());
    benign.send(reset(false, None, false).as_bytes());
    let mut replacement = server.connect();
    assert_eq!(status(&replacement.request(&join("replacement", "Defender"))), "GameStatus.CREATED");
    assert_eq!(status(&attacker.recv()), "GameStatus.RESET_DONE");
    assert_eq!(status(&benign.recv()), "GameStatus.RESET_DONE");
    assert!(server.signal("TERM").success());
    let names: Vec<String> =
        trajectory_lines(&dir).iter().map(|(_, t)| t["agent_name"].as_str().unwrap().to_string()).collect();
    assert!(names.contains(&"doomed".to_string()), "the killed agent's episode is written: {names:?}");
    assert!(names.contains(&"attacker".to_string()) && names.contains(&"benign".to_string()), "{names:?}");
}

#[test]
fn connection_storms_and_idle_floods_leave_no_trace() {
    let dir = scratch("chaos-storm");
    let server = BinServer::start(&write_task(&dir, 1, 0, false), &dir, &["--join_timeout", "1"]);
    let baseline = server.fds();
    // A storm: 2,000 connections opened and dropped at once, some with junk.
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let addr = server.addr();
            std::thread::spawn(move || {
                for i in 0..250 {
                    if let Ok(mut s) = std::net::TcpStream::connect(addr) {
                        if (i + t) % 3 == 0 {
                            let _ = s.write_all(b"{\"action_type\": [1, 2");
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // An idle flood: 400 connections from 127.0.0.1 that never join.
    let idle: Vec<std::net::TcpStream> =
        (0..400).filter_map(|_| std::net::TcpStream::connect(server.addr()).ok()).collect();
    // A player from another address gets in and plays during the flood.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let player = rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        socket.connect(server.addr()).await.unwrap().into_std().unwrap()
    });
    player.set_nonblocking(false).unwrap();
    let mut player = Raw::from_stream(player);
    assert_eq!(status(&player.request(&join("player", "Attacker"))), "GameStatus.CREATED");
    assert_eq!(status(&player.request(&scan_net())), "GameStatus.OK");
    // The flood is refused past the per-address limit, and what got in times out.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.fds() > baseline + 5 {
        assert!(Instant::now() < deadline, "descriptors not released: {} open, baseline {baseline}", server.fds());
        std::thread::sleep(Duration::from_millis(100));
        let _ = player.request(&scan_net()); // the player keeps playing (and stays joined)
    }
    drop(idle);
    assert_eq!(status(&player.request(&scan_net())), "GameStatus.OK");
}

#[test]
fn sigint_and_sigterm_write_every_open_episode() {
    for signal in ["INT", "TERM"] {
        let dir = scratch(&format!("chaos-signal-{signal}"));
        let mut server = BinServer::start(&write_task(&dir, 3, 50, true), &dir, &[]);
        let mut agents: Vec<Raw> = (0..3).map(|_| server.connect()).collect();
        for (i, role) in ["Attacker", "Defender", "Benign"].iter().enumerate() {
            agents[i].send(join(&format!("a{i}"), role).as_bytes());
        }
        for a in agents.iter_mut() {
            assert_eq!(status(&a.recv()), "GameStatus.CREATED");
        }
        for a in agents.iter_mut() {
            a.request(&find_data_router());
        }
        assert!(server.signal(signal).success());
        let lines = trajectory_lines(&dir);
        assert_eq!(lines.len(), 3, "SIG{signal}: every open episode: {lines:?}");
    }
}

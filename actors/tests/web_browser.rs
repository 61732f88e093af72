//! The web view in a real browser: headless Chromium (Debian's `chromium`, driven through
//! `chromedriver`) loads the pages of the real binary while agents play, and the rendered
//! page must show what the agents have, live, without reloading.
//!
//! In CI (`CI` set) a missing Chromium fails the test; elsewhere it is skipped with a note.
//! The ignored `readme_screenshots` writes the README's screenshots to
//! `NETSECGAME_SCREENSHOTS` (e.g. `docs`).

mod common;
use common::webdriver::{available, Browser};
use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const EXPLOIT_SMB: &str = r#"{"action_type": "ActionType.ExploitService", "parameters": {"source_host": {"ip": "192.168.1.1"}, "target_host": {"ip": "192.168.1.2"}, "target_service": {"name": "microsoft-ds", "type": "passive", "version": "10.0.19041", "is_local": false}}}"#;
const FIND_DATA_SMB: &str = r#"{"action_type": "ActionType.FindData", "parameters": {"source_host": {"ip": "192.168.1.2"}, "target_host": {"ip": "192.168.1.2"}}}"#;

/// Where the tests' screenshots go: a scratch folder (they show what the test saw).
fn screenshot_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("nsg-screens-{}", std::process::id())).join(name)
}

/// Where the README's screenshots go: `NETSECGAME_SCREENSHOTS` (relative to the repository).
fn readme_path(name: &str) -> PathBuf {
    match std::env::var_os("NETSECGAME_SCREENSHOTS") {
        Some(dir) => repo().join(dir).join(name),
        None => screenshot_path(name),
    }
}

/// Waits until the web view answers on `port`.
fn wait_for_web(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the web view did not listen on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_game_page_shows_an_agent_playing_live_and_replays_a_file() {
    if !available() {
        return;
    }
    let started = Instant::now();
    let dir = scratch("web-browser");
    let web = free_port();
    let server = BinServer::start(&repo().join("tasks/default.yaml"), &dir, &["--http", &web.to_string()]);
    wait_for_web(web);
    let mut agent = server.connect();
    assert_eq!(agent.request(&join("web_test", "Attacker"))["status"], "GameStatus.CREATED");
    for step in
        [scan("192.168.1.1", "192.168.1.0", 24), find_services("192.168.1.1", "192.168.1.2"), EXPLOIT_SMB.into()]
    {
        assert_eq!(agent.request(&step)["status"], "GameStatus.OK", "{step}");
    }

    let browser = Browser::start(1500, 900);
    browser.goto(&format!("http://127.0.0.1:{web}/"));
    // The agent's controlled hosts, on its card...
    let ips = browser.wait_for(
        "the agent's card with its controlled hosts",
        r#"const card = document.querySelector('#agent-cards .agent[data-name="web_test"]');
           if (!card) return null;
           const ips = [...card.querySelectorAll('.controlled-host')].map(e => e.dataset.ip).sort();
           return ips.length === 3 ? ips : null;"#,
        Duration::from_secs(20),
    );
    assert_eq!(ips, json!(["192.168.1.1", "192.168.1.2", "213.47.23.195"]));
    // ...and on the graph (the page focuses the only attacker).
    let hosts = browser
        .eval("return [...document.querySelectorAll('#graph g.host.controlled')].map(g => g.dataset.name).sort()");
    assert_eq!(hosts, json!(["outside_node", "router1", "smb_server"]));
    assert_eq!(browser.eval("return document.querySelectorAll('#graph g.net').length"), json!(3));

    // Live: what the agent does now shows up, pushed, with no reload.
    browser.eval("window.__loaded_once = true; return 1");
    assert_eq!(agent.request(FIND_DATA_SMB)["status"], "GameStatus.OK");
    browser.wait_for(
        "the new action in the log",
        "return [...document.querySelectorAll('#log li')].some(li => li.textContent.includes('find data on 192.168.1.2 from 192.168.1.2'))",
        Duration::from_secs(10),
    );
    browser.wait_for(
        "the data found on the agent's card",
        r#"return [...document.querySelectorAll('#agent-cards .agent[data-name="web_test"] .chip.data')].some(c => c.textContent.includes('User1/DataFromServer1'))"#,
        Duration::from_secs(10),
    );
    assert_eq!(browser.eval("return window.__loaded_once === true"), json!(true), "the page was not reloaded");
    browser.eval("document.querySelector('#graph g.host[data-name=\"smb_server\"]').dispatchEvent(new MouseEvent('click', {bubbles: true})); return 1");
    let panel = browser.wait_for(
        "the host panel",
        "const p = document.getElementById('host-panel'); return !p.hidden && p.textContent",
        Duration::from_secs(5),
    );
    assert!(panel.as_str().unwrap().contains("microsoft-ds"), "{panel}");
    browser.screenshot(&screenshot_path("web-game.png"));
    browser.eval("document.getElementById('host-panel').hidden = true; return 1");

    // Replay: a trajectory file, uploaded through the page, stepped on the same graph.
    browser.goto(&format!("http://127.0.0.1:{web}/replay"));
    let file = repo().join("actors/tests/data/analyze/ours_two_networks_tiny.jsonl");
    let lines = std::fs::read_to_string(&file).unwrap().lines().filter(|l| !l.trim().is_empty()).count();
    browser.upload("#file", &file);
    let listed = browser.wait_for(
        "the replay's episodes",
        "return document.querySelectorAll('#episodes li[data-episode]').length",
        Duration::from_secs(30),
    );
    assert_eq!(listed, json!(lines));
    browser.eval("document.getElementById('last').click(); return 1");
    let controlled = browser.wait_for(
        "the last step's controlled hosts on the graph",
        "return [...document.querySelectorAll('#graph g.host.controlled')].map(g => g.dataset.name)",
        Duration::from_secs(5),
    );
    assert!(controlled.as_array().unwrap().len() >= 2, "{controlled}");
    let text = browser.eval("return document.getElementById('analysis-text').textContent");
    assert!(text.as_str().unwrap().contains("episodes"), "the analysis summary is shown: {text}");
    assert_eq!(browser.eval("return document.querySelectorAll('#charts img').length"), json!(2));
    browser.screenshot(&screenshot_path("web-replay.png"));
    drop(server);
    eprintln!("browser test (game and replay pages) took {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn the_tournament_page_follows_a_tournament_to_its_end() {
    if !available() {
        return;
    }
    let started = Instant::now();
    let dir = scratch("web-tournament");
    let config = dir.join("tournament.yaml");
    // An external entrant paced so that the tournament lasts a few seconds: long enough to
    // watch one of its matches being played.
    std::fs::write(
        &config,
        format!(
            r#"episodes: 4
seeds: [1]
tasks: [{task}]
parallel: 1
limits: {{join_s: 30, step_s: 30, match_s: 120}}
entrants:
  - name: paced
    role: Attacker
    command: "{bin} play --addr {{host}}:{{port}} --agent scripted_attacker --episodes {{episodes}} --seed {{seed}} --delay_ms 40 --name {{name}}"
  - {{name: scripted, role: Attacker, builtin: scripted_attacker}}
  - {{name: random, role: Attacker, builtin: random_attacker}}
  - {{name: log_defender, role: Defender, builtin: log_defender}}
  - {{name: random_defender, role: Defender, builtin: random_defender}}
"#,
            task = repo().join("tasks/default.yaml").display(),
            bin = env!("CARGO_BIN_EXE_netsecgame"),
        ),
    )
    .unwrap();
    let web = free_port();
    let mut child = bin()
        .args(["tournament", "--quiet", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(dir.join("results"))
        .args(["--http", &format!("127.0.0.1:{web}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    wait_for_web(web);
    let browser = Browser::start(1500, 1000);
    browser.goto(&format!("http://127.0.0.1:{web}/tournament"));
    // A match being played has a game to watch.
    let link = browser.wait_for(
        "a running match with a game to watch",
        "const a = document.querySelector('#running a'); return a && a.getAttribute('href')",
        Duration::from_secs(30),
    );
    let done_then = browser.eval("return document.getElementById('k-done').textContent");
    browser.goto(&format!("http://127.0.0.1:{web}{}", link.as_str().unwrap()));
    browser.wait_for(
        "the match's agents on the game page",
        "return document.querySelectorAll('#agent-cards .agent').length >= 2",
        Duration::from_secs(20),
    );
    // Back on the tournament page: it updates until the end.
    browser.goto(&format!("http://127.0.0.1:{web}/tournament"));
    browser.wait_for(
        "the finished tournament",
        "return document.getElementById('k-done').textContent === '6/6' && document.querySelectorAll('#leaderboard tr[data-entrant]').length === 5",
        Duration::from_secs(60),
    );
    assert_ne!(done_then, json!("6/6"), "the page was loaded while the tournament ran");
    let entrants: Value = browser.eval(
        "return [...document.querySelectorAll('#leaderboard tr[data-entrant]')].map(r => r.dataset.entrant).sort()",
    );
    assert_eq!(entrants, json!(["log_defender", "paced", "random", "random_defender", "scripted"]));
    assert_eq!(browser.eval("return document.querySelectorAll('#matrix td.cell').length"), json!(6));
    browser.wait_for(
        "the ratings chart",
        "return document.querySelectorAll('#chart polyline').length",
        Duration::from_secs(5),
    );
    browser.screenshot(&screenshot_path("web-tournament.png"));
    // The process says the view stays up, and stops on SIGTERM.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let line = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("the stay-up notice");
        if line.contains("stays up") {
            break;
        }
    }
    let _ = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    eprintln!("browser test (tournament page) took {:.1} s", started.elapsed().as_secs_f64());
}

/// The README's screenshots, of a three-player game and of a finished tournament:
/// `NETSECGAME_SCREENSHOTS=docs cargo test --release -p netsecgame-actors --test web_browser -- --ignored`.
#[test]
#[ignore = "writes the README's screenshots; run by hand"]
fn readme_screenshots() {
    if !available() {
        return;
    }
    let dir = scratch("web-readme");
    let web = free_port();
    let server = BinServer::start(&repo().join("tasks/multi_agent.yaml"), &dir, &["--http", &web.to_string()]);
    wait_for_web(web);
    let addr = server.addr().to_string();
    let mut agents: Vec<std::process::Child> =
        [("scripted_attacker", "attacker", "600"), ("log_defender", "defender", "700"), ("benign", "user", "800")]
            .into_iter()
            .map(|(agent, name, delay)| {
                bin()
                    .args([
                        "play",
                        "--addr",
                        &addr,
                        "--agent",
                        agent,
                        "--name",
                        name,
                        "--episodes",
                        "100",
                        "--delay_ms",
                        delay,
                    ])
                    .args(["--seed", "5"])
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
    let browser = Browser::start(1600, 940);
    browser.goto(&format!("http://127.0.0.1:{web}/"));
    browser.wait_for(
        "three agents",
        "return document.querySelectorAll('#agent-cards .agent').length === 3",
        Duration::from_secs(20),
    );
    browser.wait_for(
        "a page of actions",
        "return document.querySelectorAll('#log li.kind-step').length >= 14",
        Duration::from_secs(60),
    );
    browser.screenshot(&readme_path("web-game.png"));
    for a in &mut agents {
        let _ = a.kill();
        let _ = a.wait();
    }
    drop(server);

    // The attacker's trajectories (saved when it left), replayed.
    let trajectories = dir.join("trajectories");
    let file = std::fs::read_dir(&trajectories)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().contains("attacker"))
        .expect("the attacker's trajectory file");
    browser.goto("about:blank");
    let web = free_port();
    let viewer =
        BinServer::start(&repo().join("tasks/multi_agent.yaml"), &dir.join("viewer"), &["--http", &web.to_string()]);
    wait_for_web(web);
    browser.goto(&format!("http://127.0.0.1:{web}/replay"));
    browser.upload("#file", &file);
    browser.wait_for(
        "the episodes",
        "return document.querySelectorAll('#episodes li[data-episode]').length",
        Duration::from_secs(30),
    );
    browser.eval("for (let i = 0; i < 6; i++) document.getElementById('next').click(); return 1");
    browser.screenshot(&readme_path("web-replay.png"));
    drop(viewer);

    let web = free_port();
    let mut child = bin()
        .args(["tournament", "--quiet", "--config"])
        .arg(repo().join("tasks/tournament.yaml"))
        .arg("--out")
        .arg(dir.join("results"))
        .args(["--http", &web.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_web(web);
    browser.resize(1600, 1320);
    browser.goto(&format!("http://127.0.0.1:{web}/tournament"));
    browser.wait_for(
        "the finished tournament",
        "return document.querySelector('.conn').textContent === 'finished' && document.querySelectorAll('#chart polyline').length > 0",
        Duration::from_secs(60),
    );
    browser.screenshot(&readme_path("web-tournament.png"));
    let _ = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    assert!(child.wait().unwrap().success());
}

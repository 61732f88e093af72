//! The TCP transport: what only a socket can show. Barriers and rules are tested on the
//! referee (`tests/game_rules.rs`) and on the actors (`game_actors.rs`); here: half-closes,
//! clients that never read, junk, timeouts and admission limits.

mod common;
use common::*;
use netsecgame_actors::server::ServerConfig;
use netsecgame_actors::transports::tcp::SessionSettings;
use serde_json::Value;
use std::io::Write;
use std::net::Shutdown;
use std::time::{Duration, Instant};

fn task(required: usize, attacker_steps: u64) -> String {
    format!(
        r#"env:
  scenario: two_networks_tiny
  required_players: {required}
coordinator:
  agents:
    Attacker:
      max_steps: {attacker_steps}
      goal:
        description: "Exfiltrate DataFromServer1 to 213.47.23.195"
        known_data: {{213.47.23.195: [[User1, DataFromServer1]]}}
      start_position:
        controlled_hosts: [213.47.23.195, 192.168.2.2]
"#
    )
}

fn status(v: &Value) -> &str {
    v["status"].as_str().unwrap_or("")
}

fn scan_client_net() -> String {
    scan("192.168.2.2", "192.168.1.0", 24)
}

#[test]
fn a_request_sent_just_before_a_half_close_is_answered() {
    let server = start_with(task_from_yaml(&task(1, 0)), 256, SessionSettings::default(), None);
    // A hundred clients at once: join, then send a step and shut down the write side.
    let clients: Vec<_> = (0..100)
        .map(|i| {
            let addr = server.addr;
            std::thread::spawn(move || {
                let mut c = Raw::from_stream(std::net::TcpStream::connect(addr).unwrap());
                assert_eq!(status(&c.request(&join(&format!("h{i}"), "Attacker"))), "GameStatus.CREATED");
                c.send(scan_client_net().as_bytes());
                c.stream.shutdown(Shutdown::Write).unwrap();
                let v = c.recv();
                assert_eq!(status(&v), "GameStatus.OK", "{v}");
                assert!(c.closed_within(Duration::from_secs(5)), "closed after the reply");
            })
        })
        .collect();
    for c in clients {
        c.join().expect("every half-closing client got its reply");
    }
    assert!(server.wait_for(Duration::from_secs(5), |s| s.connections == 0), "every agent left the game");
}

#[test]
fn junk_without_a_newline_then_a_half_close_gets_an_answer() {
    let server = start(task_from_yaml(&task(1, 0)));
    let mut c = Raw::connect(&server);
    c.send(b"{\"action_type\": \"ActionType.ScanNet");
    c.stream.shutdown(Shutdown::Write).unwrap();
    let v = c.recv();
    assert_eq!(status(&v), "GameStatus.BAD_REQUEST");
    assert!(v["message"]["message"].as_str().unwrap().contains("Malformed Action"), "{v}");
    assert!(c.closed_within(Duration::from_secs(5)));
}

#[test]
fn an_agent_whose_input_ends_while_waiting_to_start_leaves_the_barrier() {
    let server = start(task_from_yaml(&task(2, 10)));
    let mut quitter = Raw::connect(&server);
    quitter.send(join("quitter", "Attacker").as_bytes());
    assert!(server.wait_for(Duration::from_secs(5), |s| s.players.len() == 1));
    quitter.stream.shutdown(Shutdown::Write).unwrap();
    assert!(quitter.closed_within(Duration::from_secs(5)), "closed without a reply");
    assert!(server.wait_for(Duration::from_secs(5), |s| s.players.is_empty()), "the quitter no longer counts");
    let mut a = Raw::connect(&server);
    a.send(join("a", "Attacker").as_bytes());
    assert!(server.wait_for(Duration::from_secs(5), |s| s.players.len() == 1));
    let mut b = Raw::connect(&server);
    assert_eq!(status(&b.request(&join("b", "Attacker"))), "GameStatus.CREATED");
    assert_eq!(status(&a.recv()), "GameStatus.CREATED");
}

#[test]
fn idle_connections_are_closed_but_waiting_at_a_barrier_is_not_idle() {
    let sessions = SessionSettings { idle_timeout: Some(Duration::from_millis(400)), ..Default::default() };
    let server = start_with(task_from_yaml(&task(2, 10)), 16, sessions, None);
    let mut waiting = Raw::connect(&server);
    waiting.send(join("patient", "Attacker").as_bytes());
    let mut idle = Raw::connect(&server);
    let v = idle.recv();
    assert!(v["message"]["message"].as_str().unwrap().contains("No request"), "{v}");
    assert!(idle.closed_within(Duration::from_secs(2)));
    // The agent parked at the start barrier is still there and starts when a peer joins.
    std::thread::sleep(Duration::from_millis(500));
    let mut peer = Raw::connect(&server);
    assert_eq!(status(&peer.request(&join("peer", "Attacker"))), "GameStatus.CREATED");
    assert_eq!(status(&waiting.recv()), "GameStatus.CREATED");
}

#[test]
fn connections_that_never_join_are_closed_after_the_join_timeout() {
    let sessions = SessionSettings { join_timeout: Some(Duration::from_millis(300)), ..Default::default() };
    let server = start_with(task_from_yaml(&task(1, 10)), 16, sessions, None);
    let mut lurker = Raw::connect(&server);
    let mut player = Raw::connect(&server);
    assert_eq!(status(&player.request(&join("p", "Attacker"))), "GameStatus.CREATED");
    let v = lurker.recv();
    assert!(v["message"]["message"].as_str().unwrap().contains("No JoinGame within"), "{v}");
    assert!(lurker.closed_within(Duration::from_secs(2)));
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(status(&player.request(&scan_client_net())), "GameStatus.OK", "a joined agent stays");
}

#[test]
fn one_address_cannot_take_every_slot() {
    let mut settings = netsecgame::game::GameSettings::new(task_from_yaml(&task(1, 10)));
    settings.max_agents = 64;
    let mut config =
        ServerConfig::new("127.0.0.1:0", netsecgame_actors::game::GameConfig::new(settings, 1, std::env::temp_dir()));
    config.limits.max_per_ip = 3;
    let server = start_config(config);
    let held: Vec<Raw> = (0..3).map(|_| Raw::connect(&server)).collect();
    let mut fourth = Raw::connect(&server);
    let v = fourth.recv();
    assert!(v["message"]["message"].as_str().unwrap().contains("Too many connections from 127.0.0.1"), "{v}");
    assert!(fourth.closed_within(Duration::from_secs(2)));
    drop(held);
    assert!(server.wait_for(Duration::from_secs(5), |s| s.connections == 0));
    let mut again = Raw::connect(&server);
    assert_eq!(status(&again.request(&join("back", "Attacker"))), "GameStatus.CREATED", "places are given back");
}

#[test]
fn a_client_that_never_reads_is_held_back_and_everyone_else_plays_on() {
    let sessions = SessionSettings { max_unsent_bytes: 64 * 1024, ..Default::default() };
    let server = start_with(task_from_yaml(&task(1, 0)), 16, sessions, None);
    let mut greedy = Raw::connect(&server);
    greedy.request(&join("greedy", "Attacker"));
    // Pipelines requests as fast as it can for two seconds, never reading.
    let request = scan_client_net();
    let mut writer = greedy.stream.try_clone().unwrap();
    writer.set_write_timeout(Some(Duration::from_millis(200))).unwrap();
    let pusher = std::thread::spawn(move || {
        let start = Instant::now();
        let (mut sent, mut blocked) = (0usize, false);
        while start.elapsed() < Duration::from_secs(2) {
            match writer.write(request.as_bytes()) {
                Ok(n) if n == request.len() => sent += 1,
                // A partial write or a timeout: the socket is full, the server is not reading.
                Ok(_) | Err(_) => {
                    blocked = true;
                    break;
                }
            }
        }
        (sent, blocked)
    });
    let mut other = Raw::connect(&server);
    let t = Instant::now();
    assert_eq!(status(&other.request(&join("other", "Attacker"))), "GameStatus.CREATED");
    for _ in 0..20 {
        assert_eq!(status(&other.request(&scan_client_net())), "GameStatus.OK");
    }
    assert!(t.elapsed() < Duration::from_secs(3), "other agents are not held up");
    let (sent, blocked) = pusher.join().unwrap();
    // Backpressure: the server stopped reading, the kernel buffers filled, and the client's
    // writes blocked. (Without it the server reads on and buffers replies without bound; the
    // server's memory is checked on the real binary in `server_process.rs`.)
    assert!(blocked, "the client was never held back: {sent} requests taken");
    // Every request that got in is answered, in order, once the client reads.
    for _ in 0..sent {
        assert_eq!(status(&greedy.recv()), "GameStatus.OK");
    }
}

//! Multi-agent behaviour over TCP: barriers, consensus, disconnects, rewards, trajectories.

mod common;
use common::*;
use serde_json::Value;
use std::time::Duration;

const SHORT: Duration = Duration::from_millis(300);

/// two_networks_tiny; attackers start on the C&C host and the client; defenders control every
/// private IP.
fn task(required: usize, attacker_steps: u64, save: bool) -> String {
    format!(
        r#"env:
  scenario: two_networks_tiny
  required_players: {required}
  save_trajectories: {save}
  rewards: {{success: 100, step: -1, fail: -10, false_positive: -5}}
coordinator:
  agents:
    Attacker:
      max_steps: {attacker_steps}
      goal:
        description: "Exfiltrate DataFromServer1 to 213.47.23.195"
        known_data: {{213.47.23.195: [[User1, DataFromServer1]]}}
      start_position:
        controlled_hosts: [213.47.23.195, 192.168.2.2]
    Defender:
      goal:
        description: "Block all attackers"
        known_blocks: {{213.47.23.195: all_attackers}}
      start_position:
        controlled_hosts: [all_local]
"#
    )
}

fn status(v: &Value) -> &str {
    v["status"].as_str().unwrap_or("")
}

/// Connects two agents and joins them; the first join is sent before the second so that with
/// `required_players: 2` the first one waits at the start barrier. Both must be CREATED.
fn joined_pair(
    server: &netsecgame_actors::server::ServerHandle,
    first: (&str, &str),
    second: (&str, &str),
) -> (Raw, Raw) {
    let mut a = Raw::connect(server);
    let mut b = Raw::connect(server);
    a.send(join(first.0, first.1).as_bytes());
    assert_eq!(status(&b.request(&join(second.0, second.1))), "GameStatus.CREATED");
    assert_eq!(status(&a.recv()), "GameStatus.CREATED");
    (a, b)
}

fn scan_client_net() -> String {
    scan("192.168.2.2", "192.168.1.0", 24)
}

#[test]
fn start_barrier_waits_for_required_players_of_any_role() {
    let server = start(task_from_yaml(&task(2, 10, false)));
    let mut a = Raw::connect(&server);
    a.send(join("att", "Attacker").as_bytes());
    assert!(a.try_recv_text(SHORT).is_none(), "the attacker waits for a second player");
    // A connection that leaves without joining does not count.
    drop(Raw::connect(&server));
    assert!(a.try_recv_text(SHORT).is_none());
    let mut d = Raw::connect(&server);
    let dv = d.request(&join("def", "defender"));
    assert_eq!(status(&dv), "GameStatus.CREATED");
    assert_eq!(dv["message"]["message"], "Welcome def, registred as AgentRole.Defender");
    assert_eq!(dv["observation"]["state"]["controlled_hosts"].as_array().unwrap().len(), 4, "all_local");
    assert_eq!(status(&a.recv()), "GameStatus.CREATED");
}

#[test]
fn episode_end_barrier_holds_final_replies_and_forbids_further_actions() {
    let server = start(task_from_yaml(&task(2, 2, false)));
    let (mut a, mut b) = joined_pair(&server, ("a", "Attacker"), ("b", "Attacker"));
    assert_eq!(a.request(&scan_client_net())["observation"]["reward"], -1);
    a.send(scan_client_net().as_bytes());
    assert!(a.try_recv_text(SHORT).is_none(), "A's final reply waits for B");
    assert_eq!(b.request(&scan_client_net())["observation"]["end"], false);
    b.send(scan_client_net().as_bytes());
    for c in [&mut a, &mut b] {
        let v = c.recv();
        assert_eq!(v["observation"]["end"], true);
        assert_eq!(v["observation"]["reward"], -11, "step -1 + fail -10, applied once");
        assert_eq!(v["observation"]["info"]["end_reason"], "AgentStatus.TimeoutReached");
    }
    let v = a.request(&scan_client_net());
    assert_eq!(status(&v), "GameStatus.FORBIDDEN");
    assert_eq!(v["observation"]["reward"], -11);
    assert_eq!(v["observation"]["info"]["info"], "Episode ended. Request reset for starting new episode.");
    // B leaving after the end must not pay rewards twice (B25).
    drop(b);
    std::thread::sleep(SHORT);
    assert_eq!(a.request(&scan_client_net())["observation"]["reward"], -11);
}

#[test]
fn reset_needs_everyone_and_agreeing_seeds() {
    let server = start(task_from_yaml(&task(2, 50, false)));
    let (mut a, mut b) = joined_pair(&server, ("a", "Attacker"), ("b", "Attacker"));
    // Disagreeing seeds: both get BAD_REQUEST and the game goes on.
    a.send(reset(false, Some(1), false).as_bytes());
    assert!(a.try_recv_text(SHORT).is_none(), "A waits for B");
    let vb = b.request(&reset(false, Some(2), false));
    let va = a.recv();
    for v in [&va, &vb] {
        assert_eq!(status(v), "GameStatus.BAD_REQUEST");
        assert!(v["message"]["message"].as_str().unwrap().contains("disagree on the seed"), "{v}");
    }
    // Agreeing: both get RESET_DONE; only A asked for the trajectory.
    a.send(reset(true, Some(7), false).as_bytes());
    let vb = b.request(&reset(false, Some(7), false));
    let va = a.recv();
    assert_eq!(status(&va), "GameStatus.RESET_DONE");
    assert_eq!(status(&vb), "GameStatus.RESET_DONE");
    assert!(va["message"]["last_trajectory"].is_object());
    assert!(vb["message"].get("last_trajectory").is_none());
    assert_eq!(va["message"]["message"], "Resetting Game and starting again.");
    assert_eq!(status(&a.request(&scan_client_net())), "GameStatus.OK");
}

#[test]
fn mid_episode_reset_releases_agents_waiting_at_the_episode_end() {
    let server = start(task_from_yaml(&task(2, 1, false)));
    let (mut a, mut b) = joined_pair(&server, ("a", "Attacker"), ("b", "Attacker"));
    a.send(scan_client_net().as_bytes());
    assert!(a.try_recv_text(SHORT).is_none());
    // B asks for a reset in mid-episode: upstream deadlocks here (B24).
    b.send(reset(false, None, false).as_bytes());
    let va = a.recv();
    assert_eq!(va["observation"]["end"], true);
    assert!(b.try_recv_text(SHORT).is_none(), "B waits for A's reset request");
    let va = a.request(&reset(false, None, false));
    assert_eq!(status(&va), "GameStatus.RESET_DONE");
    assert_eq!(status(&b.recv()), "GameStatus.RESET_DONE");
}

#[test]
fn disconnects_release_every_barrier() {
    // Episode end.
    let server = start(task_from_yaml(&task(1, 1, false)));
    let (mut a, b) = joined_pair(&server, ("a", "Attacker"), ("b", "Attacker"));
    a.send(scan_client_net().as_bytes());
    assert!(a.try_recv_text(SHORT).is_none());
    drop(b);
    assert_eq!(a.recv()["observation"]["end"], true);
    // Reset.
    let mut c = Raw::connect(&server);
    c.request(&join("c", "Attacker"));
    a.send(reset(false, None, false).as_bytes());
    assert!(a.try_recv_text(SHORT).is_none());
    // QuitGame is acknowledged, closes the connection and releases the reset.
    let q = c.request(r#"{"action_type": "ActionType.QuitGame", "parameters": {}}"#);
    assert_eq!(status(&q), "GameStatus.OK");
    assert_eq!(status(&a.recv()), "GameStatus.RESET_DONE");
}

#[test]
fn defender_false_positives_and_end_rewards() {
    let server = start(task_from_yaml(&task(2, 2, false)));
    let (mut d, mut a) = joined_pair(&server, ("def", "Defender"), ("att", "Attacker"));
    // The defender cuts 192.168.2.2 <-> 192.168.1.2, then runs into its own block.
    let v = d.request(&block("192.168.1.2", "192.168.1.2", "192.168.2.2"));
    assert_eq!(v["observation"]["state"]["known_blocks"]["192.168.1.2"][0]["ip"], "192.168.2.2");
    // The attacker no longer sees the server behind the block.
    let v = a.request(&scan_client_net());
    let hosts = v["observation"]["state"]["known_hosts"].to_string();
    assert!(!hosts.contains("192.168.1.2"), "{hosts}");
    a.send(scan_client_net().as_bytes());
    assert!(a.try_recv_text(SHORT).is_none(), "the attacker's final reply waits for the defender");
    // No attacker is playing any more, so this action ends the defender's episode. It runs
    // into the defender's own block: one false positive.
    d.send(find_services("192.168.2.2", "192.168.1.2").as_bytes());
    let vd = d.try_recv_text(Duration::from_secs(3)).expect("defender final reply");
    let vd: Value = serde_json::from_str(&vd).unwrap();
    let va = a.recv();
    assert_eq!(va["observation"]["reward"], -11);
    assert_eq!(va["observation"]["info"]["end_reason"], "AgentStatus.TimeoutReached");
    assert_eq!(vd["observation"]["end"], true);
    assert_eq!(vd["observation"]["info"]["end_reason"], "AgentStatus.Success");
    assert_eq!(vd["observation"]["reward"], -1 + 100 - 5, "step + success + one false positive");
}

/// Plays scans until the episode ends; returns (steps, final reply).
fn scan_until_end(c: &mut Raw, limit: usize) -> (usize, Value) {
    for n in 1..=limit {
        let v = c.request(&scan_client_net());
        if v["observation"]["end"] == true {
            return (n, v);
        }
    }
    panic!("episode did not end within {limit} steps");
}

#[test]
fn global_defender_detects_repetitive_attackers_reproducibly() {
    let yaml =
        task(1, 0, false).replace("  required_players: 1\n", "  required_players: 1\n  use_global_defender: true\n");
    let play = || {
        let server = start(task_from_yaml(&yaml));
        let mut c = Raw::connect(&server);
        c.request(&join("spammer", "Attacker"));
        scan_until_end(&mut c, 2000)
    };
    let (steps, last) = play();
    assert!(steps >= 5, "the first four actions are never detected");
    assert_eq!(last["observation"]["info"]["end_reason"], "AgentStatus.Fail");
    assert_eq!(last["observation"]["reward"], -11, "step -1 + fail -10");
    assert_eq!(play().0, steps, "the same server seed gives the same detection step");
}

#[test]
fn topology_changes_only_with_an_agreed_seed_and_reproducibly() {
    let yaml =
        task(1, 0, false).replace("  required_players: 1\n", "  required_players: 1\n  use_dynamic_addresses: true\n");
    let hosts = |v: &Value| v["observation"]["state"]["controlled_hosts"].to_string();
    let run = |seed: i64| {
        let server = start(task_from_yaml(&yaml));
        let mut c = Raw::connect(&server);
        let first = c.request(&join("a", "Attacker"));
        let plain = c.request(&reset(false, None, true));
        assert_eq!(hosts(&plain), hosts(&first), "no seed, no topology change");
        let moved = c.request(&reset(false, Some(seed), true));
        assert_eq!(status(&moved), "GameStatus.RESET_DONE");
        assert_ne!(hosts(&moved), hosts(&first), "addresses changed");
        assert!(!hosts(&moved).contains("213.47.23.195"), "public addresses move too");
        // The new world is consistent: scanning the client's new network finds the server.
        let net = moved["observation"]["state"]["known_networks"].clone();
        (hosts(&moved), net, moved["message"]["goal_description"].clone())
    };
    let a = run(11);
    assert_eq!(a, run(11), "the same seed gives the same addresses");
    assert!(!a.2.as_str().unwrap().contains("213.47.23.195"), "the goal text follows the C&C's new address: {}", a.2);
}

#[test]
fn idle_connections_are_closed_but_waiting_at_a_barrier_is_not_idle() {
    let sessions = netsecgame_actors::session::SessionSettings {
        idle_timeout: Some(Duration::from_millis(400)),
        ..Default::default()
    };
    let server = start_with(task_from_yaml(&task(2, 10, false)), 16, sessions, None);
    let mut waiting = Raw::connect(&server);
    waiting.send(join("patient", "Attacker").as_bytes());
    let mut idle = Raw::connect(&server);
    std::thread::sleep(Duration::from_millis(900));
    let v = idle.recv();
    assert!(v["message"]["message"].as_str().unwrap().contains("No request"), "{v}");
    assert!(idle.closed_within(Duration::from_secs(2)));
    // The agent parked at the start barrier is still there and starts when a peer joins.
    let mut peer = Raw::connect(&server);
    assert_eq!(status(&peer.request(&join("peer", "Attacker"))), "GameStatus.CREATED");
    assert_eq!(status(&waiting.recv()), "GameStatus.CREATED");
}

#[test]
fn a_client_that_never_reads_stalls_only_itself() {
    let server = start(task_from_yaml(&task(1, 0, false)));
    let mut greedy = Raw::connect(&server);
    greedy.request(&join("greedy", "Attacker"));
    // 3000 pipelined requests, no reading: the server's write buffer fills, then it stops
    // reading this connection (backpressure) instead of buffering without bound.
    let burst: String = (0..3000).map(|_| scan_client_net()).collect();
    let writer = {
        let mut s = greedy.stream.try_clone().unwrap();
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = s.write_all(burst.as_bytes());
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let mut other = Raw::connect(&server);
    let t = std::time::Instant::now();
    assert_eq!(status(&other.request(&join("other", "Attacker"))), "GameStatus.CREATED");
    for _ in 0..20 {
        assert_eq!(status(&other.request(&scan_client_net())), "GameStatus.OK");
    }
    assert!(t.elapsed() < Duration::from_secs(5), "other agents are not held up");
    // Every pipelined request is answered, in order, once the client reads.
    for _ in 0..3000 {
        assert_eq!(status(&greedy.recv()), "GameStatus.OK");
    }
    writer.join().unwrap();
}

#[test]
fn leaving_while_waiting_to_start_does_not_count() {
    let server = start(task_from_yaml(&task(2, 10, false)));
    let mut quitter = Raw::connect(&server);
    quitter.send(join("quitter", "Attacker").as_bytes());
    std::thread::sleep(SHORT);
    drop(quitter);
    std::thread::sleep(SHORT);
    let mut a = Raw::connect(&server);
    a.send(join("a", "Attacker").as_bytes());
    assert!(a.try_recv_text(SHORT).is_none(), "the quitter no longer counts towards the start (B46)");
    let mut b = Raw::connect(&server);
    assert_eq!(status(&b.request(&join("b", "Attacker"))), "GameStatus.CREATED");
    assert_eq!(status(&a.recv()), "GameStatus.CREATED");
}

//! Golden wire tests: every upstream transcript in `tests/reference/wire/` is replayed byte
//! for byte against our server, and our reply must equal upstream's after normalising set
//! order, `to_agent`, `configuration_hash` and the detail we add to "Malformed Action".
//! Also raw-socket framing cases upstream gets wrong (split, coalesced and oversized requests).

mod common;
use common::*;
use netsecgame::pyjson::to_py_json;
use serde_json::Value;
use std::time::Duration;

/// (request bytes, reply text or None when upstream never answered)
fn transcript(name: &str) -> (Vec<u8>, Option<String>) {
    let text = std::fs::read(reference().join("wire").join(name)).unwrap();
    let nl = text.iter().position(|&b| b == b'\n').unwrap();
    let request = text[..nl].to_vec();
    let rest = String::from_utf8(text[nl + 1..].to_vec()).unwrap();
    if rest.starts_with("<<NO RESPONSE") {
        (request, None)
    } else {
        (request, Some(rest.strip_suffix("EOF").expect("reply ends with EOF").to_string()))
    }
}

fn canonical(text: &str) -> String {
    let mut v: Value = serde_json::from_str(text).unwrap();
    v["to_agent"] = Value::Null;
    if let Some(m) = v.get_mut("message").and_then(Value::as_object_mut) {
        if m.contains_key("configuration_hash") {
            m.insert("configuration_hash".into(), Value::String("H".into()));
        }
        if let Some(Value::String(s)) = m.get_mut("message") {
            if let Some(i) = s.find("Malformed Action") {
                s.truncate(i + "Malformed Action".len());
            }
        }
    }
    normalise_sets(&mut v);
    to_py_json(&v)
}

fn replay_recording(prefix: &str, task_file: &str) {
    let server = start(task_from_file(&reference().join("wire/task_configs").join(task_file)));
    let mut client = Raw::connect(&server);
    let mut names: Vec<String> = std::fs::read_dir(reference().join("wire"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(&format!("{prefix}__")))
        .collect();
    names.sort();
    assert_eq!(names.len(), 18, "{prefix}");
    for name in &names {
        let (request, expected) = transcript(name);
        client.send(&request);
        let ours = client.recv_text();
        assert!(!ours.contains("EOF"));
        match expected {
            Some(theirs) => {
                // Our formatter reproduces Python's bytes for the reference reply itself.
                let reparsed: Value = serde_json::from_str(&theirs).unwrap();
                assert_eq!(to_py_json(&reparsed), theirs, "{name}: formatter fidelity");
                assert_eq!(canonical(&ours), canonical(&theirs), "{name}");
            }
            None => {
                // Upstream never answered QuitGame; we acknowledge and close.
                assert!(name.ends_with("quit_game.txt"), "{name}");
                let v: Value = serde_json::from_str(&ours).unwrap();
                assert_eq!(v["status"], "GameStatus.OK");
                assert!(client.closed_within(Duration::from_secs(5)), "{name}: connection closed after quit");
            }
        }
    }
}

#[test]
fn two_networks_tiny_transcript() {
    replay_recording("two_networks_tiny", "two_networks_tiny.yaml");
}

#[test]
fn two_networks_small_transcript() {
    replay_recording("two_networks_small", "two_networks_small.yaml");
}

#[test]
fn edge_cases_get_an_answer_where_upstream_hung() {
    let task = task_from_file(&reference().join("wire/task_configs/two_networks_tiny.yaml"));
    let server = start(task);
    // A game action before JoinGame: upstream never answers.
    let mut c = Raw::connect(&server);
    let (req, none) = transcript("edge_tiny_before_join__01_action_before_join.txt");
    assert!(none.is_none());
    c.send(&req);
    let v = c.recv();
    assert_eq!(v["status"], "GameStatus.BAD_REQUEST");
    assert!(v["message"]["message"].as_str().unwrap().contains("JoinGame"), "{v}");
    // A bad role is malformed, and a good JoinGame afterwards works.
    for name in ["edge_tiny_bad_role__01_join_game_bad_role.txt", "edge_tiny_bad_role__02_join_game_attacker.txt"] {
        let (req, theirs) = transcript(name);
        c.send(&req);
        assert_eq!(canonical(&c.recv_text()), canonical(&theirs.unwrap()), "{name}");
    }
    // A missing parameter: upstream crashed and never answered; we say which one.
    let (req, none) = transcript("edge_tiny_missing_param__02_invalid_params_missing_target_network.txt");
    assert!(none.is_none());
    c.send(&req);
    let v = c.recv();
    assert_eq!(v["status"], "GameStatus.BAD_REQUEST");
    assert!(v["message"]["message"].as_str().unwrap().contains("target_network"), "{v}");
    // The step was not counted: a scan still works and the connection is healthy.
    let v = c.request(&scan("192.168.1.1", "192.168.1.0", 24));
    assert_eq!(v["status"], "GameStatus.OK");
}

#[test]
fn framing_split_coalesced_large_garbage_and_bad_utf8() {
    let server = start(task_from_file(&reference().join("wire/task_configs/two_networks_tiny.yaml")));
    let mut c = Raw::connect(&server);
    // A request split byte by byte.
    for b in join("splitter", "Attacker").bytes() {
        c.send(&[b]);
        std::thread::sleep(Duration::from_micros(200));
    }
    assert_eq!(c.recv()["status"], "GameStatus.CREATED");
    // Three requests in one write, with whitespace and a client-sent EOF between them.
    let batch = format!(
        "{} \n{}EOF{}",
        scan("192.168.1.1", "192.168.1.0", 24),
        find_services("192.168.1.1", "192.168.1.2"),
        scan("192.168.1.1", "192.168.1.0", 24)
    );
    c.send(batch.as_bytes());
    for _ in 0..3 {
        assert_eq!(c.recv()["status"], "GameStatus.OK");
    }
    // A request just under 1 MiB (a large data content) is one request with one reply.
    let big = "x".repeat(1_000_000);
    let exfil = format!(
        r#"{{"action_type": "ActionType.ExfiltrateData", "parameters": {{"source_host": {{"ip": "192.168.1.1"}}, "target_host": {{"ip": "213.47.23.195"}}, "data": {{"owner": "a", "id": "b", "size": 1, "type": "", "content": "{big}"}}}}}}"#
    );
    c.send(exfil.as_bytes());
    assert_eq!(c.recv()["status"], "GameStatus.OK");
    // Over the cap: one BAD_REQUEST, then the connection keeps working.
    let huge =
        format!(r#"{{"action_type": "ActionType.ScanNetwork", "parameters": {{"pad": "{}"}}}}"#, "y".repeat(1_200_000));
    c.send(huge.as_bytes());
    let v = c.recv();
    assert_eq!(v["status"], "GameStatus.BAD_REQUEST");
    assert!(v["message"]["message"].as_str().unwrap().contains("exceeds 1048576 bytes"), "{v}");
    assert_eq!(c.request(&scan("192.168.1.1", "192.168.1.0", 24))["status"], "GameStatus.OK");
    // Garbage ending in a newline, and invalid UTF-8 inside a JSON object.
    assert_eq!(c.request("hello server\n")["status"], "GameStatus.BAD_REQUEST");
    c.send(b"{\"action_type\": \"\xff\xfe\"}");
    let v = c.recv();
    assert!(v["message"]["message"].as_str().unwrap().contains("UTF-8"), "{v}");
    // An unfinished request is answered after the frame timeout instead of hanging.
    c.send(br#"{"action_type": "ActionType.ScanNetwork", "parameters": {"#);
    assert_eq!(c.recv()["status"], "GameStatus.BAD_REQUEST");
    assert_eq!(c.request(&scan("192.168.1.1", "192.168.1.0", 24))["status"], "GameStatus.OK");
}

#[test]
fn connection_limit_refuses_with_a_message() {
    let task = task_from_file(&reference().join("wire/task_configs/two_networks_tiny.yaml"));
    let server = start_with(task, 1, Default::default(), None);
    let mut first = Raw::connect(&server);
    assert_eq!(first.request(&join("first", "Attacker"))["status"], "GameStatus.CREATED");
    let mut second = Raw::connect(&server);
    let v = second.recv();
    assert_eq!(v["status"], "GameStatus.BAD_REQUEST");
    assert!(v["message"]["message"].as_str().unwrap().contains("Server full"), "{v}");
    assert!(second.closed_within(Duration::from_secs(5)));
    // The slot is released when the first agent leaves (once the game has seen it go).
    drop(first);
    assert!(server.wait_for(Duration::from_secs(5), |s| s.connections == 0));
    let mut third = Raw::connect(&server);
    assert_eq!(third.request(&join("third", "Attacker"))["status"], "GameStatus.CREATED");
}

#[test]
fn garbage_storm_leaves_the_server_healthy() {
    use rand::{Rng, SeedableRng};
    let server = start(task_from_file(&reference().join("wire/task_configs/two_networks_tiny.yaml")));
    let pieces: [&[u8]; 10] = [
        b"{",
        b"}",
        b"[[[[",
        b"\"",
        b"\\",
        b"EOF",
        b"\xff\xfe\x00",
        br#"{"action_type": "ActionType.ScanNetwork", "parameters": {"source_host": {"ip": "999.1.1.1"}}}"#,
        br#"{"action_type": "ActionType.JoinGame", "parameters": {"agent_info": {"name": "\u0000", "role": "attacker"}}}"#,
        br#"{"action_type": "ActionType.ResetGame", "parameters": {"seed": 18446744073709551616}}"#,
    ];
    let mut handles = Vec::new();
    for c in 0..12u64 {
        let addr = server.addr;
        let pieces = pieces.map(|p| p.to_vec());
        handles.push(std::thread::spawn(move || {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(c);
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
            for _ in 0..200 {
                let mut msg = Vec::new();
                for _ in 0..rng.random_range(1..6) {
                    if rng.random_bool(0.3) {
                        msg.extend((0..rng.random_range(1..64)).map(|_| rng.random::<u8>()));
                    } else {
                        msg.extend_from_slice(&pieces[rng.random_range(0..pieces.len())]);
                    }
                }
                use std::io::{Read, Write};
                if s.write_all(&msg).is_err() {
                    break;
                }
                let mut sink = [0u8; 65536];
                let _ = s.read(&mut sink);
            }
            // Some leave abruptly, some politely.
            if c % 2 == 0 {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    let mut c = Raw::connect(&server);
    assert_eq!(c.request(&join("survivor", "Attacker"))["status"], "GameStatus.CREATED");
    assert_eq!(c.request(&scan("192.168.1.1", "192.168.1.0", 24))["status"], "GameStatus.OK");
}

//! Replays every reference episode (`tests/reference/traces/`, recorded from the Python
//! server) through the game's rules with no network: the same actions must give the same
//! observations, compared without regard to set order and ignoring data `size` and `content`.

use netsecgame::action::{Action, ResetOptions};
use netsecgame::components::AgentRole;
use netsecgame::game::{Effect, GameSettings, LocalGame};
use netsecgame::protocol::{encode_reply, Reply, ToAgent};
use netsecgame::task::TaskConfig;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

/// The traces' order-free form: lists sorted by element JSON, keys sorted, data reduced to
/// owner/id/type.
pub fn normalise(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let is_data = m.contains_key("owner") && m.contains_key("id");
            let mut keys: Vec<&String> = m.keys().filter(|k| !(is_data && (*k == "size" || *k == "content"))).collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), normalise(&m[k]))).collect())
        }
        Value::Array(a) => {
            let mut items: Vec<Value> = a.iter().map(normalise).collect();
            items.sort_by_key(|x| x.to_string());
            Value::Array(items)
        }
        other => other.clone(),
    }
}

fn trace_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference/traces")
}

/// The one reply in `effects`.
fn reply(effects: Vec<Effect>, at: &str) -> Reply {
    let mut replies = effects.into_iter().filter_map(|e| match e {
        Effect::Reply { reply, .. } => Some(reply),
        _ => None,
    });
    let r = replies.next().unwrap_or_else(|| panic!("{at}: no reply"));
    assert!(replies.next().is_none(), "{at}: more than one reply");
    r
}

/// The observation of a reply, in its wire form (state, reward, end, info).
fn observation(reply: &Reply, at: &str) -> Value {
    let mut out = Vec::new();
    encode_reply(&mut out, ToAgent("127.0.0.1", 1), reply);
    out.truncate(out.len() - 3);
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert!(v["observation"].is_object(), "{at}: {v}");
    v["observation"].clone()
}

/// Replays one trace through the game's own rules (the referee with the world and the global
/// defender, as the server runs them) and compares every observation.
fn replay(scenario: &str, seed: u32) -> usize {
    let dir = trace_dir();
    let task = Arc::new(TaskConfig::load(&dir.join(format!("{scenario}.task.yaml"))).unwrap());
    let text = std::fs::read_to_string(dir.join(format!("{scenario}_seed{seed}.jsonl"))).unwrap();
    let mut game = LocalGame::new(GameSettings::new(task), 42);
    let id = game.connect("trace").unwrap();
    let mut checked = 0;
    for (n, line) in text.lines().enumerate() {
        let rec: Value = serde_json::from_str(line).unwrap();
        let at = format!("{scenario} seed {seed} line {} (ep {} t {})", n + 1, rec["ep"], rec["t"]);
        let (expected, request) = if let Some(obs) = rec.get("obs").filter(|_| rec.get("act").is_none()) {
            (obs, Action::join_game("trace", AgentRole::Attacker))
        } else if let Some(obs) = rec.get("reset") {
            (obs, Action::reset_game(ResetOptions::default()))
        } else {
            (&rec["obs"], Action::from_value(&rec["act"]).unwrap_or_else(|e| panic!("{at}: {e}")))
        };
        let ours = observation(&reply(game.request(id, request), &at), &at);
        assert_eq!(normalise(&ours["state"]), normalise(&expected["state"]), "{at}: state");
        assert_eq!(ours["reward"].as_f64(), expected["reward"].as_f64(), "{at}: reward");
        assert_eq!(ours["end"], expected["end"], "{at}: end");
        assert_eq!(ours["info"], expected["info"], "{at}: info");
        checked += 1;
    }
    checked
}

#[test]
fn every_reference_trace_replays_identically() {
    let mut total = 0;
    for scenario in ["two_networks_tiny", "two_networks_small", "two_networks", "three_net_scenario"] {
        for seed in [1, 2] {
            total += replay(scenario, seed);
        }
    }
    // 8 traces x 3 episodes x (60 steps + start): every transition was compared.
    assert!(total >= 8 * 3 * 61, "only {total} observations compared");
}

//! Replays every reference episode (`tests/reference/traces/`) directly against the world and
//! the episode logic, with no network: the same actions must give the same observations,
//! compared without regard to set order and ignoring data `size` and `content`.

use netsecgame::action::Action;
use netsecgame::components::{AgentRole, Reward};
use netsecgame::episode::{any_attacker_playing, assign_end_rewards, episode_over, EpisodeAgent};
use netsecgame::pyjson::to_py_json;
use netsecgame::task::TaskConfig;
use netsecgame::world::World;
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

fn replay(scenario: &str, seed: u32) -> usize {
    let dir = trace_dir();
    let task = Arc::new(TaskConfig::load(&dir.join(format!("{scenario}.task.yaml"))).unwrap());
    let text = std::fs::read_to_string(dir.join(format!("{scenario}_seed{seed}.jsonl"))).unwrap();
    let mut world = World::new(task.clone(), 42);
    let mut ep = EpisodeAgent::new(AgentRole::Attacker);
    let max_steps = task.attacker.max_steps;
    let mut checked = 0;
    for (n, line) in text.lines().enumerate() {
        let rec: Value = serde_json::from_str(line).unwrap();
        let at = format!("{scenario} seed {seed} line {} (ep {} t {})", n + 1, rec["ep"], rec["t"]);
        let (expected, state, reward, end, info) =
            if let Some(obs) = rec.get("obs").filter(|_| rec.get("act").is_none()) {
                let state = world.add_agent(1, AgentRole::Attacker);
                (obs, state, Reward::Int(0), false, Value::Object(Default::default()))
            } else if let Some(obs) = rec.get("reset") {
                world.reset(None, false);
                ep.reset();
                (obs, world.agent(1).unwrap().state.clone(), Reward::Int(0), false, Value::Object(Default::default()))
            } else {
                let action = Action::from_value(&rec["act"]).unwrap_or_else(|e| panic!("{at}: {e}"));
                ep.steps += 1;
                let outcome = world.step(1, &action).unwrap_or_else(|e| panic!("{at}: {e}"));
                ep.after_step(outcome.goal_reached, false, max_steps, task.rewards.step);
                let ended = episode_over(&ep, any_attacker_playing([&ep]));
                if ended {
                    assign_end_rewards([&mut ep], &task.rewards);
                }
                let info: Value = serde_json::from_str(&to_py_json(&ep.info())).unwrap();
                (&rec["obs"], world.agent(1).unwrap().state.clone(), ep.reward, ended, info)
            };
        let ours: Value = serde_json::from_str(&to_py_json(&*state)).unwrap();
        assert_eq!(normalise(&ours), normalise(&expected["state"]), "{at}: state");
        assert_eq!(serde_json::to_value(reward.as_f64() as i64).unwrap(), expected["reward"], "{at}: reward");
        assert_eq!(Value::Bool(end), expected["end"], "{at}: end");
        assert_eq!(info, expected["info"], "{at}: info");
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

//! The in-process environments' game (`netsecgame::env`) against the server's rules: the
//! same moves through [`SyncGame`] and through [`LocalGame`] (the referee with the world and
//! the global defender, as the server runs them) give the same replies and states, for one
//! agent and for three moving in the environments' order; the reference traces recorded from
//! upstream's server replay through it; the action mask is exactly the valid actions.

use netsecgame::action::{Action, BlockKey, Param, ResetOptions};
use netsecgame::agents::{valid_actions, Agent, BuiltinAgent, Observation};
use netsecgame::components::{AgentRole, AgentStatus, GameState};
use netsecgame::env::{load_task, ActionSpace, Env, Move, SyncGame};
use netsecgame::game::{Effect, GameSettings, LocalGame};
use netsecgame::protocol::Reply;
use netsecgame::scenario::embedded_names;
use netsecgame::task::TaskConfig;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Replies by agent id.
fn replies(effects: Vec<Effect>) -> BTreeMap<u64, Reply> {
    let mut out = BTreeMap::new();
    for e in effects {
        if let Effect::Reply { to, reply } = e {
            assert!(out.insert(to, reply).is_none(), "two replies for agent {to}");
        }
    }
    out
}

/// Reward, end, end reason and state of a step reply.
fn summary(reply: &Reply) -> (f64, bool, Option<AgentStatus>, Arc<GameState>) {
    match reply {
        Reply::Step { reward, end, info, state, .. } => (reward.as_f64(), *end, info.end_reason, state.clone()),
        other => panic!("not a step reply: {other:?}"),
    }
}

fn pick(rng: &mut ChaCha8Rng, state: &GameState, blocks: bool) -> Action {
    let all = valid_actions(state, blocks);
    if all.is_empty() {
        netsecgame::agents::idle_action()
    } else {
        all[rng.random_range(0..all.len())].clone()
    }
}

/// Plays `episodes` episodes of the given roles through both games, every agent choosing at
/// random among its valid actions, and compares every reply and state.
fn compare(task: TaskConfig, roles: &[AgentRole], seed: i64, episodes: usize) -> usize {
    let mut task = task;
    task.required_players = roles.len();
    let task = Arc::new(task);
    let mut local = LocalGame::new(GameSettings::new(task.clone()), seed);
    let ids: Vec<u64> = roles.iter().map(|_| local.connect("test").unwrap()).collect();
    let mut created = BTreeMap::new();
    for (id, role) in ids.iter().zip(roles) {
        created.extend(replies(local.request(*id, Action::join_game("agent", *role))));
    }
    assert_eq!(created.len(), roles.len(), "every agent gets CREATED");
    let mut sync = SyncGame::new(task, roles, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed as u64);
    let mut compared = 0;
    for episode in 0..episodes {
        if episode > 0 {
            let reset_seed = (episode % 2 == 0).then_some(seed + episode as i64);
            let mut done = BTreeMap::new();
            for id in &ids {
                let opts = ResetOptions { seed: reset_seed, ..ResetOptions::default() };
                done.extend(replies(local.request(*id, Action::reset_game(opts))));
            }
            assert_eq!(done.len(), roles.len());
            sync.reset(reset_seed);
            for (seat, id) in ids.iter().enumerate() {
                let Reply::ResetDone { state, .. } = &done[id] else { panic!("not RESET_DONE") };
                assert_eq!(**state, **sync.state(seat), "start state after reset");
            }
        }
        let mut ended = vec![false; roles.len()];
        for _round in 0..500 {
            if ended.iter().all(|e| *e) {
                break;
            }
            let mut got = BTreeMap::new();
            let mut ours = BTreeMap::new();
            for (seat, id) in ids.iter().enumerate() {
                // An agent whose episode ended waits for its final reply and sends nothing.
                if ended[seat] || sync.seat(seat).ep.ended {
                    continue;
                }
                let action = pick(&mut rng, sync.state(seat), roles[seat] == AgentRole::Defender);
                got.extend(replies(local.request(*id, action.clone())));
                if let Some(r) = sync.step(seat, Move::Act(&action)).unwrap() {
                    ours.insert(*id, r);
                }
                for (s, id) in ids.iter().enumerate() {
                    if let Some(r) = sync.take_final(s) {
                        ours.insert(*id, r);
                    }
                }
            }
            assert_eq!(got.keys().collect::<Vec<_>>(), ours.keys().collect::<Vec<_>>(), "who got a reply");
            for (seat, id) in ids.iter().enumerate() {
                let Some(reply) = got.get(id) else { continue };
                let (reward, end, reason, state) = summary(reply);
                let mine = ours[id];
                assert_eq!((reward, end), (mine.reward, mine.end), "episode {episode} agent {id}");
                if end {
                    assert_eq!(reason, mine.status.is_terminal().then_some(mine.status));
                    ended[seat] = true;
                }
                assert_eq!(*state, **sync.state(seat), "state of agent {id}");
                compared += 1;
            }
        }
        assert!(ended.iter().all(|e| *e), "episode {episode} ended");
        assert!(sync.episode_over());
    }
    compared
}

#[test]
fn one_attacker_with_the_global_defender_matches_the_referee() {
    let mut total = 0;
    for name in ["two_networks_tiny", "two_networks", "three_net_scenario"] {
        for seed in [1, 7, 42] {
            total += compare(load_task(name).unwrap(), &[AgentRole::Attacker], seed, 6);
        }
    }
    assert!(total > 500, "{total}");
}

#[test]
fn attacker_defender_and_benign_match_the_referee() {
    let mut total = 0;
    for seed in [3, 9, 11] {
        let mut task = load_task("two_networks_tiny").unwrap();
        task.benign.max_steps = Some(30); // a benign agent that ends before the others: it waits
        total += compare(task, &[AgentRole::Attacker, AgentRole::Defender, AgentRole::Benign], seed, 4);
    }
    assert!(total > 300, "{total}");
}

#[test]
fn no_op_spends_a_step_and_nothing_else() {
    let task = Arc::new(load_task("two_networks_tiny").unwrap());
    let mut game = SyncGame::new(task.clone(), &[AgentRole::Attacker], 5);
    let before = game.state(0).clone();
    let r = game.step(0, Move::NoOp).unwrap().unwrap();
    assert_eq!(r.reward, task.rewards.step.as_f64());
    assert_eq!(**game.state(0), *before);
    assert_eq!(game.seat(0).ep.steps, 1);
    // Until the step limit: truncated with the fail reward.
    let mut last = None;
    for _ in 1..task.attacker.max_steps.unwrap() {
        assert!(last.is_none());
        last = game.step(0, Move::NoOp).unwrap().filter(|r| r.end).or(game.take_final(0));
    }
    let last = last.expect("the step limit ends the episode");
    assert_eq!(last.status, AgentStatus::TimeoutReached);
    assert_eq!(last.reward, task.rewards.step.as_f64() + task.rewards.fail.as_f64());
    assert!(game.step(0, Move::NoOp).is_err(), "no step after the end");
}

/// The reference traces (recorded over TCP from upstream's server) through the in-process game.
#[test]
fn reference_traces_replay_through_the_sync_game() {
    use serde_json::Value;
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference/traces");
    let mut checked = 0;
    for scenario in ["two_networks_tiny", "two_networks_small", "two_networks", "three_net_scenario"] {
        for seed in [1, 2] {
            let task = Arc::new(TaskConfig::load(&dir.join(format!("{scenario}.task.yaml"))).unwrap());
            let mut game = SyncGame::new(task, &[AgentRole::Attacker], 42);
            let text = std::fs::read_to_string(dir.join(format!("{scenario}_seed{seed}.jsonl"))).unwrap();
            for line in text.lines() {
                let rec: Value = serde_json::from_str(line).unwrap();
                let (expected, reply) = if rec.get("act").is_some() {
                    let action = Action::from_value(&rec["act"]).unwrap();
                    let r = game.step(0, Move::Act(&action)).unwrap().or_else(|| game.take_final(0)).unwrap();
                    (&rec["obs"], Some(r))
                } else if let Some(obs) = rec.get("reset") {
                    game.reset(None);
                    (obs, None)
                } else {
                    (&rec["obs"], None)
                };
                let ours: Value = serde_json::from_str(&netsecgame::env::observe::encode_json(game.state(0))).unwrap();
                assert_eq!(normalise(&ours), normalise(&expected["state"]), "{scenario} seed {seed}: {line}");
                if let Some(r) = reply {
                    assert_eq!(Some(r.reward), expected["reward"].as_f64());
                    assert_eq!(Value::Bool(r.end), expected["end"]);
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 8 * 3 * 61, "{checked}");
}

fn normalise(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
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

/// States reached by random play on `scenario` with `seed`, for the mask properties.
fn reachable_states(scenario: &str, seed: u64, steps: usize, role: AgentRole) -> Vec<GameState> {
    let mut task = load_task(scenario).unwrap();
    task.use_global_defender = false;
    let mut roles = vec![AgentRole::Attacker];
    if role != AgentRole::Attacker {
        roles.push(role);
    }
    let task = Arc::new(task);
    let mut game = SyncGame::new(task, &roles, seed as i64);
    let me = roles.iter().position(|r| *r == role).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut agents: Vec<Box<dyn Agent>> = roles
        .iter()
        .map(|r| match r {
            AgentRole::Attacker => BuiltinAgent::RandomAttacker.create(seed),
            _ => BuiltinAgent::RandomDefender.create(seed),
        })
        .collect();
    let mut out = Vec::new();
    for _ in 0..steps {
        if game.episode_over() {
            game.reset(Some(rng.random_range(0..1000)));
        }
        for (seat, agent) in agents.iter_mut().enumerate() {
            if game.seat(seat).ep.ended {
                continue;
            }
            let obs = Observation { state: game.state(seat).clone(), reward: 0.0, end: false, end_reason: None };
            let action = agent.act(&obs);
            drop(obs);
            game.step(seat, Move::Act(&action)).unwrap();
        }
        out.push((**game.state(me)).clone());
    }
    out
}

/// The action as the list spells it: data reduced to identity (size 0, no content), the block
/// parameter under `blocked_ip`.
fn identity(mut a: Action) -> Action {
    for p in &mut a.params {
        match p {
            Param::Data(d) => {
                d.size = 0;
                d.content = "".into();
            }
            // The list spells the block parameter `blocked_ip`, the agents' generator `blocked_host`.
            Param::Blocked(key, _) => *key = BlockKey::BlockedIp,
            _ => {}
        }
    }
    a
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The mask is exactly the valid actions that the list has, for every role's blocks setting.
    #[test]
    fn mask_is_exactly_the_valid_actions(scenario in 0usize..8, seed in 0u64..10_000, defender in any::<bool>()) {
        let name = embedded_names()[scenario % embedded_names().len()];
        let role = if defender { AgentRole::Defender } else { AgentRole::Attacker };
        let task = load_task(name).unwrap();
        let space = ActionSpace::new(&task.topology);
        let index: std::collections::HashMap<&Action, usize> =
            space.actions().iter().enumerate().map(|(i, a)| (a, i)).collect();
        let mut mask = vec![false; space.len()];
        for state in reachable_states(name, seed, 40, role) {
            let count = space.mask_into(&state, defender, &mut mask);
            let mut expected = vec![false; space.len()];
            for a in valid_actions(&state, defender) {
                // As `ActionListAgent` looks actions up: Python's Action equality compares
                // Data by identity (owner, id, type), so a logfile with content is the list's logfile.
                if let Some(i) = index.get(&identity(a)) {
                    expected[*i] = true;
                }
            }
            let differ: Vec<String> = (0..mask.len())
                .filter(|i| mask[*i] != expected[*i])
                .map(|i| format!("{i} (mask {}): {:?}", mask[i], space.actions()[i]))
                .collect();
            prop_assert!(differ.is_empty(), "mask differs from the valid actions at {:?} in {:?}", differ, state);
            prop_assert_eq!(count, expected.iter().filter(|b| **b).count());
        }
    }
}

#[test]
fn env_steps_invalid_actions_as_no_ops_and_refuses_bad_input() {
    let task = Arc::new(load_task("two_networks_tiny").unwrap());
    let space = Arc::new(ActionSpace::new(&task.topology));
    let mut env = Env::new(task.clone(), space.clone(), AgentRole::Attacker, &[], 3).unwrap();
    assert_eq!(env.step(0).unwrap_err().to_string(), "call reset() before the first step");
    env.reset(None);
    let mut mask = vec![false; space.len()];
    env.mask_into(&mut mask);
    let invalid = mask.iter().position(|m| !m).unwrap() as i64;
    let before = env.state().clone();
    let t = env.step(invalid).unwrap();
    assert!(!t.valid && !t.terminated && !t.truncated);
    assert_eq!(t.reward, -1.0);
    assert_eq!(*env.state(), before);
    let err = env.step(space.len() as i64).unwrap_err().to_string();
    assert!(err.contains("out of range") && err.contains("330"), "{err}");
    assert!(env.step(-1).is_err());
    // Play to the end, then stepping is refused until reset.
    while !env.is_done() {
        env.step(invalid).unwrap();
    }
    assert_eq!(env.step(0).unwrap_err(), netsecgame::env::EnvError::EpisodeOver);
    env.reset(Some(4));
    assert!(env.step(invalid).is_ok());
}

#[test]
fn env_is_deterministic_with_a_seed_and_plays_with_opponents() {
    let task = Arc::new(load_task("two_networks_tiny").unwrap());
    let space = Arc::new(ActionSpace::new(&task.topology));
    let run = |role, opponents: &[BuiltinAgent]| {
        let mut env = Env::new(task.clone(), space.clone(), role, opponents, 9).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut mask = vec![false; space.len()];
        let mut trace = Vec::new();
        for episode in 0..5 {
            env.reset(if episode == 2 { Some(77) } else { None });
            while !env.is_done() {
                let n = env.mask_into(&mut mask);
                let k = rng.random_range(0..n.max(1));
                let a = mask.iter().enumerate().filter(|(_, m)| **m).nth(k).map_or(0, |(i, _)| i);
                let t = env.step(a as i64).unwrap();
                trace.push((
                    t.reward.to_bits(),
                    t.terminated,
                    t.truncated,
                    netsecgame::env::observe::encode_json(env.state()),
                ));
            }
        }
        trace
    };
    let a = run(AgentRole::Attacker, &[]);
    assert_eq!(a, run(AgentRole::Attacker, &[]));
    let d = run(AgentRole::Defender, &[BuiltinAgent::ScriptedAttacker]);
    assert_eq!(d, run(AgentRole::Defender, &[BuiltinAgent::ScriptedAttacker]));
    assert!(d.iter().any(|t| t.1 || t.2), "defender episodes end");
    let err = Env::new(task.clone(), space.clone(), AgentRole::Defender, &[], 1).err().unwrap().to_string();
    assert!(err.contains("needs an attacker"), "{err}");
}

#[test]
fn unknown_task_or_scenario_is_named() {
    let err = load_task("no_such_scenario").err().unwrap().to_string();
    assert!(err.contains("no_such_scenario") && err.contains("two_networks_tiny"), "{err}");
    let err = load_task("missing/task.yaml").err().unwrap().to_string();
    assert!(err.contains("does not exist"), "{err}");
}

//! The topology generator: every file it writes loads, a seed fixes it, and a generated task
//! plays to the end with the built-in agents.

use netsecgame::agents::BuiltinAgent;
use netsecgame::game::{Effect, GameSettings, LocalGame};
use netsecgame::generate::{generate, GenerateOptions};
use netsecgame::protocol::Reply;
use netsecgame::task::TaskConfig;
use proptest::prelude::*;
use std::sync::Arc;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn generated_scenarios_always_load_and_repeat_for_a_seed(
        hosts in 1usize..400,
        nets in proptest::option::of(1usize..20),
        seed in any::<u64>(),
        servers in 0.0f64..=1.0,
        data in 0.0f64..=1.0,
        links in 0.0f64..=1.0,
    ) {
        let o = GenerateOptions { hosts, networks: nets.map(|n| n.min(hosts)), seed, servers, data, links, ..GenerateOptions::default() };
        let g = generate(&o).unwrap();
        let t = g.topology().unwrap();
        prop_assert_eq!(t.hosts.len(), hosts + 2);
        prop_assert_eq!(&generate(&o).unwrap().scenario_yaml, &g.scenario_yaml);
        let dir = std::env::temp_dir().join(format!("nsg-genprop-{}-{seed}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("net.yaml"), &g.scenario_yaml).unwrap();
        std::fs::write(dir.join("task.yaml"), g.task_yaml("net.yaml", 50)).unwrap();
        let task = TaskConfig::load(&dir.join("task.yaml"));
        let _ = std::fs::remove_dir_all(&dir);
        prop_assert!(task.is_ok(), "{:?}", task.err());
    }
}

#[test]
fn a_generated_task_plays_to_the_end() {
    let g = generate(&GenerateOptions { hosts: 60, seed: 5, ..GenerateOptions::default() }).unwrap();
    let dir = std::env::temp_dir().join(format!("nsg-genplay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("net.yaml"), &g.scenario_yaml).unwrap();
    std::fs::write(dir.join("task.yaml"), g.task_yaml("net.yaml", 300)).unwrap();
    let task = Arc::new(TaskConfig::load(&dir.join("task.yaml")).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
    let mut game = LocalGame::new(GameSettings::new(task), 5);
    let id = game.connect("scripted").unwrap();
    let mut agent = BuiltinAgent::ScriptedAttacker.create(1);
    let reply = |effects: Vec<Effect>| {
        effects.into_iter().find_map(|e| match e {
            Effect::Reply { reply, .. } => Some(reply),
            _ => None,
        })
    };
    let first = reply(game.request(id, netsecgame::action::Action::join_game("scripted", agent.role()))).unwrap();
    let mut obs = netsecgame::agents::Observation::of_reply(&first).unwrap();
    let mut steps = 0;
    while !obs.end {
        let r = reply(game.request(id, agent.act(&obs))).unwrap();
        assert!(matches!(r, Reply::Step { .. }), "{r:?}");
        obs = netsecgame::agents::Observation::of_reply(&r).unwrap();
        steps += 1;
        assert!(steps <= 300);
    }
    assert!(obs.end_reason.is_some(), "the episode ended with a reason: {:?}", obs.end_reason);
    assert!(
        obs.state.known_hosts.len() > 10,
        "the attacker found its way around: {} hosts",
        obs.state.known_hosts.len()
    );
}

//! One world step per shipped scenario (target: under 1 us median on `two_networks`). An
//! attacker on a start host and the C&C host cycles through a mix of scans, service scans,
//! exploits and data searches, in episodes of 100 steps (logfiles grow within an episode, as
//! in play, and the reset is part of the measured cost).
//!
//! `world_step` is the world alone; `world_step_recorded` keeps every state, as a game does for
//! its trajectory, so each step copies the agent's state before changing it (copy on write).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use netsecgame::action::{Action, Param};
use netsecgame::components::{ActionType, AgentRole, Ip};
use netsecgame::scenario::embedded_names;
use netsecgame::task::TaskConfig;
use netsecgame::world::World;
use std::sync::Arc;

fn actions(world: &World) -> Vec<Action> {
    let src = world.agent(1).unwrap().state.controlled_hosts.iter().copied().collect::<Vec<Ip>>();
    let mut out = Vec::new();
    for s in &src {
        for n in world.networks() {
            out.push(Action::new(ActionType::ScanNetwork, vec![Param::SourceHost(*s), Param::TargetNetwork(n)]));
        }
        for t in world.ips() {
            out.push(Action::new(ActionType::FindServices, vec![Param::SourceHost(*s), Param::TargetHost(*t)]));
            for sv in world.services_of(*t).iter().take(1) {
                out.push(Action::new(
                    ActionType::ExploitService,
                    vec![Param::SourceHost(*s), Param::TargetHost(*t), Param::TargetService(sv.clone())],
                ));
            }
        }
        out.push(Action::new(ActionType::FindData, vec![Param::SourceHost(*s), Param::TargetHost(*s)]));
    }
    out
}

/// Steps per episode.
const EPISODE: usize = 100;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("world_step");
    for name in embedded_names() {
        let topo = netsecgame::scenario::Topology::load(name, None).unwrap();
        let start = topo.ips[topo.start_candidates[0]].0;
        let yaml = format!(
            "env:\n  scenario: {name}\ncoordinator:\n  agents:\n    Attacker:\n      start_position:\n        controlled_hosts: [{start}, 213.47.23.195]\n      goal:\n        known_data: {{213.47.23.195: [[User1, DataFromServer1]]}}\n"
        );
        let task = Arc::new(TaskConfig::from_yaml(&yaml, name, None).unwrap());
        let mut world = World::new(task, 42);
        world.add_agent(1, AgentRole::Attacker);
        let plan = actions(&world);
        for a in &plan {
            world.step(1, a).unwrap();
        }
        let mut i = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                let a = &plan[i % plan.len()];
                i += 1;
                if i % EPISODE == 0 {
                    world.reset(None, false);
                }
                black_box(world.step(1, black_box(a)).unwrap())
            });
        });
    }
    group.finish();
    let mut group = c.benchmark_group("world_step_recorded");
    for name in ["two_networks_tiny", "two_networks"] {
        let (mut world, plan) = setup(name);
        let mut kept = Vec::with_capacity(EPISODE);
        let mut i = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                let a = &plan[i % plan.len()];
                i += 1;
                if i % EPISODE == 0 {
                    world.reset(None, false);
                    kept.clear();
                }
                kept.push(world.agent(1).unwrap().state.clone());
                black_box(world.step(1, black_box(a)).unwrap())
            });
        });
    }
    group.finish();
}

fn setup(name: &str) -> (World, Vec<Action>) {
    let topo = netsecgame::scenario::Topology::load(name, None).unwrap();
    let start = topo.ips[topo.start_candidates[0]].0;
    let yaml = format!(
        "env:\n  scenario: {name}\ncoordinator:\n  agents:\n    Attacker:\n      start_position:\n        controlled_hosts: [{start}, 213.47.23.195]\n      goal:\n        known_data: {{213.47.23.195: [[User1, DataFromServer1]]}}\n"
    );
    let task = Arc::new(TaskConfig::from_yaml(&yaml, name, None).unwrap());
    let mut world = World::new(task, 42);
    world.add_agent(1, AgentRole::Attacker);
    let plan = actions(&world);
    (world, plan)
}

criterion_group!(benches, bench);
criterion_main!(benches);

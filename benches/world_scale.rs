//! The world step and reset against the size of the network: generated scenarios of 10,
//! 100, 1,000 and 10,000 hosts. The step mix is what an attacker does early on: a scan of its
//! own /24, service scans, an exploit attempt and a data search; so its cost should follow the
//! work the action does (the hosts of one network), not the size of the world. The reset
//! benchmark plays the mix once and resets: it restores what the episode touched and
//! resolves the agent's start anew.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use netsecgame::action::Action;
use netsecgame::components::AgentRole;
use netsecgame::generate::{generate, GenerateOptions};
use netsecgame::task::TaskConfig;
use netsecgame::world::World;
use std::sync::Arc;

pub fn world(hosts: usize) -> World {
    let g = generate(&GenerateOptions { hosts, seed: 1, ..GenerateOptions::default() }).unwrap();
    let dir = std::env::temp_dir().join(format!("nsg-scale-{}-{hosts}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("net.yaml"), &g.scenario_yaml).unwrap();
    std::fs::write(dir.join("task.yaml"), g.task_yaml("net.yaml", 0)).unwrap();
    let task = Arc::new(TaskConfig::load(&dir.join("task.yaml")).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
    let mut w = World::new(task, 1);
    w.add_agent(1, AgentRole::Attacker);
    w
}

/// The attacker's early moves from its private start host.
pub fn plan(w: &World) -> Vec<Action> {
    let state = &w.agent(1).unwrap().state;
    let src = *state.controlled_hosts.iter().find(|h| h.is_private()).unwrap();
    let net = *state.known_networks.iter().find(|n| n.contains(src)).unwrap();
    let neighbours: Vec<_> = w.ips().iter().copied().filter(|ip| net.contains(*ip) && *ip != src).take(8).collect();
    let mut out = vec![Action::scan_network(src, net)];
    for &n in &neighbours {
        out.push(Action::find_services(src, n));
        if let Some(s) = w.services_of(n).iter().find(|s| !s.is_local) {
            out.push(Action::exploit_service(src, n, s.clone()));
        }
    }
    out.push(Action::find_data(src, src));
    out
}

fn bench(c: &mut Criterion) {
    let mut step = c.benchmark_group("world_scale_step");
    for hosts in [10, 100, 1_000, 10_000] {
        let mut w = world(hosts);
        let plan = plan(&w);
        let mut i = 0;
        // No resets in the loop: they are measured below (logs stay bounded by themselves).
        step.bench_with_input(BenchmarkId::from_parameter(hosts), &hosts, |b, _| {
            b.iter(|| {
                i += 1;
                black_box(w.step(1, black_box(&plan[i % plan.len()])).unwrap())
            });
        });
    }
    step.finish();
    let mut reset = c.benchmark_group("world_scale_reset");
    for hosts in [10, 100, 1_000, 10_000] {
        let mut w = world(hosts);
        let plan = plan(&w);
        // A reset after an episode's worth of the step mix (what a reset really follows).
        reset.bench_with_input(BenchmarkId::from_parameter(hosts), &hosts, |b, _| {
            b.iter(|| {
                for a in &plan {
                    w.step(1, a).unwrap();
                }
                w.reset(None, false);
            });
        });
    }
    reset.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! How the world's cost grows with the network: generated scenarios of 10 to 10,000 hosts;
//! for each, the median time of one step of an attacker's early moves, of a reset after such
//! an episode, the time to generate and load the scenario, and the memory one more game of the
//! loaded task takes (its world; the scenario itself is shared).
//! Prints a table and draws `docs/scale.svg`.
//!
//! ```sh
//! cargo run --release -p netsecgame-actors --example scale_study
//! ```

use netsecgame::action::Action;
use netsecgame::components::AgentRole;
use netsecgame::generate::{generate, GenerateOptions};
use netsecgame::task::TaskConfig;
use netsecgame::world::World;
use plotters::prelude::*;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use std::sync::Arc;
use std::time::Instant;

/// Counts allocations, so a world's memory is measured exactly (RSS hides it: freed parser
/// memory is reused).
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn world(hosts: usize) -> (World, f64) {
    let t = Instant::now();
    let g = generate(&GenerateOptions { hosts, seed: 1, ..GenerateOptions::default() }).unwrap();
    let dir = std::env::temp_dir().join(format!("nsg-study-{}-{hosts}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("net.yaml"), &g.scenario_yaml).unwrap();
    std::fs::write(dir.join("task.yaml"), g.task_yaml("net.yaml", 0)).unwrap();
    let task = Arc::new(TaskConfig::load(&dir.join("task.yaml")).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
    let loaded = t.elapsed().as_secs_f64();
    let mut w = World::new(task, 1);
    w.add_agent(1, AgentRole::Attacker);
    (w, loaded)
}

fn plan(w: &World) -> Vec<Action> {
    let state = &w.agent(1).unwrap().state;
    let src = *state.controlled_hosts.iter().find(|h| h.is_private()).unwrap();
    let net = *state.known_networks.iter().find(|n| n.contains(src)).unwrap();
    let mut out = vec![Action::scan_network(src, net)];
    for n in w.ips().iter().copied().filter(|ip| net.contains(*ip) && *ip != src).take(8) {
        out.push(Action::find_services(src, n));
        if let Some(s) = w.services_of(n).iter().find(|s| !s.is_local) {
            out.push(Action::exploit_service(src, n, s.clone()));
        }
    }
    out.push(Action::find_data(src, src));
    out
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let sizes = [10usize, 30, 100, 300, 1_000, 3_000, 10_000];
    let mut rows = Vec::new();
    println!("{:>7} {:>12} {:>12} {:>12} {:>16}", "hosts", "step (us)", "reset (us)", "load (ms)", "per world (KB)");
    for &hosts in &sizes {
        let (mut w, loaded) = world(hosts);
        // Eight more worlds of the same task: what each further game costs.
        let region = Region::new(GLOBAL);
        let more: Vec<World> = (0..8)
            .map(|i| {
                let mut x = World::new(w.task().clone(), i);
                x.add_agent(1, AgentRole::Attacker);
                x
            })
            .collect();
        let change = region.change();
        let memory = (change.bytes_allocated - change.bytes_deallocated) as f64 / 1024.0 / more.len() as f64;
        drop(more);
        let plan = plan(&w);
        let mut steps = Vec::new();
        let mut resets = Vec::new();
        for round in 0..400 {
            for a in &plan {
                let t = Instant::now();
                w.step(1, a).unwrap();
                steps.push(t.elapsed().as_secs_f64() * 1e6);
            }
            let t = Instant::now();
            w.reset(None, false);
            if round > 0 {
                resets.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        let (step, reset) = (median(steps), median(resets));
        println!("{hosts:>7} {step:>12.2} {reset:>12.2} {:>12.1} {memory:>16.0}", loaded * 1e3);
        rows.push((hosts, step, reset, memory));
        drop(w);
    }
    std::fs::create_dir_all("docs").unwrap();
    let root = SVGBackend::new("docs/scale.svg", (760, 360)).into_drawing_area();
    root.fill(&WHITE).unwrap();
    let (left, right) = root.split_horizontally(380);
    let xs = (10f64..10_000f64).log_scale();
    let mut time = ChartBuilder::on(&left)
        .caption("time per operation (us)", ("sans-serif", 15))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(xs.clone(), (0.1f64..100f64).log_scale())
        .unwrap();
    time.configure_mesh().x_desc("hosts").draw().unwrap();
    time.draw_series(LineSeries::new(rows.iter().map(|r| (r.0 as f64, r.1)), BLUE.stroke_width(2)))
        .unwrap()
        .label("step")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE.stroke_width(2)));
    time.draw_series(LineSeries::new(rows.iter().map(|r| (r.0 as f64, r.2)), RED.stroke_width(2)))
        .unwrap()
        .label("reset")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED.stroke_width(2)));
    time.configure_series_labels().background_style(WHITE).border_style(BLACK).draw().unwrap();
    let top = rows.iter().map(|r| r.3).fold(1.0, f64::max) * 2.0;
    let mut mem = ChartBuilder::on(&right)
        .caption("memory per game of the task (KB)", ("sans-serif", 15))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(xs, (1f64..top).log_scale())
        .unwrap();
    mem.configure_mesh().x_desc("hosts").draw().unwrap();
    mem.draw_series(LineSeries::new(rows.iter().map(|r| (r.0 as f64, r.3.max(1.0))), GREEN.stroke_width(2))).unwrap();
    root.present().unwrap();
    println!("wrote docs/scale.svg");
}

//! `netsecgame bench`: throughput of the two paths into a game.
//!
//! * Over TCP ([`run_tcp`]): N concurrent clients play against a server (an in-process one
//!   by default, or any address) and we report steps per second and request latency
//!   percentiles. Each client is an attacker on the default task's start hosts cycling
//!   through a scan, a service scan, an exploit and a service scan of the exploited host;
//!   episodes end at `max_steps` and every client then asks for a reset, so the episode-end
//!   and reset barriers are part of the measurement.
//! * In-process ([`run_in_process`]): N games spread over one arbiter per core, each with a
//!   random attacker and a random defender playing through typed messages.

use crate::agents::{EpisodeSeen, LocalAgent, PlayPlan, Reports};
use crate::client::{Client, ClientError};
use crate::game::{Game, GameConfig};
use actix::prelude::*;
use hdrhistogram::Histogram;
use netsecgame::action::{Action, ResetOptions};
use netsecgame::agents::{Agent, EpisodeInfo, Observation, RandomAgent};
use netsecgame::components::{AgentRole, Ip, Service};
use netsecgame::game::GameSettings;
use netsecgame::scenario::Topology;
use netsecgame::task::{BlockSpec, HostSpec, TaskConfig};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Cores available to this process.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The TCP bench task: the default task with 100-step episodes.
pub fn tcp_task() -> TaskConfig {
    let mut task = TaskConfig::default_task();
    task.attacker.max_steps = Some(100);
    task
}

/// The in-process bench task on `scenario`: 100-step episodes; an attacker starting on a
/// random start host that must control every private host (random play rarely does); a
/// defender on every private host that must block the attackers at the first public host.
pub fn in_process_task(scenario: &str) -> Result<TaskConfig, netsecgame::scenario::ScenarioError> {
    let mut task = TaskConfig::default_task();
    if scenario != task.topology.name {
        let topology = Arc::new(Topology::load(scenario, None)?);
        task.attacker.start = Default::default();
        task.attacker.start.controlled_hosts = vec![HostSpec::Random];
        task.attacker.goal = Default::default();
        task.attacker.goal.controlled_hosts = vec![HostSpec::AllLocal];
        task.attacker.goal_description = "Control every private host".into();
        task.defender.goal = Default::default();
        if let Some((ip, _)) = topology.ips.iter().find(|(ip, _)| !ip.is_private()) {
            task.defender.goal.known_blocks = vec![(*ip, BlockSpec::AllAttackers)];
        }
        task.topology = topology;
    }
    task.attacker.max_steps = Some(100);
    task.defender.max_steps = Some(100);
    task.required_players = 2;
    Ok(task)
}

/// What one TCP run measured.
pub struct TcpReport {
    pub agents: usize,
    pub steps: u64,
    pub resets: u64,
    pub elapsed: Duration,
    /// Game-action round trips, in microseconds.
    pub latency_us: Histogram<u64>,
}

impl TcpReport {
    pub fn steps_per_second(&self) -> f64 {
        self.steps as f64 / self.elapsed.as_secs_f64()
    }

    pub fn summary(&self) -> String {
        let h = &self.latency_us;
        format!(
            "agents {:>3}  steps {:>9}  resets {:>6}  {:>6.2} s  {:>10.0} steps/s  latency p50 {} us  p90 {} us  p99 {} us  max {} us",
            self.agents,
            self.steps,
            self.resets,
            self.elapsed.as_secs_f64(),
            self.steps_per_second(),
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.9),
            h.value_at_quantile(0.99),
            h.max(),
        )
    }
}

fn plan() -> Vec<Action> {
    let router = Ip::v4(192, 168, 1, 1);
    let smb = Ip::v4(192, 168, 1, 2);
    let service = Service::new("microsoft-ds", "passive", "10.0.19041", false);
    vec![
        Action::scan_network(router, "192.168.1.0/24".parse().expect("valid")),
        Action::find_services(router, smb),
        Action::exploit_service(router, smb, service),
        // Service scan of a controlled host (local services too). FindData is left out: it
        // returns the whole logfile, which many agents on one host grow quickly.
        Action::find_services(smb, smb),
    ]
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

async fn tcp_agent(addr: SocketAddr, n: usize, until: Instant) -> Result<(u64, u64, Histogram<u64>), ClientError> {
    let mut client = Client::connect(addr).await?;
    client.register(&format!("bench{n}"), AgentRole::Attacker).await?;
    let plan = plan();
    let mut latency = histogram();
    let (mut steps, mut resets) = (0u64, 0u64);
    let mut i = 0;
    loop {
        let t = Instant::now();
        let obs = client.step(&plan[i % plan.len()]).await?;
        let _ = latency.record(t.elapsed().as_micros().max(1) as u64);
        steps += 1;
        i += 1;
        if obs.end {
            // Everyone resets after each episode, so stopping here never strands a peer at
            // the reset barrier.
            client.reset(ResetOptions::default()).await?;
            resets += 1;
            i = 0;
            if Instant::now() >= until {
                break;
            }
        }
    }
    client.quit().await?;
    Ok((steps, resets, latency))
}

/// Runs `agents` clients against `addr` for about `duration` (whole episodes).
pub fn run_tcp(
    addr: SocketAddr,
    agents: usize,
    duration: Duration,
    client_threads: usize,
) -> Result<TcpReport, ClientError> {
    let rt = if client_threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(client_threads).enable_all().build()?
    };
    rt.block_on(async move {
        let start = Instant::now();
        let until = start + duration;
        let tasks: Vec<_> = (0..agents).map(|n| tokio::spawn(tcp_agent(addr, n, until))).collect();
        let mut report = TcpReport { agents, steps: 0, resets: 0, elapsed: Duration::ZERO, latency_us: histogram() };
        for t in tasks {
            let (steps, resets, latency) = t.await.map_err(|e| ClientError::BadReply(e.to_string()))??;
            report.steps += steps;
            report.resets += resets;
            let _ = report.latency_us.add(latency);
        }
        report.elapsed = start.elapsed();
        Ok(report)
    })
}

/// What one in-process run measured.
#[derive(Debug, Clone)]
pub struct InProcessReport {
    pub games: usize,
    pub threads: usize,
    pub steps: u64,
    pub episodes: u64,
    pub elapsed: Duration,
    /// Resident set size at the end, in KiB.
    pub rss_kib: u64,
}

impl InProcessReport {
    pub fn steps_per_second(&self) -> f64 {
        self.steps as f64 / self.elapsed.as_secs_f64()
    }

    pub fn summary(&self) -> String {
        format!(
            "games {:>5}  threads {}  steps {:>10}  episodes {:>8}  {:>6.2} s  RSS {} KiB\naggregate_steps_per_s={:.0}",
            self.games,
            self.threads,
            self.steps,
            self.episodes,
            self.elapsed.as_secs_f64(),
            self.rss_kib,
            self.steps_per_second()
        )
    }
}

/// Counts the episodes the agents report.
struct Tally {
    episodes: Arc<AtomicU64>,
}

impl Actor for Tally {
    type Context = Context<Self>;
}

impl Handler<EpisodeSeen> for Tally {
    type Result = ();
    fn handle(&mut self, _: EpisodeSeen, _: &mut Context<Self>) {
        self.episodes.fetch_add(1, Ordering::Relaxed);
    }
}

/// An agent that counts its actions as it takes them (so steps are counted the moment they
/// happen, not at the end of an episode).
struct Counting<A> {
    agent: A,
    steps: Arc<AtomicU64>,
}

impl<A: Agent> Agent for Counting<A> {
    fn role(&self) -> AgentRole {
        self.agent.role()
    }
    fn episode_start(&mut self, obs: &Observation, info: &EpisodeInfo) {
        self.agent.episode_start(obs, info);
    }
    fn act(&mut self, obs: &Observation) -> Action {
        self.steps.fetch_add(1, Ordering::Relaxed);
        self.agent.act(obs)
    }
    fn episode_end(&mut self, obs: &Observation) {
        self.agent.episode_end(obs);
    }
}

/// Plays `games` games of random attacker vs random defender on `threads` arbiters for
/// `duration`; steps of episodes finished within the time are counted. Must run inside an
/// actix system. With a `registry` (the web view's), each game keeps metrics and is
/// registered there while the bench runs.
pub async fn run_in_process(
    task: TaskConfig,
    games: usize,
    threads: usize,
    duration: Duration,
    registry: Option<crate::registry::GameRegistry>,
) -> InProcessReport {
    let task = Arc::new(task);
    let threads = threads.max(1);
    // One step counter per arbiter: no cache line is shared between cores while playing.
    let steps: Vec<Arc<AtomicU64>> = (0..threads).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let episodes = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let arbiters: Vec<ArbiterHandle> = (0..threads).map(|_| Arbiter::new().handle()).collect();
    // Start every game first, then measure from a common start.
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    for g in 0..games {
        let task = task.clone();
        let (steps, episodes, stop, ready) =
            (steps[g % threads].clone(), episodes.clone(), stop.clone(), ready_tx.clone());
        let registry = registry.clone();
        arbiters[g % threads].spawn(async move {
            let tally = Tally { episodes }.start();
            let mut settings = GameSettings::new(task);
            settings.max_trajectory_bytes = 0;
            let mut config = GameConfig::new(settings, g as i64, std::env::temp_dir());
            config.metrics = registry.is_some();
            let game = Game::start(config);
            if let Some(r) = &registry {
                r.register(format!("bench game {g}"), None, &game);
            }
            let agents: [(Box<dyn Agent>, &str); 2] = [
                (Box::new(RandomAgent::attacker(2 * g as u64)), "attacker"),
                (Box::new(RandomAgent::defender(2 * g as u64 + 1)), "defender"),
            ];
            for (agent, name) in agents {
                let plan = PlayPlan { stop: Some(stop.clone()), ..PlayPlan::new(name, u64::MAX) };
                let reports = Reports { episodes: Some(tally.clone().recipient()), stopped: None };
                let agent = Counting { agent, steps: steps.clone() };
                LocalAgent::new(agent, plan, game.coordinator.clone(), reports).start();
            }
            let _ = ready.send(());
        });
    }
    drop(ready_tx);
    for _ in 0..games {
        let _ = ready_rx.recv().await;
    }
    let count = |s: &[Arc<AtomicU64>]| s.iter().map(|c| c.load(Ordering::Relaxed)).sum::<u64>();
    let (start, steps_before) = (Instant::now(), count(&steps));
    actix_rt::time::sleep(duration).await;
    let elapsed = start.elapsed();
    let report = InProcessReport {
        games,
        threads: arbiters.len(),
        steps: count(&steps) - steps_before,
        episodes: episodes.load(Ordering::Relaxed),
        elapsed,
        rss_kib: memory_stats::memory_stats().map_or(0, |m| m.physical_mem as u64 / 1024),
    };
    stop.store(true, Ordering::Relaxed);
    for a in arbiters {
        a.stop();
    }
    if let Some(r) = &registry {
        for e in r.list() {
            r.remove(e.id);
        }
    }
    report
}

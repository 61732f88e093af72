//! The load generator behind `netsecgame bench`: N concurrent clients play episodes against a
//! server (an in-process one by default, or any address) and we report steps per second and
//! request latency percentiles.
//!
//! Each client is an attacker on the default task's start hosts cycling through a scan, a
//! service scan, an exploit and a service scan of the exploited host; episodes end at `max_steps` and every client
//! then asks for a reset, so the episode-end and reset barriers are part of the measurement.

use crate::client::{Client, ClientError};
use netsecgame::action::{Action, Param};
use netsecgame::components::{ActionType, AgentRole, Ip, Service};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The default bench task: the default task with 100-step episodes.
pub fn bench_task_yaml() -> String {
    netsecgame::task::DEFAULT_TASK.replace("max_steps: 50", "max_steps: 100")
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct BenchReport {
    pub agents: usize,
    pub steps: u64,
    pub resets: u64,
    pub elapsed: Duration,
    /// Game-action round trips, in microseconds, sorted.
    pub latencies_us: Vec<u32>,
}

impl BenchReport {
    pub fn steps_per_second(&self) -> f64 {
        self.steps as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile(&self, p: f64) -> u32 {
        if self.latencies_us.is_empty() {
            return 0;
        }
        let i = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        self.latencies_us[i]
    }

    pub fn summary(&self) -> String {
        format!(
            "agents {:>3}  steps {:>9}  resets {:>6}  {:>6.2} s  {:>10.0} steps/s  latency p50 {} us  p90 {} us  p99 {} us  max {} us",
            self.agents,
            self.steps,
            self.resets,
            self.elapsed.as_secs_f64(),
            self.steps_per_second(),
            self.percentile(0.5),
            self.percentile(0.9),
            self.percentile(0.99),
            self.latencies_us.last().copied().unwrap_or(0),
        )
    }
}

fn plan() -> Vec<Action> {
    let router = Ip::v4(192, 168, 1, 1);
    let smb = Ip::v4(192, 168, 1, 2);
    let service = Service::new("microsoft-ds", "passive", "10.0.19041", false);
    vec![
        Action::new(
            ActionType::ScanNetwork,
            vec![Param::SourceHost(router), Param::TargetNetwork("192.168.1.0/24".parse().expect("valid"))],
        ),
        Action::new(ActionType::FindServices, vec![Param::SourceHost(router), Param::TargetHost(smb)]),
        Action::new(
            ActionType::ExploitService,
            vec![Param::SourceHost(router), Param::TargetHost(smb), Param::TargetService(service)],
        ),
        // Service scan of a controlled host (local services too). FindData is left out: it
        // returns the whole logfile, which many agents on one host grow quickly.
        Action::new(ActionType::FindServices, vec![Param::SourceHost(smb), Param::TargetHost(smb)]),
    ]
}

async fn agent(addr: SocketAddr, n: usize, until: Instant) -> Result<(u64, u64, Vec<u32>), ClientError> {
    let mut client = Client::connect(addr).await?;
    client.register(&format!("bench{n}"), AgentRole::Attacker).await?;
    let plan = plan();
    let mut latencies = Vec::with_capacity(1 << 16);
    let (mut steps, mut resets) = (0u64, 0u64);
    let mut i = 0;
    loop {
        let t = Instant::now();
        let obs = client.step(&plan[i % plan.len()]).await?;
        latencies.push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        steps += 1;
        i += 1;
        if obs.end {
            // Everyone resets after each episode, so stopping here never strands a peer at
            // the reset barrier.
            client.reset(false, false, None).await?;
            resets += 1;
            i = 0;
            if Instant::now() >= until {
                break;
            }
        }
    }
    client.quit().await?;
    Ok((steps, resets, latencies))
}

/// Runs `agents` clients against `addr` for about `duration` (whole episodes).
pub fn run(
    addr: SocketAddr,
    agents: usize,
    duration: Duration,
    client_threads: usize,
) -> Result<BenchReport, ClientError> {
    let rt = if client_threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(client_threads).enable_all().build()?
    };
    rt.block_on(async move {
        let start = Instant::now();
        let until = start + duration;
        let tasks: Vec<_> = (0..agents).map(|n| tokio::spawn(agent(addr, n, until))).collect();
        let mut report = BenchReport { agents, steps: 0, resets: 0, elapsed: Duration::ZERO, latencies_us: Vec::new() };
        for t in tasks {
            let (steps, resets, lat) = t.await.map_err(|e| ClientError::BadReply(e.to_string()))??;
            report.steps += steps;
            report.resets += resets;
            report.latencies_us.extend(lat);
        }
        report.elapsed = start.elapsed();
        report.latencies_us.sort_unstable();
        Ok(report)
    })
}

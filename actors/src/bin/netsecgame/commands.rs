//! The commands behind the CLI. Each returns `Ok(exit code)` or an error with its context;
//! `main` prints the error once.

use crate::cli::{BenchArgs, GenerateArgs, HttpArgs, PlayArgs, ServeArgs, TournamentArgs, TournamentCommand};
use crate::logging;
use anyhow::{bail, Context, Result};
use netsecgame::game::GameSettings;
use netsecgame::scenario::Topology;
use netsecgame::task::TaskConfig;
use netsecgame_actors::game::GameConfig;
use netsecgame_actors::registry::GameRegistry;
use netsecgame_actors::server::{Server, ServerConfig, ServerGroup, ServerHandle};
use netsecgame_actors::tournament::live::LiveTournament;
use netsecgame_actors::transports::tcp::{ConnectionLimits, SessionSettings};
use netsecgame_actors::web::{WebConfig, WebServer, WebState};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// The tasks `--task_config` names: nothing (the embedded default task), a file, a folder
/// (every task file in it, by name), or a comma-separated list of files.
fn load_tasks(path: &Option<std::path::PathBuf>) -> Result<Vec<Arc<TaskConfig>>> {
    let Some(path) = path else { return Ok(vec![Arc::new(TaskConfig::default_task())]) };
    let text = path.display().to_string();
    let files: Vec<std::path::PathBuf> = if path.is_dir() {
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot read the folder {text}"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .filter(|p| matches!(file_kind(p), Ok(FileKind::Task)))
            .collect();
        files.sort();
        anyhow::ensure!(!files.is_empty(), "{text} has no task files");
        files
    } else if text.contains(',') && !path.exists() {
        text.split(',').map(|p| std::path::PathBuf::from(p.trim())).collect()
    } else {
        vec![path.clone()]
    };
    files.iter().map(|f| Ok(Arc::new(TaskConfig::load(f)?))).collect()
}

/// The web view's address (`--http`), checked, if the view is on.
fn http_addr(args: &HttpArgs) -> Result<Option<String>> {
    args.http.as_deref().map(netsecgame_actors::web::parse_addr).transpose().map_err(|e| anyhow::anyhow!("--http: {e}"))
}

/// Starts the web view on `addr` (inside an actix system).
async fn start_web(addr: &str, args: &HttpArgs, state: impl FnOnce(WebConfig) -> WebState) -> Result<WebServer> {
    let config = WebConfig {
        max_upload: args.http_max_upload_mb.max(1) << 20,
        tick: Duration::from_millis(args.http_tick_ms.max(10)),
    };
    WebServer::start(addr, state(config)).await.with_context(|| format!("cannot serve the web view on {addr}"))
}

fn secs(n: u64) -> Option<Duration> {
    (n > 0).then(|| Duration::from_secs(n))
}

pub fn serve(args: ServeArgs) -> Result<ExitCode> {
    let log_file = logging::init(&args.debug_level);
    let http = http_addr(&args.http)?;
    let tasks = load_tasks(&args.task_config)?;
    let games = tasks.len() * args.games.max(1);
    anyhow::ensure!(
        games == 1 || usize::from(args.game_port) + games - 1 <= usize::from(u16::MAX),
        "{games} games from port {} run past port 65535",
        args.game_port
    );
    let sessions = SessionSettings {
        max_frame: args.max_request_bytes,
        frame_timeout: Duration::from_millis(args.frame_timeout_ms.max(1)),
        idle_timeout: secs(args.idle_timeout),
        join_timeout: secs(args.join_timeout),
        max_unsent_bytes: args.max_unsent_bytes.max(1),
        ..SessionSettings::default()
    };
    let mut configs = Vec::new();
    for task in &tasks {
        for w in &task.warnings {
            tracing::warn!("{}: {w}", task.origin);
        }
        for _ in 0..args.games.max(1) {
            let port = if games == 1 { args.game_port } else { args.game_port + configs.len() as u16 };
            let mut settings = GameSettings::new(task.clone());
            settings.max_agents = args.max_agents;
            settings.max_trajectory_bytes = args.max_trajectory_bytes;
            if args.whitebox {
                settings = settings.whitebox();
            }
            // With several games, each writes its trajectories to a folder of its own.
            let dir =
                if games == 1 { args.trajectory_dir.clone() } else { args.trajectory_dir.join(format!("game-{port}")) };
            let mut game = GameConfig::new(settings, args.seed, dir);
            // The view's counters (`/metrics`); without it, a game reads no clock per step.
            game.metrics = http.is_some();
            configs.push(ServerConfig {
                bind: format!("{}:{port}", args.game_host),
                game,
                sessions: sessions.clone(),
                limits: ConnectionLimits { max_per_ip: args.max_per_ip, ..ConnectionLimits::default() },
                io_threads: args.io_threads,
            });
        }
    }
    actix_rt::System::new().block_on(async move {
        let first = configs[0].bind.clone();
        let group = if games == 1 {
            // One game runs on the main thread, as it always has.
            let server = Server::start(configs.remove(0)).await.with_context(|| format!("cannot listen on {first}"))?;
            ServerGroup::of(vec![server])
        } else {
            ServerGroup::start(configs, netsecgame_actors::bench::cores()).await.context("cannot listen")?
        };
        let web = match &http {
            Some(addr) => {
                let registry = GameRegistry::new();
                group.register(&registry);
                match start_web(addr, &args.http, |c| WebState::new(registry, None, c)).await {
                    Ok(web) => Some(web),
                    Err(e) => {
                        group.stop().await;
                        return Err(e);
                    }
                }
            }
            None => None,
        };
        // Only now, with the ports ours, is the log file touched (and appended to).
        let log_name = format!("netsecgame-{}.log", group.servers[0].addr.port());
        if let Err(e) = log_file.open(&args.log_dir, &log_name) {
            tracing::warn!("cannot write the log file in {}: {e}", args.log_dir.display());
        }
        for (i, server) in group.servers.iter().enumerate() {
            let task = &tasks[i / args.games.max(1)];
            tracing::info!(
                "NetSecGame listening on {}: scenario {}, task {}, seed {}, required players {}",
                server.addr,
                task.topology.name,
                task.origin,
                args.seed,
                task.required_players
            );
        }
        if let Some(web) = &web {
            tracing::info!("web view on http://{}/ (metrics on /metrics)", web.addr);
        }
        wait_for_signal().await;
        if let Some(web) = web {
            web.stop().await;
        }
        tracing::info!("shutting down: saving open episodes");
        let saved = group.stop().await;
        tracing::info!("saved {saved} open episode(s); bye");
        Ok(ExitCode::SUCCESS)
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// What kind of file a YAML document is, by its top-level keys.
enum FileKind {
    Task,
    Tournament,
}

fn file_kind(path: &Path) -> Result<FileKind> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: serde_json::Value = config::Config::builder()
        .add_source(config::File::from_str(&text, config::FileFormat::Yaml))
        .build()
        .and_then(|c| c.try_deserialize())
        .with_context(|| format!("{} is not valid YAML", path.display()))?;
    let has = |k: &str| value.get(k).is_some();
    if has("env") || has("coordinator") {
        Ok(FileKind::Task)
    } else if has("entrants") || has("pairings") {
        Ok(FileKind::Tournament)
    } else {
        bail!(
            "{} is neither a task file (top-level `env` and `coordinator`) nor a tournament file (top-level `pairings`)",
            path.display()
        )
    }
}

pub fn validate(path: &Path) -> Result<ExitCode> {
    if let FileKind::Tournament = file_kind(path)? {
        let t = netsecgame_actors::tournament::Tournament::load(path)?;
        println!(
            "{}: OK (a tournament file; run it with `netsecgame tournament --config {}`)",
            path.display(),
            path.display()
        );
        let matches = netsecgame_actors::tournament::schedule::schedule(&t).len();
        println!(
            "  {} entrants, {} tasks, {} seeds: {matches} matches of {} episodes",
            t.entrants.len(),
            t.tasks.len(),
            t.seeds.len(),
            t.episodes
        );
        for e in &t.entrants {
            println!("  {} ({}): {}", e.name, e.role.name(), if e.is_external() { "command" } else { "built-in" });
        }
        return Ok(ExitCode::SUCCESS);
    }
    let t = TaskConfig::load(path)?;
    println!("{}: OK", path.display());
    println!(
        "  scenario: {} ({}; {} hosts, {} IPs, {} networks)",
        t.topology.name,
        t.topology.origin,
        t.topology.hosts.len(),
        t.topology.ips.len(),
        t.topology.networks.len()
    );
    println!(
        "  required players: {}; firewall: {}; dynamic addresses: {}; global defender: {}; save trajectories: {}",
        t.required_players, t.use_firewall, t.use_dynamic_addresses, t.use_global_defender, t.save_trajectories
    );
    println!(
        "  rewards: step {}, success {}, fail {}, false positive {}",
        t.rewards.step, t.rewards.success, t.rewards.fail, t.rewards.false_positive
    );
    for role in netsecgame::components::AgentRole::ALL {
        let r = t.role(role);
        println!(
            "  {}: max_steps {}, goal \"{}\"",
            role.name(),
            r.max_steps.map_or("unlimited".into(), |m| m.to_string()),
            r.goal_description
        );
    }
    println!("  configuration hash: {}", t.configuration_hash);
    for w in &t.warnings {
        println!("  warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn tournament(args: TournamentArgs) -> Result<ExitCode> {
    use netsecgame_actors::tournament::{self, RunOptions, Shard, Tournament};
    match args.command {
        Some(TournamentCommand::Report { store, out }) => {
            let table = tournament::report(&store, &out).map_err(|e| anyhow::anyhow!("{e}"))?;
            print!("{table}");
            return Ok(ExitCode::SUCCESS);
        }
        Some(TournamentCommand::Merge { into, out, stores }) => {
            let table = tournament::merge(&stores, &into, &out).map_err(|e| anyhow::anyhow!("{e}"))?;
            print!("{table}");
            return Ok(ExitCode::SUCCESS);
        }
        None => {}
    }
    let args = args.run;
    let http = http_addr(&args.http)?;
    let mut t = Tournament::load(&args.config)?;
    if let Some(e) = args.episodes {
        anyhow::ensure!(e > 0, "--episodes must be at least 1");
        t.episodes = e;
    }
    let shard = match &args.shard {
        Some(text) => Shard::parse(text).map_err(|e| anyhow::anyhow!("--shard {e}"))?,
        None => Shard::WHOLE,
    };
    let store = args.store.clone().unwrap_or_else(|| {
        if shard == Shard::WHOLE {
            args.out.join("tournament.sqlite")
        } else {
            args.out.join(format!("shard-{}-of-{}.sqlite", shard.index, shard.count))
        }
    });
    let live = http.as_ref().map(|_| LiveTournament::new(GameRegistry::new()));
    let options = RunOptions {
        store: store.clone(),
        out: args.out.clone(),
        shard,
        parallel: args.parallel,
        quiet: args.quiet,
        live: live.clone(),
    };
    actix_rt::System::new().block_on(async {
        let web = match (&http, &live) {
            (Some(addr), Some(live)) => {
                let (registry, live) = (live.registry.clone(), live.clone());
                let web = start_web(addr, &args.http, |c| WebState::new(registry, Some(live), c)).await?;
                eprintln!("web view: http://{}/tournament", web.addr);
                Some(web)
            }
            _ => None,
        };
        let summary = tournament::run(t, &options).await?;
        let table = tournament::report(&store, &args.out).map_err(|e| anyhow::anyhow!("{e}"))?;
        print!("{table}");
        if !args.quiet {
            eprintln!(
                "{} matches played in {:.1} s ({} already in the store), {} forfeits; store {}, outputs in {}",
                summary.played,
                summary.seconds,
                summary.resumed,
                summary.forfeits,
                store.display(),
                args.out.display()
            );
        }
        if let Some(web) = web {
            // The final standings stay on view until the user is done with them.
            eprintln!("tournament finished; the web view stays up at http://{}/tournament until Ctrl-C", web.addr);
            wait_for_signal().await;
            web.stop().await;
        }
        Ok::<(), anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn bench(args: BenchArgs) -> Result<ExitCode> {
    use netsecgame_actors::bench;
    let seconds = Duration::from_secs_f64(args.seconds.max(0.1));
    let http = http_addr(&args.http)?;
    if args.in_process {
        let task = bench::in_process_task(&args.scenario)?;
        let threads = args.threads.unwrap_or_else(bench::cores);
        let report = actix_rt::System::new().block_on(async {
            let registry = http.as_ref().map(|_| GameRegistry::new());
            let web = match (&http, &registry) {
                (Some(addr), Some(registry)) => {
                    let registry = registry.clone();
                    let web = start_web(addr, &args.http, |c| WebState::new(registry, None, c)).await?;
                    eprintln!("web view: http://{}/", web.addr);
                    Some(web)
                }
                _ => None,
            };
            let report = bench::run_in_process(task, args.games.max(1), threads, seconds, registry).await;
            if let Some(web) = web {
                web.stop().await;
            }
            Ok::<_, anyhow::Error>(report)
        })?;
        println!("{}", report.summary());
        return Ok(ExitCode::SUCCESS);
    }
    anyhow::ensure!(
        http.is_none(),
        "--http watches in-process bench games (--in_process); over TCP, start `netsecgame serve --http ADDR` and bench it with --addr"
    );
    for &agents in &args.agents {
        let server = match args.addr {
            Some(_) => None,
            None => {
                let mut settings = GameSettings::new(Arc::new(bench::tcp_task()));
                settings.max_agents = agents + 8;
                let mut config = ServerConfig::new(
                    "127.0.0.1:0",
                    GameConfig::new(settings, 42, std::env::temp_dir().join("netsecgame-bench")),
                );
                config.io_threads = args.io_threads;
                config.limits.max_per_ip = 0;
                Some(ServerHandle::spawn(config).context("cannot start the server")?)
            }
        };
        let addr = args.addr.or(server.as_ref().map(|s| s.addr)).expect("an address");
        let report = bench::run_tcp(addr, agents, seconds, args.client_threads)
            .with_context(|| format!("benchmark against {addr} failed"))?;
        println!("{}", report.summary());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn scenario_dump(name_or_path: &str, no_firewall: bool) -> Result<ExitCode> {
    let t = Topology::load(name_or_path, None)?;
    println!("{}", serde_json::to_string_pretty(&t.dump(!no_firewall))?);
    Ok(ExitCode::SUCCESS)
}

pub fn scenario_generate(args: GenerateArgs) -> Result<ExitCode> {
    use netsecgame::generate::{generate, GenerateOptions};
    let started = std::time::Instant::now();
    let services = args
        .services
        .split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
        .with_context(|| format!("--services must be MIN-MAX, got `{}`", args.services))?;
    let options = GenerateOptions {
        hosts: args.hosts,
        networks: args.networks,
        prefix: args.prefix,
        seed: args.seed,
        servers: args.servers,
        services,
        data: args.data,
        links: args.links,
        ..GenerateOptions::default()
    };
    let g = generate(&options)?;
    std::fs::write(&args.out, &g.scenario_yaml).with_context(|| format!("cannot write {}", args.out.display()))?;
    let t = Topology::load(&args.out.display().to_string(), None)?;
    println!(
        "{}: {} hosts, {} IPs, {} networks, {} start candidates",
        args.out.display(),
        t.hosts.len(),
        t.ips.len(),
        t.networks.len(),
        t.start_candidates.len()
    );
    if let Some(task_path) = &args.task {
        // The task names the scenario relative to its own folder when they share one.
        let same_folder = task_path.parent() == args.out.parent();
        let scenario_ref = if same_folder {
            args.out.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default()
        } else {
            std::fs::canonicalize(&args.out)?.display().to_string()
        };
        std::fs::write(task_path, g.task_yaml(&scenario_ref, args.max_steps))
            .with_context(|| format!("cannot write {}", task_path.display()))?;
        TaskConfig::load(task_path)?;
        println!("{}: the task (exfiltrate {} from {} to {})", task_path.display(), g.target.2, g.target.0, g.cc);
    }
    println!("generated and validated in {:.2} s", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

/// Prints each finished episode of `play`.
struct EpisodePrinter;

impl actix::Actor for EpisodePrinter {
    type Context = actix::Context<Self>;
}

impl actix::Handler<netsecgame_actors::agents::EpisodeSeen> for EpisodePrinter {
    type Result = ();
    fn handle(&mut self, e: netsecgame_actors::agents::EpisodeSeen, _: &mut Self::Context) {
        let end = e.end_reason.map_or("no end reason", |s| s.name());
        println!("{}: {end} after {} steps, return {}", e.name, e.steps, e.episode_return);
    }
}

pub fn play(args: PlayArgs) -> Result<ExitCode> {
    use actix::Actor;
    use netsecgame_actors::agents::{play_remote, PlayPlan, Reports};
    let kind = netsecgame::agents::BuiltinAgent::parse(&args.agent).with_context(|| {
        format!("unknown agent `{}` (one of {})", args.agent, netsecgame::agents::BuiltinAgent::names())
    })?;
    let addr: std::net::SocketAddr = std::net::ToSocketAddrs::to_socket_addrs(&args.addr)
        .ok()
        .and_then(|mut a| a.next())
        .with_context(|| format!("bad address {}", args.addr))?;
    let mut plan = PlayPlan::new(args.name.clone().unwrap_or_else(|| kind.name().to_string()), args.episodes.max(1));
    plan.pace = (args.delay_ms > 0).then(|| Duration::from_millis(args.delay_ms));
    let played = actix_rt::System::new().block_on(async move {
        let reports = Reports { episodes: Some(EpisodePrinter.start().recipient()), stopped: None };
        let mut agent = kind.create(args.seed);
        play_remote(&mut agent, addr, &plan, &reports).await
    });
    let played = played.with_context(|| format!("playing against {addr} failed"))?;
    println!("played {played} episode(s) against {addr}");
    Ok(ExitCode::SUCCESS)
}

/// Connects, sends an empty request and expects a BAD_REQUEST answer: the server is
/// accepting, its game admits connections, and it answers. Nothing in the game changes.
pub fn health(addr: &str, timeout: f64) -> Result<ExitCode> {
    use std::io::{Read, Write};
    let timeout = Duration::from_secs_f64(timeout.max(0.1));
    let addr: std::net::SocketAddr = std::net::ToSocketAddrs::to_socket_addrs(addr)
        .with_context(|| format!("bad address {addr}"))?
        .next()
        .with_context(|| format!("bad address {addr}"))?;
    let mut s =
        std::net::TcpStream::connect_timeout(&addr, timeout).with_context(|| format!("cannot connect to {addr}"))?;
    s.set_read_timeout(Some(timeout))?;
    s.write_all(b"{}")?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    while !reply.windows(3).any(|w| w == b"EOF") {
        let n = s.read(&mut buf).with_context(|| format!("no answer from {addr}"))?;
        if n == 0 {
            bail!("{addr} closed the connection without answering");
        }
        reply.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&reply);
    if !text.contains("GameStatus.BAD_REQUEST") {
        bail!("unexpected answer from {addr}: {text}");
    }
    println!("{addr}: OK");
    Ok(ExitCode::SUCCESS)
}

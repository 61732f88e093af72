//! `netsecgame`: the game server and its tools.
//!
//! `netsecgame serve` (also the default when no subcommand is given, so upstream command
//! lines work unchanged) runs a game; `validate` checks a task file; `scenario dump` prints a
//! derived world as JSON.

use clap::{Args, Parser, Subcommand};
use netsecgame::scenario::Topology;
use netsecgame::task::TaskConfig;
use netsecgame_actors::server::{game_settings, serve, start_game};
use netsecgame_actors::session::SessionSettings;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "netsecgame", version, about = "NetSecGame server: network-security games for AI agents over TCP")]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run a game server (the default).
    Serve(ServeArgs),
    /// Load a task file and its scenario, print a summary, fail on any error.
    Validate {
        #[arg(short = 'c', long = "task_config")]
        task_config: PathBuf,
    },
    /// Run built-in agents against each other over many episodes and concurrent games.
    Tournament(TournamentArgs),
    /// Load generator: N concurrent clients, steps/s and latency percentiles.
    Bench(BenchArgs),
    /// Scenario tools.
    Scenario {
        #[command(subcommand)]
        command: ScenarioCommand,
    },
}

#[derive(Args)]
struct TournamentArgs {
    /// Tournament file (see tasks/tournament.yaml).
    #[arg(long, default_value = "tasks/tournament.yaml")]
    config: PathBuf,
    /// Override the number of concurrent games.
    #[arg(long)]
    games: Option<usize>,
    /// Override the episodes per pairing.
    #[arg(long)]
    episodes: Option<u64>,
    /// Play each pairing this many seconds instead of a number of episodes.
    #[arg(long)]
    duration_s: Option<f64>,
    /// Folder for tournament.json and tournament.csv.
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// No progress lines on stderr.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct BenchArgs {
    /// Concurrent agents (comma-separated for several runs, e.g. 1,4,16).
    #[arg(long, default_value = "1", value_delimiter = ',')]
    agents: Vec<usize>,
    /// Seconds per run (whole episodes are played, so runs end a little later).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Load a running server instead of starting one in this process.
    #[arg(long)]
    addr: Option<std::net::SocketAddr>,
    /// Threads for the clients.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Extra threads for the in-process server's connections (0: the game's thread).
    #[arg(long, default_value_t = 0)]
    io_threads: usize,
}

#[derive(Subcommand)]
enum ScenarioCommand {
    /// Print the world derived from a scenario (an embedded name or a YAML path) as JSON.
    Dump {
        name_or_path: String,
        /// Build the firewall as with `use_firewall: false`.
        #[arg(long)]
        no_firewall: bool,
    },
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Task configuration YAML (upstream format). Without it, the embedded default task runs.
    #[arg(short = 'c', long = "task_config")]
    task_config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long = "game_host", visible_alias = "gh", default_value = "127.0.0.1")]
    game_host: String,
    /// Port to listen on.
    #[arg(long = "game_port", visible_alias = "gp", default_value_t = 9000)]
    game_port: u16,
    /// DEBUG, INFO, WARNING, ERROR or CRITICAL (unknown values mean ERROR, as upstream).
    #[arg(short = 'l', long = "debug_level", default_value = "INFO")]
    debug_level: String,
    /// Seed of the game's random generator.
    #[arg(short = 's', long = "seed", default_value_t = 42)]
    seed: i64,
    /// Most simultaneous connections.
    #[arg(long = "max_agents", default_value_t = 1024)]
    max_agents: usize,
    /// WhiteBox mode: send the list of all actions at registration.
    #[arg(long)]
    whitebox: bool,
    /// Folder for log files.
    #[arg(long = "log_dir", default_value = "logs")]
    log_dir: PathBuf,
    /// Folder for trajectory files (when the task saves them).
    #[arg(long = "trajectory_dir", default_value = "logs/trajectories")]
    trajectory_dir: PathBuf,
    /// Close connections idle for this many seconds (0: never).
    #[arg(long = "idle_timeout", default_value_t = 0)]
    idle_timeout: u64,
    /// Answer an unfinished request as malformed after this many milliseconds of silence.
    #[arg(long = "frame_timeout_ms", default_value_t = 500)]
    frame_timeout_ms: u64,
    /// Largest accepted request, in bytes.
    #[arg(long = "max_request_bytes", default_value_t = 1 << 20)]
    max_request_bytes: usize,
    /// Extra threads for connection I/O (0: sessions share the game's thread).
    #[arg(long = "io_threads", default_value_t = 0)]
    io_threads: usize,
}

fn level(text: &str) -> tracing::Level {
    match text.to_ascii_uppercase().as_str() {
        "DEBUG" => tracing::Level::DEBUG,
        "INFO" => tracing::Level::INFO,
        "WARNING" | "WARN" => tracing::Level::WARN,
        _ => tracing::Level::ERROR,
    }
}

fn init_logging(args: &ServeArgs) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::filter::LevelFilter::from_level(level(&args.debug_level));
    use std::io::IsTerminal;
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal());
    // One file per port, so servers sharing a folder do not clobber each other (B31).
    let file = std::fs::create_dir_all(&args.log_dir)
        .and_then(|_| std::fs::File::create(args.log_dir.join(format!("netsecgame-{}.log", args.game_port))))
        .ok()
        .map(|f| tracing_subscriber::fmt::layer().with_ansi(false).with_writer(std::sync::Mutex::new(f)));
    tracing_subscriber::registry().with(filter).with(stderr).with(file).init();
}

fn load_task(path: &Option<PathBuf>) -> Result<TaskConfig, String> {
    match path {
        Some(p) => TaskConfig::load(p).map_err(|e| e.to_string()),
        None => Ok(TaskConfig::default_task()),
    }
}

fn run_serve(args: ServeArgs) -> ExitCode {
    init_logging(&args);
    let task = match load_task(&args.task_config) {
        Ok(t) => Arc::new(t),
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    for w in &task.warnings {
        tracing::warn!("{w}");
    }
    let mut settings = game_settings(task.clone(), args.max_agents, args.trajectory_dir.clone());
    if args.whitebox {
        settings.all_actions = Some(Arc::from(netsecgame::whitebox::all_actions_json(&task.topology)));
    }
    let sessions = SessionSettings {
        max_frame: args.max_request_bytes,
        frame_timeout: Duration::from_millis(args.frame_timeout_ms.max(1)),
        idle_timeout: (args.idle_timeout > 0).then(|| Duration::from_secs(args.idle_timeout)),
    };
    let io_threads = args.io_threads;
    let system = actix_rt::System::new();
    let result = system.block_on(async move {
        let addr = format!("{}:{}", args.game_host, args.game_port);
        let listener =
            tokio::net::TcpListener::bind(&addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let game = start_game(settings, args.seed);
        let io = (0..io_threads).map(|_| actix::Arbiter::new().handle()).collect();
        tracing::info!(
            "NetSecGame listening on {addr}: scenario {}, task {}, seed {}, required players {}",
            task.topology.name,
            task.origin,
            args.seed,
            task.required_players
        );
        let server = actix_rt::spawn(serve(listener, game.clone(), sessions, io));
        wait_for_signal().await;
        tracing::info!("shutting down: saving open episodes");
        server.abort();
        let saved = game.shutdown().await;
        tracing::info!("saved {saved} open episode(s); bye");
        Ok::<(), String>(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

fn run_tournament(args: TournamentArgs) -> ExitCode {
    use netsecgame_actors::tournament::{run, write_results, Tournament};
    let mut t = match Tournament::load(&args.config) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(g) = args.games {
        t.games = g.max(1);
    }
    if let Some(e) = args.episodes {
        t.episodes = Some(e);
        t.duration = None;
    }
    if let Some(d) = args.duration_s {
        t.duration = Some(Duration::from_secs_f64(d));
        t.episodes = None;
    }
    t.trajectory_dir = args.out.join("trajectories");
    let report = actix_rt::System::new().block_on(run(t, !args.quiet));
    print!("{}", report.table());
    for e in &report.errors {
        eprintln!("agent error: {e}");
    }
    if let Err(e) = write_results(&report, &args.out) {
        eprintln!("error: cannot write results to {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn run_bench(args: BenchArgs) -> ExitCode {
    use netsecgame_actors::bench;
    for &agents in &args.agents {
        let server = match args.addr {
            Some(_) => None,
            None => {
                let task = Arc::new(
                    TaskConfig::from_yaml(&bench::bench_task_yaml(), "embedded:bench", None)
                        .expect("bench task is valid"),
                );
                let dir = std::env::temp_dir().join("netsecgame-bench");
                let settings = game_settings(task, agents + 8, dir);
                match netsecgame_actors::server::ServerHandle::spawn(
                    "127.0.0.1:0".parse().expect("valid address"),
                    settings,
                    42,
                    SessionSettings::default(),
                    args.io_threads,
                ) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        eprintln!("error: cannot start the server: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
        };
        let addr = args.addr.or(server.as_ref().map(|s| s.addr)).expect("an address");
        match bench::run(addr, agents, Duration::from_secs_f64(args.seconds), args.client_threads) {
            Ok(report) => println!("{}", report.summary()),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
        drop(server);
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => run_serve(cli.serve),
        Some(Command::Serve(args)) => run_serve(args),
        Some(Command::Validate { task_config }) => match TaskConfig::load(&task_config) {
            Ok(t) => {
                println!("{}: OK", task_config.display());
                println!(
                    "  scenario: {} ({}; {} hosts, {} IPs, {} networks)",
                    t.topology.name,
                    t.topology.origin,
                    t.topology.hosts.len(),
                    t.topology.ips.len(),
                    t.topology.networks.len()
                );
                println!("  required players: {}; firewall: {}; dynamic addresses: {}; global defender: {}; save trajectories: {}", t.required_players, t.use_firewall, t.use_dynamic_addresses, t.use_global_defender, t.save_trajectories);
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
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Some(Command::Bench(args)) => run_bench(args),
        Some(Command::Tournament(args)) => run_tournament(args),
        Some(Command::Scenario { command: ScenarioCommand::Dump { name_or_path, no_firewall } }) => {
            match Topology::load(&name_or_path, None) {
                Ok(t) => {
                    println!("{}", serde_json::to_string_pretty(&t.dump(!no_firewall)).expect("JSON values serialise"));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

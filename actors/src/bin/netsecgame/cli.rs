//! Command-line arguments. Upstream's flags work as upstream spells them (`--task_config`,
//! `--game_port`, ...); every multi-word flag is also accepted with dashes, and a repeated
//! flag takes its last value, as Python's argparse does.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "netsecgame", version, about = "NetSecGame server: network-security games for AI agents over TCP")]
#[command(args_conflicts_with_subcommands = true, args_override_self = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run a game server (the default when no command is given).
    Serve(ServeArgs),
    /// Check a task file (or a tournament file) and print a summary, or say exactly what is wrong.
    Validate {
        /// The file to check.
        #[arg(short = 'c', long = "task_config", alias = "task-config", alias = "config")]
        task_config: PathBuf,
    },
    /// Run built-in agents against each other over many episodes and concurrent games.
    Tournament(TournamentArgs),
    /// Measure throughput: over TCP (load generator) or in-process.
    Bench(BenchArgs),
    /// Scenario tools.
    Scenario {
        #[command(subcommand)]
        command: ScenarioCommand,
    },
    /// Statistics, charts and the gameplay graph of trajectory files (several: compared side by side).
    Analyze(AnalyzeArgs),
    /// Connect a built-in agent to a server and play (try a server, or watch an agent play in
    /// the web view).
    Play(PlayArgs),
    /// Check that a server answers (exit 0) or not (exit 1); for container health checks.
    Health {
        /// The server's address.
        #[arg(long, default_value = "127.0.0.1:9000")]
        addr: String,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 5.0)]
        timeout: f64,
    },
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TournamentArgs {
    #[command(subcommand)]
    pub command: Option<TournamentCommand>,
    #[command(flatten)]
    pub run: TournamentRunArgs,
}

#[derive(Args)]
pub struct TournamentRunArgs {
    /// Tournament file (see tasks/tournament.yaml).
    #[arg(long, default_value = "tasks/tournament.yaml")]
    pub config: PathBuf,
    /// The match log (SQLite). Default: OUT/tournament.sqlite, or OUT/shard-I-of-N.sqlite.
    /// Running again with the same store resumes where it stopped.
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// Folder for the leaderboard, matches.csv, charts, entrants' logs and trajectories.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Play only shard I of N (matches whose number is I modulo N), e.g. `--shard 0/4`.
    #[arg(long)]
    pub shard: Option<String>,
    /// Matches at once (default: the file's `parallel`).
    #[arg(long)]
    pub parallel: Option<usize>,
    /// Override the episodes per match (this makes it another tournament for the store).
    #[arg(long)]
    pub episodes: Option<u64>,
    /// No progress on stderr.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub http: HttpArgs,
}

/// The web view's flags (`serve`, `tournament`, `bench`).
#[derive(Args, Clone)]
pub struct HttpArgs {
    /// Serve the web view (live games, tournament, replays, /metrics) on this address: PORT,
    /// :PORT or HOST:PORT; a bare port binds 127.0.0.1. Off unless given.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    /// Largest trajectory file the web view's replay accepts, in MiB.
    #[arg(long = "http_max_upload_mb", alias = "http-max-upload-mb", default_value_t = 256, value_name = "MIB")]
    pub http_max_upload_mb: usize,
    /// How often each page's live stream looks for changes, in milliseconds (at most this
    /// many updates per second and page; changes in between are sent together).
    #[arg(long = "http_tick_ms", alias = "http-tick-ms", default_value_t = 200, value_name = "MS")]
    pub http_tick_ms: u64,
}

#[derive(Subcommand)]
pub enum TournamentCommand {
    /// Rebuild every output (leaderboard, matches.csv, charts) from a store alone.
    Report {
        #[arg(long)]
        store: PathBuf,
        #[arg(long, default_value = "results")]
        out: PathBuf,
    },
    /// Combine shard stores into one store and report on it.
    Merge {
        /// The merged store to write (created if missing).
        #[arg(long, default_value = "results/tournament.sqlite")]
        into: PathBuf,
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// The shard stores.
        #[arg(required = true)]
        stores: Vec<PathBuf>,
    },
}

#[derive(Args)]
pub struct BenchArgs {
    /// Play in-process (typed messages, no sockets) instead of over TCP.
    #[arg(long = "in_process", alias = "in-process")]
    pub in_process: bool,
    /// Seconds per run.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// In-process: concurrent games.
    #[arg(long, default_value_t = 64)]
    pub games: usize,
    /// In-process: the scenario (an embedded name or a YAML path).
    #[arg(long, default_value = "two_networks_tiny")]
    pub scenario: String,
    /// In-process: threads (arbiters) the games are spread over; default one per core.
    #[arg(long)]
    pub threads: Option<usize>,
    /// TCP: concurrent agents (comma-separated for several runs, e.g. 1,4,16).
    #[arg(long, default_value = "1", value_delimiter = ',')]
    pub agents: Vec<usize>,
    /// TCP: load a running server instead of starting one in this process.
    #[arg(long)]
    pub addr: Option<std::net::SocketAddr>,
    /// TCP: threads for the clients.
    #[arg(long = "client_threads", alias = "client-threads", default_value_t = 1)]
    pub client_threads: usize,
    /// TCP: extra threads for the in-process server's connections (0: the game's thread).
    #[arg(long = "io_threads", alias = "io-threads", default_value_t = 0)]
    pub io_threads: usize,
    /// Serve the web view over the bench's games (in-process, or the in-process TCP server),
    /// to measure what it costs.
    #[command(flatten)]
    pub http: HttpArgs,
}

#[derive(Args)]
pub struct PlayArgs {
    #[arg(
        long,
        default_value = "scripted_attacker",
        help = "The built-in agent: random_attacker, scripted_attacker, random_defender, log_defender or benign."
    )]
    pub agent: String,
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1:9000")]
    pub addr: String,
    /// Episodes to play (a reset between them).
    #[arg(long, default_value_t = 1)]
    pub episodes: u64,
    /// Milliseconds to wait before each action (0: as fast as the server answers).
    #[arg(long = "delay_ms", alias = "delay-ms", default_value_t = 0)]
    pub delay_ms: u64,
    /// The name to join with (default: the agent's).
    #[arg(long)]
    pub name: Option<String>,
    /// Seed of the agent's own choices.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Args)]
pub struct AnalyzeArgs {
    /// Trajectory files (JSONL, ours or upstream's); several are compared as checkpoints, in order.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Folder for summary.json, the SVG charts and the graph exports.
    #[arg(long, default_value = "analysis")]
    pub out: PathBuf,
    /// Keep only episodes that ended so (Success, Fail, TimeoutReached, none, ...); repeat or comma-separate.
    #[arg(long = "end_reason", alias = "end-reason", value_delimiter = ',')]
    pub end_reason: Vec<String>,
    /// Read at most this many episodes of each file.
    #[arg(long = "max_episodes", alias = "max-episodes")]
    pub max_episodes: Option<u64>,
    /// Gameplay graph export: graphml, dot, both or none.
    #[arg(long = "graph_format", alias = "graph-format", default_value = "graphml")]
    pub graph_format: String,
    /// Steps shown in the action-flow (Sankey) chart.
    #[arg(long = "flow_steps", alias = "flow-steps", default_value_t = 12)]
    pub flow_steps: usize,
    /// Print nothing but problems (summary.json is still written).
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Subcommand)]
pub enum ScenarioCommand {
    /// Write a generated scenario (and optionally a matching task): private networks joined by
    /// a router and firewall rules, servers and clients, data, and a public C&C host.
    Generate(GenerateArgs),
    /// Print the world derived from a scenario (an embedded name or a YAML path) as JSON.
    Dump {
        name_or_path: String,
        /// Build the firewall as with `use_firewall: false`.
        #[arg(long = "no_firewall", alias = "no-firewall")]
        no_firewall: bool,
    },
}

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Task configuration YAML (upstream format); a folder of them, or a comma-separated list,
    /// serves one game per task on consecutive ports. Without it, the embedded default task runs.
    #[arg(short = 'c', long = "task_config", alias = "task-config")]
    pub task_config: Option<PathBuf>,
    /// Games per task, on consecutive ports from the game port (each with its own world,
    /// defender and trajectory folder).
    #[arg(long, default_value_t = 1)]
    pub games: usize,
    /// Address to listen on.
    #[arg(long = "game_host", alias = "game-host", visible_alias = "gh", default_value = "127.0.0.1")]
    pub game_host: String,
    /// Port to listen on.
    #[arg(long = "game_port", alias = "game-port", visible_alias = "gp", default_value_t = 9000)]
    pub game_port: u16,
    /// DEBUG, INFO, WARNING, ERROR or CRITICAL (unknown values mean ERROR, as upstream).
    /// `RUST_LOG`, when set, takes precedence.
    #[arg(short = 'l', long = "debug_level", alias = "debug-level", default_value = "INFO")]
    pub debug_level: String,
    /// Seed of the game's random generator.
    #[arg(short = 's', long = "seed", default_value_t = 42)]
    pub seed: i64,
    /// Most simultaneous connections.
    #[arg(long = "max_agents", alias = "max-agents", default_value_t = 1024)]
    pub max_agents: usize,
    /// Most simultaneous connections from one address (0: no limit).
    #[arg(long = "max_per_ip", alias = "max-per-ip", default_value_t = 128)]
    pub max_per_ip: usize,
    /// Close connections that have not sent JoinGame within this many seconds (0: never).
    #[arg(long = "join_timeout", alias = "join-timeout", default_value_t = 120)]
    pub join_timeout: u64,
    /// Close connections idle for this many seconds (0: never). Waiting at a barrier is not idle.
    #[arg(long = "idle_timeout", alias = "idle-timeout", default_value_t = 0)]
    pub idle_timeout: u64,
    /// WhiteBox mode: send the list of all actions at registration.
    #[arg(long)]
    pub whitebox: bool,
    /// Folder for log files.
    #[arg(long = "log_dir", alias = "log-dir", default_value = "logs")]
    pub log_dir: PathBuf,
    /// Folder for trajectory files (when the task saves them).
    #[arg(long = "trajectory_dir", alias = "trajectory-dir", default_value = "logs/trajectories")]
    pub trajectory_dir: PathBuf,
    /// Bound on one episode's recorded trajectory, in bytes (estimated JSON).
    #[arg(long = "max_trajectory_bytes", alias = "max-trajectory-bytes", default_value_t = netsecgame::trajectory::DEFAULT_MAX_BYTES)]
    pub max_trajectory_bytes: usize,
    /// Answer an unfinished request as malformed after this many milliseconds of silence.
    #[arg(long = "frame_timeout_ms", alias = "frame-timeout-ms", default_value_t = 500)]
    pub frame_timeout_ms: u64,
    /// Largest accepted request, in bytes.
    #[arg(long = "max_request_bytes", alias = "max-request-bytes", default_value_t = 1 << 20)]
    pub max_request_bytes: usize,
    /// Replies a client has not read yet, in bytes, before its requests wait.
    #[arg(long = "max_unsent_bytes", alias = "max-unsent-bytes", default_value_t = 1 << 20)]
    pub max_unsent_bytes: usize,
    /// Extra threads for connection I/O (0: sessions share the game's thread).
    #[arg(long = "io_threads", alias = "io-threads", default_value_t = 0)]
    pub io_threads: usize,
    #[command(flatten)]
    pub http: HttpArgs,
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Hosts (servers and clients; a router and the C&C host come on top).
    #[arg(long)]
    pub hosts: usize,
    /// Private networks (default: one per 40 hosts).
    #[arg(long)]
    pub networks: Option<usize>,
    /// Seed: the same seed gives the same scenario.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Prefix length of each network (default: the longest that fits, at most 24).
    #[arg(long)]
    pub prefix: Option<u8>,
    /// Share of hosts that are servers.
    #[arg(long, default_value_t = 0.2)]
    pub servers: f64,
    /// Services per server, MIN-MAX.
    #[arg(long, default_value = "2-5")]
    pub services: String,
    /// Share of servers that hold data.
    #[arg(long, default_value_t = 0.5)]
    pub data: f64,
    /// Share of network pairs joined by an extra firewall rule (networks are chained anyway).
    #[arg(long, default_value_t = 0.05)]
    pub links: f64,
    /// Where to write the scenario YAML.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write a task for it here (attacker exfiltrates one data item to the C&C host).
    #[arg(long)]
    pub task: Option<PathBuf>,
    /// Step limit of the task's roles.
    #[arg(long = "max_steps", alias = "max-steps", default_value_t = 200)]
    pub max_steps: u64,
}

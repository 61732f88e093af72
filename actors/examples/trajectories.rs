//! Writes trajectory files fast: one attacker plays a task through `LocalGame` (the server's
//! rules, synchronously, no actors or sockets), and every record the game emits is written as
//! the server's recorder writes it. For `netsecgame analyze` examples and benchmarks.
//!
//! `--epsilon E` mixes agents: at each step the built-in `--agent` acts with probability
//! 1 - E and the random attacker otherwise, which stands in for the checkpoints of a training
//! run (E falling from one file to the next).
//!
//! ```sh
//! cargo run --release -p netsecgame-actors --example trajectories -- \
//!     --task tasks/analyze_demo.yaml --agent scripted_attacker --epsilon 0.5 --episodes 10000 --out run.jsonl
//! ```

use clap::Parser;
use netsecgame::action::{Action, ResetOptions};
use netsecgame::agents::{Agent, BuiltinAgent, EpisodeInfo, Observation};
use netsecgame::components::AgentRole;
use netsecgame::game::{Effect, GameSettings, LocalGame};
use netsecgame::pyjson::write_py_json;
use netsecgame::task::TaskConfig;
use rand::{Rng, SeedableRng};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
struct Args {
    /// Task file (must save trajectories or not: records are taken from the game either way).
    #[arg(long)]
    task: PathBuf,
    /// Built-in attacker: `random_attacker` or `scripted_attacker`.
    #[arg(long, default_value = "random_attacker")]
    agent: String,
    /// Probability of a random action instead of the agent's.
    #[arg(long, default_value_t = 0.0)]
    epsilon: f64,
    #[arg(long, default_value_t = 10_000)]
    episodes: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The agent's name in the records.
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    out: PathBuf,
}

fn main() {
    let args = Args::parse();
    let mut task = TaskConfig::load(&args.task).unwrap_or_else(|e| panic!("{}: {e}", args.task.display()));
    task.save_trajectories = true;
    let kind = BuiltinAgent::parse(&args.agent).expect("a built-in agent");
    assert_eq!(kind.role(), AgentRole::Attacker, "an attacker");
    let mut agent = kind.create(args.seed);
    let mut random = BuiltinAgent::RandomAttacker.create(args.seed.wrapping_add(1));
    let mut coin = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed);
    let name = args.name.unwrap_or_else(|| format!("{}_eps{}", args.agent, args.epsilon));

    let mut game = LocalGame::new(GameSettings::new(Arc::new(task)), args.seed as i64);
    let id = game.connect("generator").expect("a slot");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args.out).expect("output file"));
    let mut line = Vec::new();
    let mut written = 0u64;
    let mut step = |game: &mut LocalGame, action: Action, written: &mut u64| -> (Observation, Option<EpisodeInfo>) {
        let mut obs = None;
        let mut info = None;
        for effect in game.request(id, action) {
            match effect {
                Effect::Reply { reply, .. } => {
                    obs = Observation::of_reply(&reply);
                    info = EpisodeInfo::of_reply(&reply);
                }
                Effect::Record(t) if *written < args.episodes => {
                    line.clear();
                    write_py_json(&mut line, &*t);
                    line.push(b'\n');
                    out.write_all(&line).expect("write");
                    *written += 1;
                }
                _ => {}
            }
        }
        (obs.expect("a reply with an observation"), info)
    };
    let (mut obs, info) = step(&mut game, Action::join_game(&name, AgentRole::Attacker), &mut written);
    agent.episode_start(&obs, info.as_ref().expect("registration info"));
    random.episode_start(&obs, info.as_ref().expect("registration info"));
    while written < args.episodes {
        if obs.end {
            agent.episode_end(&obs);
            random.episode_end(&obs);
            let (o, info) = step(&mut game, Action::reset_game(ResetOptions::default()), &mut written);
            obs = o;
            let info = info.expect("reset info");
            agent.episode_start(&obs, &info);
            random.episode_start(&obs, &info);
            continue;
        }
        let action = if coin.random::<f64>() < args.epsilon { random.act(&obs) } else { agent.act(&obs) };
        obs = step(&mut game, action, &mut written).0;
    }
    out.flush().expect("flush");
    eprintln!("{written} episodes written to {}", args.out.display());
}

//! The tournament file: entrants, tasks, seeds, episodes per match, parallelism and limits.
//! Everything is checked before anything runs; an error names the file, the entry and the key.
//!
//! ```yaml
//! episodes: 20            # per match
//! parallel: 2             # matches at once (default: the number of cores)
//! seeds: [1, 2]           # every pairing plays once per task and seed
//! tasks: [default.yaml]   # relative to this file; default: the embedded default task
//! limits: {join_s: 30, step_s: 30, match_s: 3600}
//! entrants:
//!   - {name: scripted, role: Attacker, builtin: scripted_attacker}
//!   - {name: mine, role: Attacker, command: "python3 my_agent.py --port {port} --episodes {episodes}",
//!      cwd: .., env: {PYTHONUNBUFFERED: "1"}}
//!   - {name: logdef, role: Defender, builtin: log_defender}
//! ```

use netsecgame::agents::BuiltinAgent;
use netsecgame::components::AgentRole;
use netsecgame::task::TaskConfig;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// Why a tournament file cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read tournament file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("tournament file {path}: {message}")]
    Invalid { path: String, message: String },
}

/// The placeholders an entrant's command may use.
pub const PLACEHOLDERS: [&str; 5] = ["host", "port", "episodes", "seed", "name"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileFormat {
    episodes: u64,
    #[serde(default)]
    parallel: Option<usize>,
    #[serde(default = "default_seeds")]
    seeds: Vec<i64>,
    #[serde(default)]
    tasks: Vec<String>,
    #[serde(default)]
    limits: LimitsFormat,
    entrants: Vec<EntrantFormat>,
}

fn default_seeds() -> Vec<i64> {
    vec![1]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFormat {
    #[serde(default = "default_join_s")]
    join_s: f64,
    #[serde(default = "default_step_s")]
    step_s: f64,
    #[serde(default = "default_match_s")]
    match_s: f64,
}

fn default_join_s() -> f64 {
    30.0
}
fn default_step_s() -> f64 {
    30.0
}
fn default_match_s() -> f64 {
    3600.0
}

impl Default for LimitsFormat {
    fn default() -> Self {
        LimitsFormat { join_s: default_join_s(), step_s: default_step_s(), match_s: default_match_s() }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntrantFormat {
    name: String,
    role: String,
    #[serde(default)]
    builtin: Option<String>,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    cwd: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
}

/// Time limits of a match. Going past one is a forfeit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// From the match's start to the entrant's JoinGame.
    pub join: Duration,
    /// From a reply to the entrant's next request (time at a barrier does not count).
    pub step: Duration,
    /// The whole match.
    pub whole_match: Duration,
}

/// How an entrant plays.
#[derive(Debug, Clone, PartialEq)]
pub enum EntrantKind {
    /// A built-in agent, in-process.
    Builtin(BuiltinAgent),
    /// A program started for each match, playing over TCP.
    Command {
        /// The command line with placeholders, as written.
        command: String,
        /// Working directory (relative paths are relative to the tournament file).
        cwd: PathBuf,
        env: BTreeMap<String, String>,
    },
}

/// A contestant.
#[derive(Debug, Clone, PartialEq)]
pub struct Entrant {
    pub name: String,
    pub role: AgentRole,
    pub kind: EntrantKind,
}

impl Entrant {
    pub fn is_external(&self) -> bool {
        matches!(self.kind, EntrantKind::Command { .. })
    }
}

/// A task of the tournament, with the label results use.
#[derive(Debug, Clone)]
pub struct TournamentTask {
    /// As written in the file (or `default` for the embedded task).
    pub label: String,
    pub task: Arc<TaskConfig>,
}

/// A loaded and checked tournament.
#[derive(Debug, Clone)]
pub struct Tournament {
    /// Where it was loaded from, for messages.
    pub origin: String,
    pub episodes: u64,
    pub parallel: usize,
    pub seeds: Vec<i64>,
    pub tasks: Vec<TournamentTask>,
    pub limits: Limits,
    pub entrants: Vec<Entrant>,
}

impl Tournament {
    /// Loads and checks a tournament file.
    pub fn load(path: &Path) -> Result<Tournament, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io { path: origin.clone(), source })?;
        Tournament::from_yaml(&text, &origin, path.parent().unwrap_or(Path::new(".")))
    }

    /// Parses and checks tournament YAML; relative paths are taken from `base`.
    pub fn from_yaml(text: &str, origin: &str, base: &Path) -> Result<Tournament, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { path: origin.to_string(), message };
        let value: serde_json::Value = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Yaml))
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| invalid(format!("not valid YAML: {e}")))?;
        if value.get("pairings").is_some() {
            return Err(invalid(
                "`pairings` is the old format: list `entrants` (name, role, builtin or command) instead; the schedule is a round robin of attackers against defenders".into(),
            ));
        }
        let file: FileFormat = serde_path_to_error::deserialize(value).map_err(|e| {
            let at = e.path().to_string();
            invalid(if at == "." { e.inner().to_string() } else { format!("`{at}`: {}", e.inner()) })
        })?;
        if file.episodes == 0 {
            return Err(invalid("`episodes` must be at least 1".into()));
        }
        if file.seeds.is_empty() {
            return Err(invalid("`seeds` must list at least one seed".into()));
        }
        let parallel = match file.parallel {
            Some(0) => return Err(invalid("`parallel` must be at least 1".into())),
            Some(p) => p,
            None => crate::bench::cores(),
        };
        let secs = |key: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(Duration::from_secs_f64(v))
            } else {
                Err(invalid(format!("`limits.{key}` must be a positive number of seconds, got {v}")))
            }
        };
        let limits = Limits {
            join: secs("join_s", file.limits.join_s)?,
            step: secs("step_s", file.limits.step_s)?,
            whole_match: secs("match_s", file.limits.match_s)?,
        };
        let mut tasks = Vec::new();
        if file.tasks.is_empty() {
            tasks.push(TournamentTask { label: "default".into(), task: Arc::new(TaskConfig::default_task()) });
        }
        for (i, t) in file.tasks.iter().enumerate() {
            let task = TaskConfig::load(&base.join(t)).map_err(|e| invalid(format!("`tasks[{i}]` ({t}): {e}")))?;
            tasks.push(TournamentTask { label: t.clone(), task: Arc::new(task) });
        }
        let mut entrants = Vec::new();
        let mut names = BTreeSet::new();
        for (i, e) in file.entrants.into_iter().enumerate() {
            let at = format!("`entrants[{i}]` ({})", e.name);
            if e.name.is_empty() || !e.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                return Err(invalid(format!("{at}: `name` must be letters, digits, `_` or `-` (it names log files)")));
            }
            if !names.insert(e.name.clone()) {
                return Err(invalid(format!("{at}: the name `{}` is used twice", e.name)));
            }
            let role = AgentRole::parse(&e.role)
                .ok_or_else(|| invalid(format!("{at}: `role`: `{}` is not Attacker, Defender or Benign", e.role)))?;
            let kind = match (e.builtin, e.command) {
                (Some(_), Some(_)) => return Err(invalid(format!("{at}: give `builtin` or `command`, not both"))),
                (None, None) => return Err(invalid(format!("{at}: give `builtin` or `command`"))),
                (Some(b), None) => {
                    let agent = BuiltinAgent::parse(&b).ok_or_else(|| {
                        invalid(format!("{at}: `builtin`: unknown agent `{b}` (known: {})", BuiltinAgent::names()))
                    })?;
                    if agent.role() != role {
                        return Err(invalid(format!(
                            "{at}: `builtin`: {b} plays {}, not {}",
                            agent.role().name(),
                            role.name()
                        )));
                    }
                    if e.cwd.is_some() || !e.env.is_empty() {
                        return Err(invalid(format!("{at}: `cwd` and `env` are for commands, not built-in agents")));
                    }
                    EntrantKind::Builtin(agent)
                }
                (None, Some(command)) => {
                    check_command(&command).map_err(|m| invalid(format!("{at}: `command`: {m}")))?;
                    let cwd = base.join(e.cwd.as_deref().unwrap_or("."));
                    if !cwd.is_dir() {
                        return Err(invalid(format!("{at}: `cwd`: {} is not a folder", cwd.display())));
                    }
                    EntrantKind::Command { command, cwd, env: e.env }
                }
            };
            entrants.push(Entrant { name: e.name, role, kind });
        }
        if !entrants.iter().any(|e| e.role == AgentRole::Attacker) {
            return Err(invalid("`entrants` must include at least one Attacker".into()));
        }
        for t in &tasks {
            for role in [AgentRole::Attacker, AgentRole::Defender, AgentRole::Benign] {
                let seated = !t.task.role(role).start.controlled_hosts.is_empty();
                if !seated && entrants.iter().any(|e| e.role == role) {
                    return Err(invalid(format!(
                        "task `{}` cannot seat a {}: its {} has no start position (controlled_hosts)",
                        t.label,
                        role.name(),
                        role.name()
                    )));
                }
            }
        }
        Ok(Tournament {
            origin: origin.to_string(),
            episodes: file.episodes,
            parallel,
            seeds: file.seeds,
            tasks,
            limits,
            entrants,
        })
    }

    pub fn attackers(&self) -> impl Iterator<Item = (usize, &Entrant)> {
        self.of_role(AgentRole::Attacker)
    }

    pub fn defenders(&self) -> impl Iterator<Item = (usize, &Entrant)> {
        self.of_role(AgentRole::Defender)
    }

    pub fn benign(&self) -> impl Iterator<Item = (usize, &Entrant)> {
        self.of_role(AgentRole::Benign)
    }

    fn of_role(&self, role: AgentRole) -> impl Iterator<Item = (usize, &Entrant)> {
        self.entrants.iter().enumerate().filter(move |(_, e)| e.role == role)
    }
}

/// Checks a command line: it splits into words, is not empty, and names only known
/// placeholders.
fn check_command(command: &str) -> Result<(), String> {
    let words = shell_words::split(command).map_err(|e| format!("cannot split `{command}` into words: {e}"))?;
    if words.is_empty() {
        return Err("empty command".into());
    }
    for word in &words {
        let mut rest = word.as_str();
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').ok_or_else(|| format!("unclosed `{{` in `{word}`"))? + open;
            let key = &rest[open + 1..close];
            if !PLACEHOLDERS.contains(&key) {
                return Err(format!(
                    "unknown placeholder `{{{key}}}` (known: {})",
                    PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                ));
            }
            rest = &rest[close + 1..];
        }
    }
    Ok(())
}

/// The command's words with placeholders filled in.
pub fn expand_command(command: &str, values: &BTreeMap<&str, String>) -> Vec<String> {
    let words = shell_words::split(command).unwrap_or_default();
    words
        .into_iter()
        .map(|w| {
            let mut out = w;
            for (k, v) in values {
                out = out.replace(&format!("{{{k}}}"), v);
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> Result<Tournament, String> {
        Tournament::from_yaml(yaml, "t.yaml", Path::new(".")).map_err(|e| e.to_string())
    }

    const OK: &str = "episodes: 2\nentrants:\n  - {name: a, role: Attacker, builtin: random_attacker}\n";

    #[test]
    fn a_minimal_file_loads_with_defaults() {
        let t = load(OK).unwrap();
        assert_eq!((t.episodes, t.seeds.clone(), t.tasks.len()), (2, vec![1], 1));
        assert_eq!(t.limits.join, Duration::from_secs(30));
    }

    #[test]
    fn bad_entries_are_named_with_their_key() {
        let cases = [
            ("episodes: 2\nentrants:\n  - {name: a, role: Attacker, builtin: nope}\n", "`entrants[0]` (a): `builtin`: unknown agent `nope`"),
            ("episodes: 2\nentrants:\n  - {name: a, role: Attacker, command: ''}\n", "`command`: empty command"),
            ("episodes: 2\nentrants:\n  - {name: a, role: Attacker, command: 'x --p {prot}'}\n", "unknown placeholder `{prot}`"),
            ("episodes: 2\nentrants:\n  - {name: a, role: Attacker, builtin: random_attacker}\n  - {name: a, role: Attacker, builtin: random_attacker}\n", "the name `a` is used twice"),
            ("episodes: 2\nentrants:\n  - {name: a, role: Hacker, builtin: random_attacker}\n", "`role`: `Hacker` is not"),
            ("episodes: 2\nentrants:\n  - {name: a, role: Defender, builtin: random_attacker}\n", "random_attacker plays Attacker, not Defender"),
            ("episodes: 2\nentrants:\n  - {name: a, role: Attacker, builtin: random_attacker, colour: red}\n", "`entrants[0].colour`: unknown field `colour`"),
            ("episodes: 2\nentrants:\n  - {name: d, role: Defender, builtin: log_defender}\n", "at least one Attacker"),
            ("episodes: two\nentrants: []\n", "`episodes`"),
            ("episodes: 2\ntasks: [missing.yaml]\nentrants:\n  - {name: a, role: Attacker, builtin: random_attacker}\n", "`tasks[0]` (missing.yaml)"),
            ("episodes: 2\nlimits: {step_s: -1}\nentrants:\n  - {name: a, role: Attacker, builtin: random_attacker}\n", "`limits.step_s` must be a positive"),
            ("episodes: [\n", "not valid YAML"),
            ("games: 2\npairings: []\n", "old format"),
        ];
        for (yaml, expected) in cases {
            let err = load(yaml).unwrap_err();
            assert!(err.contains(expected) && err.contains("t.yaml"), "{yaml}\n=> {err}");
        }
    }

    #[test]
    fn placeholders_are_filled_in() {
        let values = BTreeMap::from([("port", "9000".to_string()), ("name", "x y".to_string())]);
        assert_eq!(
            expand_command("prog --port {port} --name '{name}'", &values),
            ["prog", "--port", "9000", "--name", "x y"]
        );
    }
}

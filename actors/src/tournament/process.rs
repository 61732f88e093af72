//! External entrants: a program started for each match in a process group of its own, its
//! stdout and stderr in a log file, stopped with its whole group at the end of the match
//! (SIGTERM, then SIGKILL after a grace period), and always waited for, so no zombie is left.

use super::config::{expand_command, Entrant, EntrantKind};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::process::{Child, Command};

/// A running entrant program.
pub struct EntrantProcess {
    child: Child,
    /// The process group (the child's pid).
    group: Pid,
    /// Set once the child was waited for.
    status: Option<ExitStatus>,
}

/// The values of a command's placeholders.
pub struct Placeholders<'a> {
    pub host: &'a str,
    pub port: u16,
    pub episodes: u64,
    pub seed: i64,
    pub name: &'a str,
}

impl EntrantProcess {
    /// Starts `entrant`'s command with its placeholders filled in, output to `log`.
    pub fn spawn(entrant: &Entrant, values: &Placeholders<'_>, log: &Path) -> std::io::Result<EntrantProcess> {
        let EntrantKind::Command { command, cwd, env } = &entrant.kind else {
            return Err(std::io::Error::other("not a command entrant"));
        };
        let map = BTreeMap::from([
            ("host", values.host.to_string()),
            ("port", values.port.to_string()),
            ("episodes", values.episodes.to_string()),
            ("seed", values.seed.to_string()),
            ("name", values.name.to_string()),
        ]);
        let words = expand_command(command, &map);
        let (program, args) = words.split_first().ok_or_else(|| std::io::Error::other("empty command"))?;
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let out = std::fs::File::create(log)?;
        let err = out.try_clone()?;
        let child = Command::new(program)
            .args(args)
            .current_dir(cwd)
            .envs(env)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().ok_or_else(|| std::io::Error::other("the process exited at once"))?;
        Ok(EntrantProcess { child, group: Pid::from_raw(pid as i32), status: None })
    }

    /// Waits for the program to exit (cancel-safe: the status is kept).
    pub async fn exited(&mut self) -> ExitStatus {
        if let Some(s) = self.status {
            return s;
        }
        let status = self.child.wait().await.unwrap_or_else(|_| std::process::ExitStatus::default());
        self.status = Some(status);
        status
    }

    /// Stops the whole process group: SIGTERM, then SIGKILL after `grace`; waits for the child.
    pub async fn stop(&mut self, grace: Duration) {
        if self.status.is_none() {
            let _ = killpg(self.group, Signal::SIGTERM);
            if tokio::time::timeout(grace, self.exited()).await.is_err() {
                let _ = killpg(self.group, Signal::SIGKILL);
                self.exited().await;
            }
        }
        // Whatever the leader left behind in its group goes too.
        let _ = killpg(self.group, Signal::SIGKILL);
    }
}

/// An exit status in words: `exit code 1`, `killed by signal 9`.
pub fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit code {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        _ => status.to_string(),
    }
}

//! Shared helpers for the server integration tests: start a server on port 0 and talk to it
//! with raw bytes, as any client would.
#![allow(dead_code)]

pub mod webdriver;

use netsecgame::game::GameSettings;
use netsecgame::pyjson::to_py_json;
use netsecgame::task::TaskConfig;
use netsecgame_actors::game::GameConfig;
use netsecgame_actors::server::{ServerConfig, ServerHandle};
use netsecgame_actors::transports::tcp::SessionSettings;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn reference() -> PathBuf {
    repo().join("tests/reference")
}

pub fn task_from_yaml(text: &str) -> Arc<TaskConfig> {
    Arc::new(TaskConfig::from_yaml(text, "test-task.yaml", None).expect("test task is valid"))
}

pub fn task_from_file(path: &Path) -> Arc<TaskConfig> {
    Arc::new(TaskConfig::load(path).expect("task file is valid"))
}

/// A server with default session settings and a scratch trajectory folder.
pub fn start(task: Arc<TaskConfig>) -> ServerHandle {
    start_with(task, 64, SessionSettings { frame_timeout: Duration::from_millis(200), ..Default::default() }, None)
}

pub fn start_with(
    task: Arc<TaskConfig>,
    max_agents: usize,
    sessions: SessionSettings,
    dir: Option<PathBuf>,
) -> ServerHandle {
    let dir = dir.unwrap_or_else(|| std::env::temp_dir().join(format!("nsg-test-{}", std::process::id())));
    let mut settings = GameSettings::new(task);
    settings.max_agents = max_agents;
    let mut config = ServerConfig::new("127.0.0.1:0", GameConfig::new(settings, 42, dir));
    config.sessions = sessions;
    config.io_threads = 2;
    ServerHandle::spawn(config).expect("server starts")
}

/// A server with a full configuration.
pub fn start_config(config: ServerConfig) -> ServerHandle {
    ServerHandle::spawn(config).expect("server starts")
}

/// A raw TCP client: sends bytes, reads replies up to the `EOF` terminator.
pub struct Raw {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    pub fn connect(server: &ServerHandle) -> Raw {
        let stream = TcpStream::connect(server.addr).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.set_nodelay(true).unwrap();
        Raw { stream, buf: Vec::new() }
    }

    pub fn from_stream(stream: TcpStream) -> Raw {
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.set_nodelay(true).unwrap();
        Raw { stream, buf: Vec::new() }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// The next reply's JSON text (without `EOF`); panics on timeout or close.
    pub fn recv_text(&mut self) -> String {
        self.try_recv_text(Duration::from_secs(10)).expect("a reply before the timeout")
    }

    pub fn try_recv_text(&mut self, timeout: Duration) -> Option<String> {
        self.stream.set_read_timeout(Some(timeout)).unwrap();
        loop {
            if let Some(pos) = self.buf.windows(3).position(|w| w == b"EOF") {
                let text = String::from_utf8(self.buf[..pos].to_vec()).expect("replies are UTF-8");
                self.buf.drain(..pos + 3);
                return Some(text);
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(_) => return None,
            }
        }
    }

    pub fn recv(&mut self) -> Value {
        serde_json::from_str(&self.recv_text()).expect("reply is JSON")
    }

    pub fn request(&mut self, text: &str) -> Value {
        self.send(text.as_bytes());
        self.recv()
    }

    /// True when the server closed the connection (EOF) within the timeout.
    pub fn closed_within(&mut self, timeout: Duration) -> bool {
        self.stream.set_read_timeout(Some(timeout)).unwrap();
        let mut b = [0u8; 1024];
        matches!(self.stream.read(&mut b), Ok(0))
    }
}

pub fn join(name: &str, role: &str) -> String {
    format!(
        r#"{{"action_type": "ActionType.JoinGame", "parameters": {{"agent_info": {{"name": "{name}", "role": "{role}"}}}}}}"#
    )
}

pub fn reset(trajectory: bool, seed: Option<i64>, topology: bool) -> String {
    let seed = seed.map_or("null".to_string(), |s| s.to_string());
    format!(
        r#"{{"action_type": "ActionType.ResetGame", "parameters": {{"request_trajectory": {trajectory}, "randomize_topology": {topology}, "seed": {seed}}}}}"#
    )
}

pub fn scan(src: &str, net: &str, mask: u8) -> String {
    format!(
        r#"{{"action_type": "ActionType.ScanNetwork", "parameters": {{"source_host": {{"ip": "{src}"}}, "target_network": {{"ip": "{net}", "mask": {mask}}}}}}}"#
    )
}

pub fn find_services(src: &str, dst: &str) -> String {
    format!(
        r#"{{"action_type": "ActionType.FindServices", "parameters": {{"source_host": {{"ip": "{src}"}}, "target_host": {{"ip": "{dst}"}}}}}}"#
    )
}

pub fn block(src: &str, target: &str, blocked: &str) -> String {
    format!(
        r#"{{"action_type": "ActionType.BlockIP", "parameters": {{"source_host": {{"ip": "{src}"}}, "target_host": {{"ip": "{target}"}}, "blocked_host": {{"ip": "{blocked}"}}}}}}"#
    )
}

/// Sorts set-valued arrays (and the keys of IP-keyed maps) the way we serialise them, so two
/// replies that differ only in Python set order compare equal.
pub fn normalise_sets(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                let set_like = matches!(k.as_str(), "known_networks" | "known_hosts" | "controlled_hosts");
                let keyed = matches!(k.as_str(), "known_services" | "known_data" | "known_blocks");
                normalise_sets(child);
                if set_like {
                    sort_array(child);
                }
                if keyed {
                    if let Value::Object(inner) = child {
                        let mut entries: Vec<(String, Value)> = std::mem::take(inner).into_iter().collect();
                        entries.sort_by(|a, b| a.0.cmp(&b.0));
                        for (_, arr) in entries.iter_mut() {
                            sort_array(arr);
                        }
                        *inner = entries.into_iter().collect();
                    }
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(normalise_sets),
        _ => {}
    }
}

fn sort_array(v: &mut Value) {
    if let Value::Array(a) = v {
        a.sort_by_key(to_py_json);
    }
}

/// The `netsecgame` binary of this build.
pub fn bin() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_netsecgame"))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A fresh scratch folder for one test. It stays after the test (a failed test's logs and
/// trajectories can be looked at) until a later run of the same test, which removes the
/// folders of runs whose process is gone.
pub fn scratch(name: &str) -> PathBuf {
    let prefix = format!("nsg-{name}-");
    if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let Some(pid) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else { continue };
            if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = std::env::temp_dir().join(format!("{prefix}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The real binary serving a task on a free port, killed when dropped.
pub struct BinServer {
    pub child: std::process::Child,
    pub port: u16,
}

impl BinServer {
    /// Starts `netsecgame` with logs and trajectories under `dir`, plus `extra` flags.
    pub fn start(task: &Path, dir: &Path, extra: &[&str]) -> BinServer {
        let port = free_port();
        let child = bin()
            .args(["--task_config", task.to_str().unwrap(), "--game_port", &port.to_string()])
            .arg("--log_dir")
            .arg(dir.join("logs"))
            .arg("--trajectory_dir")
            .arg(dir.join("trajectories"))
            .args(extra)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("binary starts");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        BinServer { child, port }
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    pub fn connect(&self) -> Raw {
        Raw::from_stream(TcpStream::connect(("127.0.0.1", self.port)).unwrap())
    }

    /// Sends a signal (`TERM`, `INT`, ...) and waits for the exit.
    pub fn signal(&mut self, name: &str) -> std::process::ExitStatus {
        let _ = std::process::Command::new("kill").args([&format!("-{name}"), &self.child.id().to_string()]).status();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "server did not stop on SIG{name}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Resident memory of the server process, in KiB.
    pub fn rss_kib(&self) -> u64 {
        proc_status(self.child.id(), "VmRSS:")
    }

    /// Open file descriptors of the server process.
    pub fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id())).map_or(0, |d| d.count())
    }
}

impl Drop for BinServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `/proc/<pid>/status` field in KiB (0 where /proc is unavailable).
pub fn proc_status(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Every trajectory line under `dir/trajectories`: (file name, record).
pub fn trajectory_lines(dir: &Path) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir.join("trajectories")) else { return out };
    let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().to_string();
        for line in std::fs::read_to_string(e.path()).unwrap().lines() {
            out.push((name.clone(), serde_json::from_str(line).unwrap()));
        }
    }
    out
}

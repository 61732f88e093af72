//! Shared helpers for the server integration tests: start a server on port 0 and talk to it
//! with raw bytes, as any client would.
#![allow(dead_code)]

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

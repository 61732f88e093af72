//! A Rust client for NetSecGame servers: the equivalent of the Python `BaseAgent`.
//!
//! It speaks the real protocol (bare JSON requests, replies up to `EOF`) over TCP, so it works
//! against this server and the Python one alike. Built-in agents, the load generator and the
//! tournament runner use it; so can users' own Rust agents.

use netsecgame::action::{Action, AgentInfo, Param};
use netsecgame::components::{ActionType, AgentRole, GameState, GameStatus};
use netsecgame::pyjson::write_py_json;
use serde_json::Value;
use std::net::SocketAddr;
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What went wrong talking to a server.
#[derive(Debug, Error)]
pub enum ClientError {
    #[error("connection failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server closed the connection before a complete reply")]
    Closed,
    #[error("unreadable reply: {0}")]
    BadReply(String),
    #[error("the server answered {status}: {message}")]
    Refused { status: GameStatus, message: String },
}

/// An observation as agents see it.
#[derive(Debug, Clone)]
pub struct Observation {
    pub state: GameState,
    pub reward: f64,
    pub end: bool,
    /// `info` of a step reply; the `message` object for registration and reset replies.
    pub info: Value,
}

/// One decoded reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: GameStatus,
    pub observation: Option<Observation>,
    pub message: Value,
}

/// A connection to a game server.
pub struct Client {
    stream: TcpStream,
    /// Bytes received after the last complete reply.
    buf: Vec<u8>,
    /// Reused request buffer.
    out: Vec<u8>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Result<Client, ClientError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Client { stream, buf: Vec::with_capacity(8192), out: Vec::with_capacity(512) })
    }

    /// Sends one action and waits for its reply.
    pub async fn request(&mut self, action: &Action) -> Result<Reply, ClientError> {
        self.out.clear();
        write_py_json(&mut self.out, action);
        self.stream.write_all(&self.out).await?;
        let text = self.read_reply().await?;
        decode_reply(&text)
    }

    async fn read_reply(&mut self) -> Result<Vec<u8>, ClientError> {
        let mut scanned = 0;
        loop {
            if let Some(pos) = self.buf[scanned..].windows(3).position(|w| w == b"EOF") {
                let end = scanned + pos;
                let text = self.buf[..end].to_vec();
                self.buf.drain(..end + 3);
                return Ok(text);
            }
            scanned = self.buf.len().saturating_sub(2);
            let mut chunk = [0u8; 16 * 1024];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(ClientError::Closed);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// JoinGame; succeeds on CREATED. The observation's `info` is the registration message.
    pub async fn register(&mut self, name: &str, role: AgentRole) -> Result<Observation, ClientError> {
        let join = Action::new(ActionType::JoinGame, vec![Param::AgentInfo(AgentInfo { name: name.into(), role })]);
        expect(self.request(&join).await?, GameStatus::CREATED)
    }

    /// A game action; succeeds on OK or FORBIDDEN (the episode ended: `end` is true).
    pub async fn step(&mut self, action: &Action) -> Result<Observation, ClientError> {
        let reply = self.request(action).await?;
        match reply.status {
            GameStatus::OK | GameStatus::FORBIDDEN => {
                let status = reply.status;
                expect(reply, status)
            }
            _ => Err(refused(reply)),
        }
    }

    /// ResetGame; succeeds on RESET_DONE. `info` holds the reset message (and
    /// `last_trajectory` when asked for).
    pub async fn reset(
        &mut self,
        request_trajectory: bool,
        randomize_topology: bool,
        seed: Option<i64>,
    ) -> Result<Observation, ClientError> {
        let action = Action::new(
            ActionType::ResetGame,
            vec![
                Param::RequestTrajectory(request_trajectory),
                Param::RandomizeTopology(randomize_topology),
                Param::Seed(seed),
            ],
        );
        expect(self.request(&action).await?, GameStatus::RESET_DONE)
    }

    /// QuitGame, then close.
    pub async fn quit(mut self) -> Result<(), ClientError> {
        let _ = self.request(&Action::new(ActionType::QuitGame, vec![])).await;
        let _ = self.stream.shutdown().await;
        Ok(())
    }
}

fn refused(reply: Reply) -> ClientError {
    let message = match &reply.message {
        Value::Object(m) => m.get("message").and_then(Value::as_str).unwrap_or_default().to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    ClientError::Refused { status: reply.status, message }
}

fn expect(reply: Reply, status: GameStatus) -> Result<Observation, ClientError> {
    if reply.status != status {
        return Err(refused(reply));
    }
    let message = reply.message.clone();
    let mut obs = reply.observation.ok_or_else(|| ClientError::BadReply("no observation".into()))?;
    if matches!(status, GameStatus::CREATED | GameStatus::RESET_DONE) {
        obs.info = message;
    }
    Ok(obs)
}

/// Decodes a reply's JSON text.
pub fn decode_reply(text: &[u8]) -> Result<Reply, ClientError> {
    let v: Value = serde_json::from_slice(text).map_err(|e| ClientError::BadReply(e.to_string()))?;
    let status_text = v.get("status").and_then(Value::as_str).unwrap_or_default();
    let status = GameStatus::parse(status_text)
        .ok_or_else(|| ClientError::BadReply(format!("unknown status `{status_text}`")))?;
    let observation = match v.get("observation") {
        Some(o) if o.is_object() => Some(Observation {
            state: GameState::from_wire(&o["state"]).map_err(|e| ClientError::BadReply(e.to_string()))?,
            reward: o["reward"].as_f64().unwrap_or(0.0),
            end: o["end"].as_bool().unwrap_or(false),
            info: o.get("info").cloned().unwrap_or(Value::Null),
        }),
        _ => None,
    };
    Ok(Reply { status, observation, message: v.get("message").cloned().unwrap_or(Value::Null) })
}

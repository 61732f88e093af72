//! A Rust client for NetSecGame servers: the equivalent of the Python `BaseAgent`.
//!
//! It speaks the real protocol (bare JSON requests, replies up to `EOF`) over TCP, so it works
//! against this server and the Python one alike. Observations are the core's
//! [`Observation`]s, so an [`Agent`](netsecgame::agents::Agent) plays the same through it as
//! in-process.

use netsecgame::action::{Action, ResetOptions};
use netsecgame::agents::{EpisodeInfo, Observation};
use netsecgame::components::{AgentRole, AgentStatus, GameState, GameStatus};
use netsecgame::pyjson::write_py_json;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
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

/// One decoded reply, as the client sees it.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: GameStatus,
    pub observation: Option<Observation>,
    /// The reply's `message` (the registration or reset object, or a refusal's text).
    pub message: Value,
}

/// A connection to a game server.
pub struct Client {
    stream: TcpStream,
    /// Bytes received after the last complete reply.
    buf: Vec<u8>,
    /// Reused read buffer, on the heap so the client's futures stay small.
    chunk: Box<[u8]>,
    /// Reused request buffer.
    out: Vec<u8>,
    /// The `message` of the last registration or reset reply (`last_trajectory` and all).
    last_message: Value,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Result<Client, ClientError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Client {
            stream,
            buf: Vec::with_capacity(8192),
            chunk: vec![0u8; 16 * 1024].into_boxed_slice(),
            out: Vec::with_capacity(512),
            last_message: Value::Null,
        })
    }

    /// Sends one action and waits for its reply.
    pub async fn request(&mut self, action: &Action) -> Result<Response, ClientError> {
        self.out.clear();
        write_py_json(&mut self.out, action);
        self.stream.write_all(&self.out).await?;
        let text = self.read_reply().await?;
        decode_response(&text)
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
            let n = self.stream.read(&mut self.chunk).await?;
            if n == 0 {
                return Err(ClientError::Closed);
            }
            self.buf.extend_from_slice(&self.chunk[..n]);
        }
    }

    /// JoinGame; succeeds on CREATED.
    pub async fn register(&mut self, name: &str, role: AgentRole) -> Result<(Observation, EpisodeInfo), ClientError> {
        let response = self.request(&Action::join_game(name, role)).await?;
        self.episode_start(response, GameStatus::CREATED)
    }

    /// A game action; succeeds on OK or FORBIDDEN (the episode ended: `end` is true).
    pub async fn step(&mut self, action: &Action) -> Result<Observation, ClientError> {
        let response = self.request(action).await?;
        match response.status {
            GameStatus::OK | GameStatus::FORBIDDEN => {
                response.observation.ok_or_else(|| ClientError::BadReply("no observation".into()))
            }
            _ => Err(refused(response)),
        }
    }

    /// ResetGame; succeeds on RESET_DONE. [`Client::last_message`] then holds the reset
    /// message (with `last_trajectory` when asked for).
    pub async fn reset(&mut self, options: ResetOptions) -> Result<(Observation, EpisodeInfo), ClientError> {
        let response = self.request(&Action::reset_game(options)).await?;
        self.episode_start(response, GameStatus::RESET_DONE)
    }

    /// The `message` object of the last registration or reset reply.
    pub fn last_message(&self) -> &Value {
        &self.last_message
    }

    /// QuitGame, then close.
    pub async fn quit(mut self) -> Result<(), ClientError> {
        let _ = self.request(&Action::quit_game()).await;
        let _ = self.stream.shutdown().await;
        Ok(())
    }

    fn episode_start(
        &mut self,
        response: Response,
        status: GameStatus,
    ) -> Result<(Observation, EpisodeInfo), ClientError> {
        if response.status != status {
            return Err(refused(response));
        }
        let obs = response.observation.ok_or_else(|| ClientError::BadReply("no observation".into()))?;
        let info = EpisodeInfo {
            max_steps: response.message.get("max_steps").and_then(Value::as_u64),
            goal_description: response.message.get("goal_description").and_then(Value::as_str).unwrap_or("").into(),
        };
        self.last_message = response.message;
        Ok((obs, info))
    }
}

fn refused(response: Response) -> ClientError {
    let message = match &response.message {
        Value::Object(m) => m.get("message").and_then(Value::as_str).unwrap_or_default().to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    ClientError::Refused { status: response.status, message }
}

/// Decodes a reply's JSON text.
pub fn decode_response(text: &[u8]) -> Result<Response, ClientError> {
    let v: Value = serde_json::from_slice(text).map_err(|e| ClientError::BadReply(e.to_string()))?;
    let status_text = v.get("status").and_then(Value::as_str).unwrap_or_default();
    let status = GameStatus::parse(status_text)
        .ok_or_else(|| ClientError::BadReply(format!("unknown status `{status_text}`")))?;
    let observation = match v.get("observation") {
        Some(o) if o.is_object() => Some(Observation {
            state: Arc::new(GameState::from_wire(&o["state"]).map_err(|e| ClientError::BadReply(e.to_string()))?),
            reward: o["reward"].as_f64().unwrap_or(0.0),
            end: o["end"].as_bool().unwrap_or(false),
            end_reason: o["info"].get("end_reason").and_then(Value::as_str).and_then(AgentStatus::parse),
        }),
        _ => None,
    };
    Ok(Response { status, observation, message: v.get("message").cloned().unwrap_or(Value::Null) })
}

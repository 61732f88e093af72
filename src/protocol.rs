//! Replies: the response side of the wire, encoded with no I/O.
//!
//! Each reply type has upstream's exact key order; the text is Python `json.dumps` (see
//! [`crate::pyjson`]) followed by the `EOF` terminator. `to_agent` is the peer address, which
//! only the connection knows, so it is passed in at encoding time.

use crate::components::{ActionType, GameState, GameStatus, Reward, StepInfo};
use crate::pyjson::write_py_json;
use crate::trajectory::Trajectory;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use std::sync::Arc;

/// Reply terminator (upstream `ProtocolConfig.END_OF_MESSAGE`).
pub const END_OF_MESSAGE: &[u8] = b"EOF";
/// Upstream's text for any undecodable request; details follow it in parentheses.
pub const MALFORMED: &str = "Bad request received: Malformed Action";

/// The registration `message` object (agents read it as `observation.info`).
#[derive(Debug, Clone)]
pub struct Welcome {
    pub agent_name: String,
    pub role: crate::components::AgentRole,
    pub max_steps: Option<u64>,
    pub goal_description: String,
    pub configuration_hash: Arc<str>,
    /// WhiteBox mode: the action list, as a JSON string inside the JSON reply (upstream's form).
    pub all_actions: Option<Arc<str>>,
}

/// The reset `message` object.
#[derive(Debug, Clone)]
pub struct ResetInfo {
    pub max_steps: Option<u64>,
    pub goal_description: String,
    pub configuration_hash: Arc<str>,
    pub last_trajectory: Option<Arc<Trajectory>>,
}

/// Everything the server can say to an agent.
#[derive(Debug, Clone)]
pub enum Reply {
    /// JoinGame accepted and the episode started.
    Created { state: Arc<GameState>, welcome: Welcome },
    /// All agents asked for a reset and the new episode started.
    ResetDone { state: Arc<GameState>, info: ResetInfo },
    /// A game action's result (`OK`), or the last observation again (`FORBIDDEN`).
    Step { status: GameStatus, state: Arc<GameState>, reward: Reward, end: bool, info: StepInfo },
    /// Anything we could not act on; the text says why.
    BadRequest { message: String },
    /// A second JoinGame on one connection (upstream's odd shape: the message is a string).
    AlreadyJoined,
    /// QuitGame acknowledged; the connection closes after it (upstream sent nothing).
    QuitAck,
}

impl Reply {
    pub fn bad_request(message: impl Into<String>) -> Reply {
        Reply::BadRequest { message: message.into() }
    }

    /// A BAD_REQUEST for an undecodable request, keeping upstream's text in front.
    pub fn malformed(detail: impl std::fmt::Display) -> Reply {
        Reply::BadRequest { message: format!("{MALFORMED} ({detail})") }
    }

    pub fn status(&self) -> GameStatus {
        match self {
            Reply::Created { .. } => GameStatus::CREATED,
            Reply::ResetDone { .. } => GameStatus::RESET_DONE,
            Reply::Step { status, .. } => *status,
            Reply::BadRequest { .. } | Reply::AlreadyJoined => GameStatus::BAD_REQUEST,
            Reply::QuitAck => GameStatus::OK,
        }
    }
}

/// The peer as upstream shows it: `[host, port]`.
#[derive(Debug, Clone, Copy)]
pub struct ToAgent<'a>(pub &'a str, pub u16);

impl Serialize for ToAgent<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.0, self.1).serialize(s)
    }
}

struct Message<'a>(&'a str);
impl Serialize for Message<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("message", self.0)?;
        m.end()
    }
}

impl Serialize for Welcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        // Misspelling and `AgentRole.X` rendering are upstream's, kept verbatim: agents may match on them.
        m.serialize_entry("message", &format!("Welcome {}, registred as {}", self.agent_name, self.role))?;
        m.serialize_entry("max_steps", &self.max_steps)?;
        m.serialize_entry("goal_description", &self.goal_description)?;
        m.serialize_entry("actions", ActionType::ALL)?;
        m.serialize_entry("configuration_hash", &*self.configuration_hash)?;
        if let Some(all) = &self.all_actions {
            m.serialize_entry("all_actions", &**all)?;
        }
        m.end()
    }
}

impl Serialize for ResetInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("message", "Resetting Game and starting again.")?;
        m.serialize_entry("max_steps", &self.max_steps)?;
        m.serialize_entry("goal_description", &self.goal_description)?;
        m.serialize_entry("configuration_hash", &*self.configuration_hash)?;
        if let Some(t) = &self.last_trajectory {
            m.serialize_entry("last_trajectory", &**t)?;
        }
        m.end()
    }
}

/// `{"state", "reward", "end", "info"}` as a reply carries it.
#[derive(Serialize)]
struct WireObservation<'a> {
    state: &'a GameState,
    reward: Reward,
    end: bool,
    info: &'a StepInfo,
}

struct Wire<'a>(ToAgent<'a>, &'a Reply);

impl Serialize for Wire<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Wire(to, reply) = self;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("to_agent", to)?;
        let empty = StepInfo::default();
        match reply {
            Reply::Created { state, welcome } => {
                m.serialize_entry("status", &GameStatus::CREATED)?;
                m.serialize_entry(
                    "observation",
                    &WireObservation { state, reward: Reward::Int(0), end: false, info: &empty },
                )?;
                m.serialize_entry("message", welcome)?;
            }
            Reply::ResetDone { state, info } => {
                m.serialize_entry("status", &GameStatus::RESET_DONE)?;
                m.serialize_entry(
                    "observation",
                    &WireObservation { state, reward: Reward::Int(0), end: false, info: &empty },
                )?;
                m.serialize_entry("message", info)?;
            }
            Reply::Step { status, state, reward, end, info } => {
                m.serialize_entry("observation", &WireObservation { state, reward: *reward, end: *end, info })?;
                m.serialize_entry("status", status)?;
            }
            Reply::BadRequest { message } => {
                m.serialize_entry("status", &GameStatus::BAD_REQUEST)?;
                m.serialize_entry("observation", &())?;
                m.serialize_entry("message", &Message(message))?;
            }
            Reply::AlreadyJoined => {
                m.serialize_entry("status", &GameStatus::BAD_REQUEST)?;
                m.serialize_entry("message", "Agent already exists.")?;
            }
            Reply::QuitAck => {
                m.serialize_entry("status", &GameStatus::OK)?;
                m.serialize_entry("observation", &())?;
                m.serialize_entry("message", &Message("Agent quit the game."))?;
            }
        }
        m.end()
    }
}

/// Appends the reply's JSON and the `EOF` terminator to `out`.
pub fn encode_reply(out: &mut Vec<u8>, to_agent: ToAgent<'_>, reply: &Reply) {
    write_py_json(out, &Wire(to_agent, reply));
    out.extend_from_slice(END_OF_MESSAGE);
}

/// Upstream `sanitize_agent_name`: characters outside `[A-Za-z0-9_-]` become `_`, runs of
/// `_` collapse, leading/trailing `_` go, at most 200 characters; empty names get a
/// generated one from `fallback_id`.
pub fn sanitize_agent_name(name: &str, fallback_id: u64) -> String {
    let mut out = String::with_capacity(name.len());
    for ch in name.chars() {
        let c = if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' { ch } else { '_' };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    let trimmed: String = out.trim_matches('_').chars().take(200).collect();
    if trimmed.is_empty() {
        format!("agent_{:08x}", fallback_id as u32)
    } else {
        trimmed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_like_upstream() {
        assert_eq!(sanitize_agent_name("My Agent!!", 1), "My_Agent");
        assert_eq!(sanitize_agent_name("a__b  c", 1), "a_b_c");
        assert_eq!(sanitize_agent_name("red-team_2", 1), "red-team_2", "dashes and underscores stay");
        assert_eq!(sanitize_agent_name("ÄÖ", 0xabc), "agent_00000abc");
        assert_eq!(sanitize_agent_name(&"x".repeat(300), 1).len(), 200);
    }

    #[test]
    fn bad_request_shape() {
        let mut out = Vec::new();
        encode_reply(&mut out, ToAgent("127.0.0.1", 47326), &Reply::bad_request(MALFORMED));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"to_agent": ["127.0.0.1", 47326], "status": "GameStatus.BAD_REQUEST", "observation": null, "message": {"message": "Bad request received: Malformed Action"}}EOF"#
        );
    }
}

//! Typed messages between one game's actors. Transports (TCP sessions, in-process agents)
//! talk to the coordinator only, and the coordinator sees each of them as a
//! `Recipient<ToSession>`; the coordinator talks to the world, the global defender and the
//! trajectory recorder.

use actix::prelude::*;
use netsecgame::action::Action;
use netsecgame::game::{DefenderRequest, EpisodeRecord, Input, WorldRequest};
use netsecgame::protocol::Reply;
use netsecgame::trajectory::Trajectory;
use netsecgame::world::AgentId;
use std::sync::Arc;

/// Coordinator -> transport: a reply to deliver, or the end of the connection.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub enum ToSession {
    /// The one reply to the agent's current request.
    Reply(Reply),
    /// The agent is out of the game: close once the replies before this one are delivered.
    Close,
}

/// Transport -> coordinator: a new connection wants a slot. Err carries the refusal text.
#[derive(Message)]
#[rtype(result = "Result<AgentId, String>")]
pub struct Connect {
    pub session: Recipient<ToSession>,
    /// A label for log lines: `ip:port`, or `local:<name>` for in-process agents.
    pub peer: String,
}

/// Transport -> coordinator: one decoded request.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct AgentRequest {
    pub id: AgentId,
    pub action: Action,
}

/// Transport -> coordinator: the agent is gone, or its input ended. Requests sent before
/// this are answered first; a reply still held at a barrier is dropped.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Leave {
    pub id: AgentId,
    pub reason: LeaveReason,
}

/// Why an agent left a game.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    /// It sent QuitGame.
    Quit,
    /// Its connection ended (closed, half-closed or reset).
    Disconnected,
    /// It sent nothing for the idle timeout.
    IdleTimeout,
    /// It did not send JoinGame within the join timeout.
    JoinTimeout,
    /// It sent too many bad requests in a row.
    BadRequests,
    /// Its replies could not be written.
    WriteFailed,
    /// An in-process agent stopped (or was stopped).
    Stopped,
}

impl std::fmt::Display for LeaveReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LeaveReason::Quit => "quit",
            LeaveReason::Disconnected => "disconnected",
            LeaveReason::IdleTimeout => "idle timeout",
            LeaveReason::JoinTimeout => "join timeout",
            LeaveReason::BadRequests => "too many bad requests",
            LeaveReason::WriteFailed => "replies could not be written",
            LeaveReason::Stopped => "stopped",
        })
    }
}

/// Anyone -> coordinator: send [`GameEvent`]s to this recipient from now on.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Subscribe(pub Recipient<GameEvent>);

/// What a game tells its subscribers (tournament referees, statistics).
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub enum GameEvent {
    /// An agent joined; `peer` is its transport's label (see [`Connect::peer`]).
    Joined { id: AgentId, name: String, role: netsecgame::components::AgentRole, peer: String },
    /// An agent's episode ended: the referee's own record of it.
    EpisodeEnded(EpisodeRecord),
    /// A joined agent left.
    Left { id: AgentId, name: String, peer: String, reason: LeaveReason },
}

/// Anyone -> coordinator: stop the game (its world, defender and recorder go with it).
/// Connected agents are told to close.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Stop;

/// Server -> coordinator: shutting down; hand every open episode to the recorder. Answers
/// how many were handed over.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct Shutdown;

/// Coordinator -> world: one request; `Add`, `Step` and `Reset` are answered.
#[derive(Debug, Message)]
#[rtype(result = "Option<Input>")]
pub struct ToWorld(pub WorldRequest);

/// Coordinator -> global defender: one request; `Detect` is answered.
#[derive(Debug, Message)]
#[rtype(result = "Option<Input>")]
pub struct ToDefender(pub DefenderRequest);

/// Coordinator -> recorder: append one finished (or interrupted) episode.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Record(pub Arc<Trajectory>);

/// Anyone -> recorder: answered, with the number of records written so far, once every
/// earlier record is on disk.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct Flush;

/// Anyone -> coordinator: answered once the game is idle, that is once no world or defender
/// answer is outstanding, so every reply to what was sent before has gone out. Tests use it to
/// tell "no reply" from "no reply yet" without timers.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Settle;

/// Anyone -> coordinator: what the game looks like now.
#[derive(Message)]
#[rtype(result = "GameSnapshot")]
pub struct Snapshot;

/// A read-only summary of a game.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct GameSnapshot {
    /// Open connections, joined or not.
    pub connections: usize,
    /// Joined agents.
    pub players: Vec<PlayerInfo>,
    /// The number of the current episode (0 for the first).
    pub episode: u64,
}

/// A joined agent.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlayerInfo {
    pub id: AgentId,
    pub name: String,
    pub role: netsecgame::components::AgentRole,
}

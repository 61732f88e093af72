//! Typed messages between one game's actors. Transports (TCP sessions, in-process agents)
//! talk to the coordinator only, and the coordinator sees each of them as a
//! `Recipient<ToSession>`; the coordinator talks to the world, the global defender and the
//! trajectory recorder.

use actix::prelude::*;
use netsecgame::action::Action;
use netsecgame::game::{DefenderRequest, EpisodeRecord, Input, StepRecord, WorldRequest};
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

/// What a game tells its subscribers (tournament referees, statistics) and watchers (live
/// views). `Step` and `BadRequest` go to watchers only.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub enum GameEvent {
    /// An agent joined; `peer` is its transport's label (see [`Connect::peer`]).
    Joined { id: AgentId, name: String, role: netsecgame::components::AgentRole, peer: String },
    /// An agent's episode ended: the referee's own record of it.
    EpisodeEnded(EpisodeRecord),
    /// A joined agent left.
    Left { id: AgentId, name: String, peer: String, reason: LeaveReason },
    /// A game action was processed (watchers only).
    Step(Arc<StepEvent>),
    /// A request was answered with BAD_REQUEST (watchers only).
    BadRequest { id: AgentId, message: String },
    /// A new episode started: every agent has a new state (watchers only).
    EpisodeStarted { episode: u64 },
}

/// A processed game action: the referee's record of it and the action itself.
#[derive(Debug)]
pub struct StepEvent {
    pub record: StepRecord,
    pub action: Action,
}

/// Anyone -> coordinator: send every [`GameEvent`], steps included, to this recipient while
/// it lives, in batches a few times a second. Unlike [`Subscribe`], delivery is best effort:
/// events past the game's buffer, or a batch the watcher's mailbox has no room for, are
/// dropped (and counted), so a slow watcher never holds up the game nor makes it buffer
/// without bound. [`Watched::seq`] numbers every event, so a watcher can tell that it missed
/// some and catch up with a [`ViewSnapshot`]. A game with no watcher builds no step events.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Watch(pub Recipient<WatchBatch>);

/// One event and its number (1, 2, ... per game, dropped ones included).
#[derive(Debug, Clone)]
pub struct Watched {
    pub seq: u64,
    pub event: GameEvent,
}

/// Coordinator -> watcher: the events since the last batch, in order.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct WatchBatch(pub Vec<Watched>);

/// Anyone -> coordinator: every joined agent's state and episode now, for live views.
/// Read-only, like [`Snapshot`].
#[derive(Message)]
#[rtype(result = "GameView")]
pub struct ViewSnapshot;

/// What a game looks like to onlookers.
#[derive(Debug, Clone, Default)]
pub struct GameView {
    /// The number of the current episode (0 for the first).
    pub episode: u64,
    /// Open connections, joined or not.
    pub connections: usize,
    pub players: Vec<PlayerState>,
    /// The world's current addresses (in the scenario's IP order) and networks, when the task
    /// moves them between episodes (`use_dynamic_addresses`); None: the scenario's own.
    pub addresses: Option<(Vec<netsecgame::components::Ip>, Vec<netsecgame::components::Network>)>,
    /// The number of the last event offered to watchers when this view was taken (delivered
    /// or still waiting in the game's buffer).
    pub watch_seq: u64,
}

/// A joined agent and its current episode.
#[derive(Debug, Clone)]
pub struct PlayerState {
    pub id: AgentId,
    pub name: String,
    pub role: netsecgame::components::AgentRole,
    pub state: Arc<netsecgame::components::GameState>,
    pub status: netsecgame::components::AgentStatus,
    pub steps: u64,
    pub episode_return: f64,
    pub detected: bool,
    pub ended: bool,
    pub blocks: u32,
    pub false_positives: i64,
}

/// Coordinator -> world: the current addresses and networks (for live views of tasks with
/// dynamic addresses).
#[derive(Message)]
#[rtype(result = "(Vec<netsecgame::components::Ip>, Vec<netsecgame::components::Network>)")]
pub struct Addresses;

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

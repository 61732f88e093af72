//! Typed messages between the actors. Sessions talk to the coordinator only; the coordinator
//! talks to the world, the global defender and the recorder.

use actix::prelude::*;
use netsecgame::action::Action;
use netsecgame::components::{AgentRole, GameState};
use netsecgame::protocol::Reply;
use netsecgame::trajectory::Trajectory;
use netsecgame::world::{AgentId, StepError, StepOutcome};
use std::path::PathBuf;
use std::sync::Arc;

/// Coordinator -> session: the one reply to the session's current request.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Deliver(pub Reply);

/// Session -> coordinator: a new connection wants a slot. Err carries the refusal text.
#[derive(Message)]
#[rtype(result = "Result<AgentId, String>")]
pub struct Connect {
    pub session: Recipient<Deliver>,
    pub peer: String,
}

/// Session -> coordinator: one decoded request.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AgentRequest {
    pub id: AgentId,
    pub action: Action,
}

/// Session -> coordinator: the connection is gone.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Disconnected {
    pub id: AgentId,
}

/// Coordinator -> world: register an agent; returns its start state and goal description.
#[derive(Message)]
#[rtype(result = "(Arc<GameState>, String)")]
pub struct AddAgent {
    pub id: AgentId,
    pub role: AgentRole,
}

/// Coordinator -> world: forget an agent.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RemoveAgent {
    pub id: AgentId,
}

/// Coordinator -> world: apply one game action.
#[derive(Message)]
#[rtype(result = "Result<(StepOutcome, Arc<GameState>), StepError>")]
pub struct Step {
    pub id: AgentId,
    pub action: Action,
}

/// Coordinator -> world: new episode; returns every agent's new start state and goal text.
#[derive(Message)]
#[rtype(result = "Vec<(AgentId, Arc<GameState>, String)>")]
pub struct ResetWorld {
    pub seed: Option<i64>,
    pub topology_change: bool,
}

/// Coordinator -> defender: record an action and decide whether it is detected.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct Detect {
    pub id: AgentId,
    pub action: Action,
    /// False when the action reached the goal: recorded, never detected.
    pub evaluate: bool,
}

/// Coordinator -> defender: a new episode (optionally reseeded) or an agent left.
#[derive(Message)]
#[rtype(result = "()")]
pub enum DefenderControl {
    NewEpisode { seed: Option<i64> },
    Remove(AgentId),
}

/// Coordinator -> recorder: append one finished (or interrupted) episode.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Record {
    pub dir: PathBuf,
    pub trajectory: Arc<Trajectory>,
}

/// Anyone -> recorder: answered once every earlier record is on disk.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct Flush;

/// Server -> coordinator: shutting down; hand every open episode to the recorder and
/// answer once they are written.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct Shutdown;

//! What goes into the referee ([`Input`]) and what comes out of it ([`Effect`]).
//!
//! Agent-side inputs (requests, departures) come from transports; world and defender inputs
//! are the answers to the referee's own requests. Effects are the referee's instructions: the
//! runtime (an actor, or [`super::LocalGame`]) carries them out and feeds answers back.

use crate::action::Action;
use crate::components::{AgentRole, AgentStatus, GameState};
use crate::protocol::Reply;
use crate::trajectory::Trajectory;
use crate::world::{AgentId, StepError, StepOutcome};
use std::sync::Arc;

/// An event the referee reacts to.
#[derive(Debug)]
pub enum Input {
    /// A decoded request from a connected agent.
    Request { id: AgentId, action: Action },
    /// The agent is gone (disconnect, or the end of its input once everything it sent is
    /// answered). It leaves every barrier; a reply it is still waiting for is dropped.
    Leave { id: AgentId },
    /// World: the agent was added ([`WorldRequest::Add`]).
    Joined { id: AgentId, state: Arc<GameState>, goal_description: String },
    /// World: a game action was applied ([`WorldRequest::Step`]); the action comes back.
    Stepped { id: AgentId, action: Action, result: Result<(StepOutcome, Arc<GameState>), StepError> },
    /// Defender: the verdict on an action ([`DefenderRequest::Detect`]); the action comes back.
    Detected { id: AgentId, action: Action, detected: bool },
    /// World: a new episode started ([`WorldRequest::Reset`]): each agent's start state and goal.
    WorldReset { states: Vec<(AgentId, Arc<GameState>, String)> },
}

/// A request to the world. `Add`, `Step` and `Reset` are answered with an [`Input`]; the
/// referee waits for that answer before it takes the next agent input.
#[derive(Debug)]
pub enum WorldRequest {
    Add { id: AgentId, role: AgentRole },
    Remove { id: AgentId },
    Step { id: AgentId, action: Action },
    Reset { seed: Option<i64>, topology_change: bool },
}

impl WorldRequest {
    /// Whether the world answers this request with an [`Input`].
    pub fn expects_answer(&self) -> bool {
        !matches!(self, WorldRequest::Remove { .. })
    }
}

/// A request to the global defender. `Detect` is answered with [`Input::Detected`].
#[derive(Debug)]
pub enum DefenderRequest {
    /// Record the action; when `evaluate` (it did not reach the goal), decide on detection.
    Detect {
        id: AgentId,
        action: Action,
        evaluate: bool,
    },
    /// A new episode (reseeded when the agents agreed on a seed).
    NewEpisode {
        seed: Option<i64>,
    },
    Remove {
        id: AgentId,
    },
}

impl DefenderRequest {
    /// Whether the defender answers this request with an [`Input`].
    pub fn expects_answer(&self) -> bool {
        matches!(self, DefenderRequest::Detect { .. })
    }
}

/// How an agent's episode ended, as the referee saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EpisodeEnd {
    /// With a terminal status: `Success`, `Fail` (detected, or a defender that lost) or
    /// `TimeoutReached`; or `Playing` for defenders and benign agents whose episode ended
    /// because no attacker was left playing.
    Finished(AgentStatus),
    /// The agent asked for a reset before its episode ended.
    Reset,
    /// The agent quit or disconnected in mid-episode.
    Left,
}

/// One agent's finished episode: the referee's own record, which tournaments and statistics
/// trust (never what an agent reports about itself).
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeRecord {
    pub agent: AgentId,
    pub name: String,
    pub role: AgentRole,
    /// Episode number within the game (0 for the first).
    pub episode: u64,
    pub end: EpisodeEnd,
    /// Game actions processed.
    pub steps: u64,
    /// Sum of the rewards the agent received (end reward included).
    pub episode_return: f64,
    /// The global defender detected the agent.
    pub detected: bool,
    /// BlockIP actions processed.
    pub blocks: u32,
    /// False positives charged to the agent (defenders).
    pub false_positives: i64,
}

impl EpisodeRecord {
    /// The agent won: an attacker reached its goal, a defender kept every attacker out.
    pub fn won(&self) -> bool {
        self.end == EpisodeEnd::Finished(AgentStatus::Success)
    }
}

/// One processed game action as the referee saw it, for live views and metrics. Emitted as
/// [`Effect::StepDone`] only while asked for ([`super::Referee::set_step_events`]), so a game
/// nobody watches builds none.
#[derive(Debug, Clone)]
pub struct StepRecord {
    pub agent: AgentId,
    /// Episode number within the game (0 for the first).
    pub episode: u64,
    /// The agent's game actions this episode, this one included (1 for the first).
    pub steps: u64,
    /// This step's reward; an end-of-episode reward comes later, with the episode's end.
    pub reward: f64,
    /// The agent's status after the step.
    pub status: AgentStatus,
    pub goal_reached: bool,
    /// The global defender detected the agent with this action.
    pub detected: bool,
    /// The agent's episode ended with this step (its reply waits for the others' end).
    pub ended: bool,
    /// The agent's state after the step.
    pub state: Arc<GameState>,
}

/// What the referee wants done.
#[derive(Debug)]
pub enum Effect {
    /// Send this reply to the agent.
    Reply {
        to: AgentId,
        reply: Reply,
    },
    /// Close the agent's connection after the replies before this one.
    Close {
        id: AgentId,
    },
    World(WorldRequest),
    Defender(DefenderRequest),
    /// Write this finished (or interrupted) episode's trajectory.
    Record(Arc<Trajectory>),
    /// An agent's episode ended.
    EpisodeEnded(EpisodeRecord),
    /// A game action was processed (only while step events are on).
    StepDone(StepRecord),
    /// An agent joined the game (its JoinGame was accepted; CREATED may still wait).
    AgentJoined {
        id: AgentId,
        name: String,
        role: AgentRole,
    },
    /// A joined agent left the game (it quit, or its transport said it is gone).
    AgentLeft {
        id: AgentId,
        name: String,
        role: AgentRole,
        quit: bool,
    },
}

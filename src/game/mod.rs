//! One game's rules as plain code.
//!
//! [`Referee`] is the multi-agent protocol (registry, barriers, reset consensus, end
//! rewards, trajectory bookkeeping) as a state machine: [`Input`]s in, [`Effect`]s out. It
//! never touches a socket, a clock or a thread. The actor runtime delivers its effects with
//! messages; [`LocalGame`] delivers them with direct calls. Both run the same rules.

mod io;
mod local;
mod referee;

pub use io::{DefenderRequest, Effect, EpisodeEnd, EpisodeRecord, Input, StepRecord, WorldRequest};
pub use local::{defender_answer, world_answer, LocalGame};
pub use referee::{GameSettings, PlayerView, Referee};

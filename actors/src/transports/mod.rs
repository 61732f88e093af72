//! How agents reach a game. A transport turns an agent's requests into [`AgentRequest`]s for
//! the game's coordinator and delivers its [`ToSession`] messages back; it has no game logic
//! of its own, so the coordinator cannot tell one transport from another.
//!
//! * [`tcp`]: the NetSecGame wire protocol (JSON requests, replies terminated by `EOF`), for
//!   agents in any language, Python's `BaseAgent` included.
//! * in-process agents (`crate::agents::LocalAgent`) are their own transport: an actor that
//!   exchanges typed messages with the coordinator, with observations shared, not copied.
//!
//! [`AgentRequest`]: crate::game::messages::AgentRequest
//! [`ToSession`]: crate::game::messages::ToSession

pub mod tcp;

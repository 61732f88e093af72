//! NetSecGame domain core.
//!
//! Pure, synchronous code shared by the server, the built-in agents and the tests: the wire
//! data model and codec, task configuration, scenarios and the world rules. Nothing here knows
//! about sockets, threads or actors; the runtime lives in the `netsecgame-actors` crate.

pub mod action;
pub mod agents;
pub mod components;
pub mod decode;
pub mod defender;
pub mod env;
pub mod episode;
pub mod firewall;
pub mod framing;
pub mod game;
pub mod generate;
pub mod protocol;
pub mod pyjson;
#[cfg(feature = "python")]
mod python;
pub mod remap;
pub mod rng;
pub mod scenario;
pub mod task;
pub mod trajectory;
pub mod views;
pub mod whitebox;
pub mod world;

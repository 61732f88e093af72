//! NetSecGame actor runtime on actix.
//!
//! * [`game`]: one game as actors (coordinator, world, global defender, trajectory recorder);
//!   the rules themselves are plain code in the `netsecgame` crate.
//! * [`transports`]: how agents reach a game (TCP sessions; in-process agents are actors).
//! * [`agents`]: running an agent in-process or over TCP; [`client`] is the TCP client.
//! * [`server`]: serving a game on a port; [`testkit`]: a game inside a test, no ports.
//! * [`tournament`], [`bench`]: built on the above.
//! * [`analyze`]: statistics, charts and the gameplay graph of recorded trajectory files.
//! * [`web`]: the web view (`--http`): live games, tournaments, replays, metrics.

pub mod agents;
pub mod analyze;
pub mod bench;
pub mod client;
pub mod game;
pub mod registry;
pub mod server;
pub mod stats;
pub mod testkit;
pub mod tournament;
pub mod transports;
pub mod web;

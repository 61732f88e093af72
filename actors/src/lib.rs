//! NetSecGame actor runtime on actix: one actor per connection (`session`), and per game a
//! `coordinator`, a `world`, a global `defender` and a trajectory `recorder`, exchanging the
//! typed messages of `messages`. The rules live in the `netsecgame` crate; this crate only
//! schedules them and talks TCP.

pub mod agents;
pub mod bench;
pub mod client;
pub mod coordinator;
pub mod defender;
pub mod messages;
pub mod recorder;
pub mod server;
pub mod session;
pub mod tournament;
pub mod world;

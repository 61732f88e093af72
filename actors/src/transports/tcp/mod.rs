//! The TCP transport: a listener that admits connections ([`listener`]), one session actor
//! per connection ([`session`]) and its writer task ([`writer`]).
//!
//! Every connection has bounded memory: one request in the decoder (capped at
//! `max_request_bytes`), one parked request, and at most `max_unsent_bytes` of replies not yet
//! read by the client. Past that, the session stops reading the client's requests until the
//! client reads its replies, so TCP pushes back on the client and nobody else waits.

pub mod listener;
pub mod session;
pub mod writer;

pub use listener::{accept_loop, ConnectionLimits};
pub use session::{SessionSettings, TcpSession};

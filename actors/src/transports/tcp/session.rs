//! `TcpSession`: one actor per TCP connection (the actix `chat-tcp` session pattern).
//!
//! The reader is a task of its own, not a `FramedRead` stream on the actor: the actor must keep
//! handling coordinator messages while a request waits at a barrier, and must notice a client
//! that leaves while it waits there. The reader owns the read half and the incremental
//! [`FrameDecoder`]; it hands complete frames to the session one at a time and waits until
//! each is accepted, so a session busy with a request (or with a full write queue) simply
//! stops reading and TCP pushes back on the client. Requests are answered in order.
//!
//! Undecodable input is answered here without bothering the coordinator. When the client's
//! stream ends (a close, or a half-close with `SHUT_WR`), the session tells the coordinator the
//! agent leaves; the coordinator answers what was received first and then says [`Close`], so
//! a request sent just before a half-close still gets its reply. An agent waiting at a barrier
//! when its input ends leaves the barrier.
//!
//! [`Close`]: ToSession::Close

use super::listener::ConnectionGuard;
use super::writer::{WriteQueue, WriterEvents};
use crate::game::coordinator::Coordinator;
use crate::game::messages::{AgentRequest, Connect, Leave, LeaveReason, ToSession};
use actix::prelude::*;
use netsecgame::action::Action;
use netsecgame::components::ActionType;
use netsecgame::framing::{Frame, FrameDecoder};
use netsecgame::protocol::{encode_reply, Reply, ToAgent, MALFORMED};
use netsecgame::world::AgentId;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// Per-connection limits.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// Cap on one request.
    pub max_frame: usize,
    /// How long an unfinished request may sit before it is answered as malformed.
    pub frame_timeout: Duration,
    /// Close connections that send nothing for this long (None: never). Time spent waiting
    /// for a barrier does not count.
    pub idle_timeout: Option<Duration>,
    /// Close connections that have not sent JoinGame within this time (None: never), so
    /// connections that never play cannot hold every slot.
    pub join_timeout: Option<Duration>,
    /// Replies queued and not yet read by the client, in bytes, before the session stops
    /// reading that client's requests.
    pub max_unsent_bytes: usize,
    /// How long a closing connection may take to flush its last replies.
    pub close_grace: Duration,
    /// Close a connection after this many BAD_REQUEST replies in a row (None: never), so a
    /// client that floods the server with junk cannot keep a slot (tournaments forfeit it).
    pub max_bad_requests: Option<u32>,
    /// A label for this connection's transport in events and logs (e.g. a tournament
    /// entrant's name); the peer address is appended.
    pub label: Option<String>,
    /// The game's counters: requests this session answers as malformed count as bad requests
    /// (the game counts the ones it refuses itself).
    pub metrics: Option<std::sync::Arc<crate::game::metrics::GameMetrics>>,
}

/// Default cap on unsent replies per connection: 1 MiB.
pub const DEFAULT_MAX_UNSENT_BYTES: usize = 1 << 20;
/// Default time to send JoinGame: 120 s.
pub const DEFAULT_JOIN_TIMEOUT: Duration = Duration::from_secs(120);

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            max_frame: netsecgame::framing::DEFAULT_MAX_FRAME,
            frame_timeout: Duration::from_millis(500),
            idle_timeout: None,
            join_timeout: Some(DEFAULT_JOIN_TIMEOUT),
            max_unsent_bytes: DEFAULT_MAX_UNSENT_BYTES,
            close_grace: Duration::from_secs(5),
            max_bad_requests: None,
            label: None,
            metrics: None,
        }
    }
}

/// Reader -> session: one frame; the answer means "accepted, read on".
#[derive(Message)]
#[rtype(result = "()")]
struct Incoming(Frame);

/// Reader -> session: the client's stream ended, or the socket failed.
#[derive(Message)]
#[rtype(result = "()")]
struct InputEnded;

/// Writer -> session.
#[derive(Message)]
#[rtype(result = "()")]
enum WriterEvent {
    Drained,
    Finished { failed: bool },
}

struct ToActor(Addr<TcpSession>);

impl WriterEvents for ToActor {
    fn drained(&self) {
        self.0.do_send(WriterEvent::Drained);
    }
    fn finished(&self, error: Option<std::io::Error>) {
        if let Some(e) = &error {
            tracing::debug!("write failed: {e}");
        }
        self.0.do_send(WriterEvent::Finished { failed: error.is_some() });
    }
}

pub struct TcpSession {
    /// Assigned by the coordinator once the connection is admitted; None again once the
    /// coordinator has let the agent go.
    id: Option<AgentId>,
    peer_ip: String,
    peer_port: u16,
    coordinator: Addr<Coordinator>,
    writer: WriteQueue,
    /// A frame that arrived while the session could not take it, with the reader's wake-up.
    /// The reader waits for it, so there is never more than one.
    pending: Option<(Frame, oneshot::Sender<()>)>,
    /// A request is at the coordinator and its reply has not come back yet.
    awaiting: bool,
    /// The client's stream ended; the coordinator was told.
    input_ended: bool,
    /// Closing: no more input is taken.
    closing: bool,
    /// JoinGame was sent (the join timeout no longer applies).
    join_sent: bool,
    /// BAD_REQUEST replies in a row.
    bad_in_a_row: u32,
    /// Why the agent leaves, for the coordinator's events when the session stops.
    leave_reason: LeaveReason,
    started: Instant,
    last_input: Instant,
    settings: SessionSettings,
    /// Dropped with the session, which stops the reader (and so releases the socket) even
    /// when the client sends nothing more.
    _stop_reader: oneshot::Sender<()>,
    /// This connection's place in its address's count, given back when the session goes.
    _admission: ConnectionGuard,
}

impl TcpSession {
    /// Starts a session for an accepted connection on the current arbiter.
    pub fn start(
        stream: TcpStream,
        peer: SocketAddr,
        coordinator: Addr<Coordinator>,
        settings: SessionSettings,
        admission: ConnectionGuard,
    ) {
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        let reader_settings = settings.clone();
        let (stop_reader, reader_stopped) = oneshot::channel();
        let addr = TcpSession::create(move |ctx| TcpSession {
            id: None,
            peer_ip: peer.ip().to_string(),
            peer_port: peer.port(),
            coordinator,
            writer: WriteQueue::start(write, settings.max_unsent_bytes, ToActor(ctx.address())),
            pending: None,
            awaiting: false,
            input_ended: false,
            closing: false,
            join_sent: false,
            bad_in_a_row: 0,
            leave_reason: LeaveReason::Disconnected,
            started: Instant::now(),
            last_input: Instant::now(),
            settings,
            _stop_reader: stop_reader,
            _admission: admission,
        });
        actix_rt::spawn(async move {
            tokio::select! {
                _ = read_frames(read, addr, reader_settings) => {}
                _ = reader_stopped => {}
            }
        });
    }

    fn send(&mut self, reply: &Reply) {
        if reply.status() == netsecgame::components::GameStatus::BAD_REQUEST {
            self.bad_in_a_row += 1;
        } else {
            self.bad_in_a_row = 0;
        }
        let mut out = Vec::with_capacity(512);
        encode_reply(&mut out, ToAgent(&self.peer_ip, self.peer_port), reply);
        if tracing::enabled!(tracing::Level::DEBUG) {
            let shown = String::from_utf8_lossy(&out[..out.len().min(2048)]).into_owned();
            tracing::debug!("to {}:{}: {shown}", self.peer_ip, self.peer_port);
        }
        self.writer.write(out);
    }

    /// Says `message` as a BAD_REQUEST and closes the connection once it is written.
    fn refuse(&mut self, message: String, reason: LeaveReason, ctx: &mut Context<Self>) {
        self.send(&Reply::bad_request(message));
        self.leave_reason = reason;
        self.leave();
        self.close(ctx);
    }

    /// Tells the coordinator the agent is gone (once).
    fn leave(&mut self) {
        if let Some(id) = self.id.take() {
            self.coordinator.do_send(Leave { id, reason: self.leave_reason });
        }
    }

    /// Closes a connection that sent too many bad requests in a row.
    fn check_flood(&mut self, ctx: &mut Context<Self>) {
        if let Some(limit) = self.settings.max_bad_requests {
            if self.bad_in_a_row >= limit && !self.closing {
                let text = format!("{limit} bad requests in a row; closing the connection.");
                self.refuse(text, LeaveReason::BadRequests, ctx);
            }
        }
    }

    /// Closes after writing what is queued; the writer's `Finished` then stops the actor. A
    /// client that does not read its last replies within the grace period is cut off.
    fn close(&mut self, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        self.closing = true;
        self.pending = None;
        self.writer.close();
        ctx.run_later(self.settings.close_grace, |_, ctx| ctx.stop());
    }

    /// Handles one frame: answers it here, or forwards it and waits for the reply.
    fn handle_frame(&mut self, frame: Frame) {
        let action = match frame {
            Frame::Request(bytes) | Frame::Garbage(bytes) => Action::from_json_bytes(&bytes),
            Frame::TooLarge { limit } => {
                self.count_bad_request();
                self.send(&Reply::bad_request(format!("{MALFORMED} (request exceeds {limit} bytes)")));
                return;
            }
        };
        match (action.and_then(|a| a.check_required().map(|_| a)), self.id) {
            (Err(e), _) => {
                tracing::debug!("from {}:{}: malformed request: {e}", self.peer_ip, self.peer_port);
                self.count_bad_request();
                self.send(&Reply::malformed(e));
            }
            (Ok(action), Some(id)) => {
                tracing::debug!("from {}:{}: {action}", self.peer_ip, self.peer_port);
                self.join_sent |= action.action_type == ActionType::JoinGame;
                self.awaiting = true;
                self.coordinator.do_send(AgentRequest { id, action });
            }
            (Ok(_), None) => {
                self.count_bad_request();
                self.send(&Reply::bad_request("The connection was not admitted."));
            }
        }
    }

    fn count_bad_request(&self) {
        if let Some(m) = &self.settings.metrics {
            crate::game::metrics::GameMetrics::add(&m.bad_requests, 1);
        }
    }

    /// Whether the session can take a new request now.
    fn ready(&self) -> bool {
        !self.awaiting && !self.closing && !self.writer.is_full()
    }

    /// Takes the parked frame, if any, once the session is ready.
    fn pump(&mut self) {
        if !self.ready() {
            return;
        }
        if let Some((frame, accepted)) = self.pending.take() {
            let _ = accepted.send(());
            self.handle_frame(frame);
        }
    }

    fn check_timeouts(&mut self, ctx: &mut Context<Self>) {
        if self.closing || self.awaiting {
            return;
        }
        if let Some(limit) = self.settings.join_timeout {
            if !self.join_sent && self.started.elapsed() >= limit {
                let text = format!("No JoinGame within {} s; closing the connection.", limit.as_secs_f64());
                return self.refuse(text, LeaveReason::JoinTimeout, ctx);
            }
        }
        if let Some(limit) = self.settings.idle_timeout {
            if self.last_input.elapsed() >= limit {
                let text = format!("No request for {} s; closing the connection.", limit.as_secs_f64());
                self.refuse(text, LeaveReason::IdleTimeout, ctx);
            }
        }
    }
}

/// Reads the socket, frames requests, and hands them to the session one at a time. An
/// unfinished request is handed out after `frame_timeout` of silence, or when the stream ends.
async fn read_frames(mut read: OwnedReadHalf, session: Addr<TcpSession>, settings: SessionSettings) {
    let mut decoder = FrameDecoder::new(settings.max_frame);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = if decoder.pending() > 0 {
            match tokio::time::timeout(settings.frame_timeout, read.read(&mut buf)).await {
                Ok(r) => r,
                Err(_) => {
                    if let Some(frame) = decoder.flush_partial() {
                        if session.send(Incoming(frame)).await.is_err() {
                            return;
                        }
                    }
                    continue;
                }
            }
        } else {
            read.read(&mut buf).await
        };
        match n {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                decoder.push(&buf[..n]);
                while let Some(frame) = decoder.next() {
                    if session.send(Incoming(frame)).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
    // Bytes that never formed a whole request still get their answer.
    if let Some(frame) = decoder.flush_partial() {
        if session.send(Incoming(frame)).await.is_err() {
            return;
        }
    }
    session.do_send(InputEnded);
}

impl Actor for TcpSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let peer = match &self.settings.label {
            Some(label) => format!("{label}@{}:{}", self.peer_ip, self.peer_port),
            None => format!("{}:{}", self.peer_ip, self.peer_port),
        };
        self.coordinator
            .send(Connect { session: ctx.address().recipient(), peer })
            .into_actor(self)
            .map(|res, act, ctx| match res {
                Ok(Ok(id)) => act.id = Some(id),
                Ok(Err(message)) => act.refuse(message, LeaveReason::Disconnected, ctx),
                Err(_) => ctx.stop(),
            })
            .wait(ctx);
        let shortest = [self.settings.join_timeout, self.settings.idle_timeout].into_iter().flatten().min();
        if let Some(limit) = shortest {
            ctx.run_interval(limit / 4 + Duration::from_millis(1), |act, ctx| act.check_timeouts(ctx));
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.leave();
    }
}

impl Handler<Incoming> for TcpSession {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, msg: Incoming, ctx: &mut Context<Self>) -> Self::Result {
        self.last_input = Instant::now();
        if self.closing {
            return Box::pin(async {});
        }
        if !self.ready() {
            // Park it; the reader waits (and stops reading) until the session is ready.
            let (tx, rx) = oneshot::channel();
            self.pending = Some((msg.0, tx));
            return Box::pin(async move {
                let _ = rx.await;
            });
        }
        self.handle_frame(msg.0);
        self.check_flood(ctx);
        Box::pin(async {})
    }
}

impl Handler<InputEnded> for TcpSession {
    type Result = ();
    fn handle(&mut self, _: InputEnded, ctx: &mut Context<Self>) {
        self.input_ended = true;
        if self.id.is_some() {
            // The coordinator answers what is in flight, then says Close.
            self.leave();
        } else {
            self.close(ctx);
        }
    }
}

impl Handler<ToSession> for TcpSession {
    type Result = ();
    fn handle(&mut self, msg: ToSession, ctx: &mut Context<Self>) {
        match msg {
            ToSession::Reply(reply) => {
                self.awaiting = false;
                self.last_input = Instant::now();
                if !self.closing {
                    self.send(&reply);
                    self.check_flood(ctx);
                    self.pump();
                }
            }
            ToSession::Close => {
                // The coordinator already let the agent go.
                self.id = None;
                self.close(ctx);
            }
        }
    }
}

impl Handler<WriterEvent> for TcpSession {
    type Result = ();
    fn handle(&mut self, msg: WriterEvent, ctx: &mut Context<Self>) {
        match msg {
            WriterEvent::Drained => self.pump(),
            WriterEvent::Finished { failed } => {
                if failed {
                    self.leave_reason = LeaveReason::WriteFailed;
                }
                ctx.stop();
            }
        }
    }
}

//! AgentSession: one actor per TCP connection (the actix `chat-tcp` session pattern).
//!
//! A reader task owns the socket's read half and the incremental [`FrameDecoder`]; it hands
//! complete frames to the session one at a time and waits until each is accepted. So a session
//! busy with a request (or blocked on a full write buffer, which actix's `Writer` handles by
//! pausing the actor) simply stops reading its socket: TCP pushes back on the client, memory
//! stays bounded, and pipelined requests are answered in order. Undecodable input is answered
//! here without bothering the coordinator. The coordinator only sees a `Recipient<Deliver>`.
//!
//! When the client closes its side, the agent has left (as upstream treats `read() == b""`),
//! even if it was waiting at a barrier (B46).

use crate::coordinator::Coordinator;
use crate::messages::{AgentRequest, Connect, Deliver, Disconnected};
use actix::io::{WriteHandler, Writer};
use actix::prelude::*;
use netsecgame::action::Action;
use netsecgame::framing::{Frame, FrameDecoder};
use netsecgame::protocol::{encode_reply, Reply, ToAgent, MALFORMED};
use netsecgame::world::AgentId;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
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
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            max_frame: netsecgame::framing::DEFAULT_MAX_FRAME,
            frame_timeout: Duration::from_millis(500),
            idle_timeout: None,
        }
    }
}

/// Reader -> session: one frame; the answer means "accepted, read on".
#[derive(Message)]
#[rtype(result = "()")]
struct Incoming(Frame);

/// Reader -> session: the client closed its side, or the socket failed.
#[derive(Message)]
#[rtype(result = "()")]
struct ReaderDone;

pub struct AgentSession {
    /// Assigned by the coordinator once the connection is admitted.
    id: Option<AgentId>,
    peer_ip: String,
    peer_port: u16,
    coordinator: Addr<Coordinator>,
    writer: Writer<OwnedWriteHalf, std::io::Error>,
    /// A frame that arrived while a request was in flight, with the reader's wake-up. The
    /// reader waits for it, so there is never more than one.
    pending: Option<(Frame, oneshot::Sender<()>)>,
    /// A request is at the coordinator and its reply has not come back yet.
    awaiting: bool,
    /// Closing after a final message; ignore further input.
    closing: bool,
    last_input: Instant,
    settings: SessionSettings,
    /// Reused encoding buffer.
    out: Vec<u8>,
}

impl AgentSession {
    /// Starts a session for an accepted connection in the current arbiter.
    pub fn start(stream: TcpStream, peer: SocketAddr, coordinator: Addr<Coordinator>, settings: SessionSettings) {
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        let reader_settings = settings.clone();
        let addr = AgentSession::create(move |ctx| AgentSession {
            id: None,
            peer_ip: peer.ip().to_string(),
            peer_port: peer.port(),
            coordinator,
            writer: Writer::new(write, ctx),
            pending: None,
            awaiting: false,
            closing: false,
            last_input: Instant::now(),
            settings,
            out: Vec::with_capacity(4096),
        });
        actix_rt::spawn(read_frames(read, addr, reader_settings));
    }

    fn send(&mut self, reply: &Reply) {
        self.out.clear();
        encode_reply(&mut self.out, ToAgent(&self.peer_ip, self.peer_port), reply);
        tracing::debug!(
            "to {}:{}: {}",
            self.peer_ip,
            self.peer_port,
            String::from_utf8_lossy(&self.out[..self.out.len().min(2048)])
        );
        self.writer.write(&self.out);
    }

    /// Says `message` as a BAD_REQUEST and closes the connection once it is written.
    fn refuse(&mut self, message: String) {
        self.send(&Reply::bad_request(message));
        self.close();
    }

    /// Closes after writing what is buffered; `WriteHandler::finished` then stops the actor.
    fn close(&mut self) {
        self.closing = true;
        self.pending = None;
        self.writer.close();
    }

    /// Handles one frame: answers it here, or forwards it and waits for the reply.
    fn handle_frame(&mut self, frame: Frame) {
        let action = match frame {
            Frame::Request(bytes) | Frame::Garbage(bytes) => Action::from_json_bytes(&bytes),
            Frame::TooLarge { limit } => {
                self.send(&Reply::bad_request(format!("{MALFORMED} (request exceeds {limit} bytes)")));
                return;
            }
        };
        match (action.and_then(|a| a.check_required().map(|_| a)), self.id) {
            (Err(e), _) => {
                tracing::debug!("from {}:{}: malformed request: {e}", self.peer_ip, self.peer_port);
                self.send(&Reply::malformed(e));
            }
            (Ok(action), Some(id)) => {
                tracing::debug!("from {}:{}: {action}", self.peer_ip, self.peer_port);
                self.awaiting = true;
                self.coordinator.do_send(AgentRequest { id, action });
            }
            (Ok(_), None) => self.send(&Reply::bad_request("The connection was not admitted.")),
        }
    }

    /// Takes the parked frame, if any, once the session is free.
    fn pump(&mut self) {
        if self.awaiting || self.closing {
            return;
        }
        if let Some((frame, accepted)) = self.pending.take() {
            let _ = accepted.send(());
            self.handle_frame(frame);
        }
    }
}

/// Reads the socket, frames requests, and hands them to the session one at a time. An
/// unfinished request is handed out after `frame_timeout` of silence.
async fn read_frames(mut read: OwnedReadHalf, session: Addr<AgentSession>, settings: SessionSettings) {
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
    session.do_send(ReaderDone);
}

impl Actor for AgentSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let peer = format!("{}:{}", self.peer_ip, self.peer_port);
        self.coordinator
            .send(Connect { session: ctx.address().recipient(), peer })
            .into_actor(self)
            .map(|res, act, ctx| match res {
                Ok(Ok(id)) => act.id = Some(id),
                Ok(Err(message)) => act.refuse(message),
                Err(_) => ctx.stop(),
            })
            .wait(ctx);
        if let Some(limit) = self.settings.idle_timeout {
            ctx.run_interval(limit / 4 + Duration::from_millis(1), move |act, _| {
                if !act.awaiting && !act.closing && act.last_input.elapsed() >= limit {
                    act.refuse(format!("No request for {} s; closing the connection.", limit.as_secs_f64()));
                }
            });
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        if let Some(id) = self.id.take() {
            self.coordinator.do_send(Disconnected { id });
        }
    }
}

impl Handler<Incoming> for AgentSession {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, msg: Incoming, _: &mut Context<Self>) -> Self::Result {
        self.last_input = Instant::now();
        if self.closing {
            return Box::pin(async {});
        }
        if self.awaiting {
            // Park it; the reader waits (and stops reading) until the reply came back.
            let (tx, rx) = oneshot::channel();
            self.pending = Some((msg.0, tx));
            return Box::pin(async move {
                let _ = rx.await;
            });
        }
        self.handle_frame(msg.0);
        Box::pin(async {})
    }
}

impl Handler<ReaderDone> for AgentSession {
    type Result = ();
    fn handle(&mut self, _: ReaderDone, _: &mut Context<Self>) {
        // The agent has left: write what is buffered and go; `stopped` tells the coordinator.
        if !self.closing {
            self.close();
        }
    }
}

impl Handler<Deliver> for AgentSession {
    type Result = ();
    fn handle(&mut self, msg: Deliver, _: &mut Context<Self>) {
        self.awaiting = false;
        self.last_input = Instant::now();
        if self.closing {
            return;
        }
        let quit = matches!(msg.0, Reply::QuitAck);
        self.send(&msg.0);
        if quit {
            // The coordinator already removed us.
            self.id = None;
            self.close();
            return;
        }
        self.pump();
    }
}

impl WriteHandler<std::io::Error> for AgentSession {
    fn error(&mut self, _: std::io::Error, _: &mut Self::Context) -> Running {
        Running::Stop
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

//! AgentSession: one actor per TCP connection (the actix `chat-tcp` session pattern).
//!
//! Bytes come in through a stream handler and go through the incremental
//! [`FrameDecoder`]; requests are answered strictly in order, one at a time: a request is
//! forwarded to the coordinator and the next one waits until its reply came back (so
//! pipelined requests work). Undecodable input is answered here without bothering the
//! coordinator. The coordinator only sees a `Recipient<Deliver>`, never this type.

use crate::coordinator::Coordinator;
use crate::messages::{AgentRequest, Connect, Deliver, Disconnected};
use actix::io::{WriteHandler, Writer};
use actix::prelude::*;
use bytes::Bytes;
use netsecgame::action::Action;
use netsecgame::framing::{Frame, FrameDecoder};
use netsecgame::protocol::{encode_reply, Reply, ToAgent, MALFORMED};
use netsecgame::world::AgentId;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio_util::io::ReaderStream;

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
    /// Requests queued behind the one being processed before the connection is closed.
    pub max_pipelined: usize,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            max_frame: netsecgame::framing::DEFAULT_MAX_FRAME,
            frame_timeout: Duration::from_millis(500),
            idle_timeout: None,
            max_pipelined: 1024,
        }
    }
}

pub struct AgentSession {
    /// Assigned by the coordinator once the connection is admitted.
    id: Option<AgentId>,
    peer_ip: String,
    peer_port: u16,
    coordinator: Addr<Coordinator>,
    writer: Writer<OwnedWriteHalf, std::io::Error>,
    decoder: FrameDecoder,
    /// Frames received while a request is being processed.
    queue: VecDeque<Frame>,
    /// A request is at the coordinator and its reply has not come back yet.
    awaiting: bool,
    /// The client closed its sending side; finish queued work, then close.
    read_closed: bool,
    /// Closing after a final message; ignore further input.
    closing: bool,
    /// Pending "answer the unfinished request" timer.
    flush_timer: Option<SpawnHandle>,
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
        AgentSession::create(move |ctx| {
            ctx.add_stream(ReaderStream::with_capacity(read, 16 * 1024));
            AgentSession {
                id: None,
                peer_ip: peer.ip().to_string(),
                peer_port: peer.port(),
                coordinator,
                writer: Writer::new(write, ctx),
                decoder: FrameDecoder::new(settings.max_frame),
                queue: VecDeque::new(),
                awaiting: false,
                read_closed: false,
                closing: false,
                flush_timer: None,
                last_input: Instant::now(),
                settings,
                out: Vec::with_capacity(4096),
            }
        });
    }

    fn send(&mut self, reply: &Reply) {
        self.out.clear();
        encode_reply(&mut self.out, ToAgent(&self.peer_ip, self.peer_port), reply);
        self.writer.write(&self.out);
    }

    /// Says `message` as a BAD_REQUEST and closes the connection once it is written.
    fn refuse(&mut self, message: String) {
        self.send(&Reply::bad_request(message));
        self.close();
    }

    fn close(&mut self) {
        self.closing = true;
        self.queue.clear();
        self.writer.close();
    }

    /// Handles queued frames until one goes to the coordinator.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        while !self.awaiting && !self.closing {
            let Some(frame) = self.queue.pop_front() else { break };
            let action = match frame {
                Frame::Request(bytes) => Action::from_json_bytes(&bytes),
                Frame::Garbage(bytes) => Action::from_json_bytes(&bytes),
                Frame::TooLarge { limit } => {
                    self.send(&Reply::bad_request(format!("{MALFORMED} (request exceeds {limit} bytes)")));
                    continue;
                }
            };
            let action = match action.and_then(|a| a.check_required().map(|_| a)) {
                Ok(a) => a,
                Err(e) => {
                    self.send(&Reply::malformed(e));
                    continue;
                }
            };
            let Some(id) = self.id else { break };
            self.awaiting = true;
            self.coordinator.do_send(AgentRequest { id, action });
        }
        if self.read_closed && !self.awaiting && self.queue.is_empty() && !self.closing {
            self.close();
            ctx.stop();
        }
    }

    fn rearm_flush_timer(&mut self, ctx: &mut Context<Self>) {
        if let Some(h) = self.flush_timer.take() {
            ctx.cancel_future(h);
        }
        if self.decoder.pending() > 0 {
            self.flush_timer = Some(ctx.run_later(self.settings.frame_timeout, |act, ctx| {
                act.flush_timer = None;
                if let Some(frame) = act.decoder.flush_partial() {
                    act.queue.push_back(frame);
                    act.pump(ctx);
                }
            }));
        }
    }
}

impl Actor for AgentSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let peer = format!("{}:{}", self.peer_ip, self.peer_port);
        self.coordinator
            .send(Connect { session: ctx.address().recipient(), peer })
            .into_actor(self)
            .map(|res, act, ctx| match res {
                Ok(Ok(id)) => {
                    act.id = Some(id);
                    act.pump(ctx);
                }
                Ok(Err(message)) => act.refuse(message),
                Err(_) => ctx.stop(),
            })
            .wait(ctx);
        if let Some(limit) = self.settings.idle_timeout {
            ctx.run_interval(limit / 4 + Duration::from_millis(1), move |act, _| {
                if !act.awaiting && !act.closing && act.last_input.elapsed() >= limit {
                    act.refuse(format!("No request for {} s; closing the connection.", limit.as_secs()));
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

impl StreamHandler<Result<Bytes, std::io::Error>> for AgentSession {
    fn handle(&mut self, chunk: Result<Bytes, std::io::Error>, ctx: &mut Context<Self>) {
        let Ok(chunk) = chunk else {
            ctx.stop();
            return;
        };
        if self.closing {
            return;
        }
        self.last_input = Instant::now();
        self.decoder.push(&chunk);
        while let Some(frame) = self.decoder.next() {
            self.queue.push_back(frame);
        }
        if self.queue.len() > self.settings.max_pipelined {
            let n = self.queue.len();
            self.refuse(format!(
                "{n} requests queued without reading replies (limit {}); closing.",
                self.settings.max_pipelined
            ));
            return;
        }
        self.rearm_flush_timer(ctx);
        self.pump(ctx);
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        // The client will send nothing more: answer what it sent, then close.
        self.read_closed = true;
        if let Some(frame) = self.decoder.flush_partial() {
            self.queue.push_back(frame);
        }
        if self.id.is_none() && !self.closing {
            ctx.stop();
            return;
        }
        self.pump(ctx);
    }
}

impl Handler<Deliver> for AgentSession {
    type Result = ();
    fn handle(&mut self, msg: Deliver, ctx: &mut Context<Self>) {
        self.awaiting = false;
        self.last_input = Instant::now();
        let quit = matches!(msg.0, Reply::QuitAck);
        self.send(&msg.0);
        if quit {
            // The coordinator already removed us.
            self.id = None;
            self.close();
            return;
        }
        self.pump(ctx);
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

/// Writes a refusal to a connection that will not get a session (used before any actor
/// exists, e.g. while shutting down).
pub async fn refuse_raw(mut stream: TcpStream, peer: SocketAddr, message: &str) {
    let mut out = Vec::new();
    encode_reply(&mut out, ToAgent(&peer.ip().to_string(), peer.port()), &Reply::bad_request(message));
    let _ = stream.write_all(&out).await;
    let _ = stream.shutdown().await;
}

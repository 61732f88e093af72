//! The Coordinator actor: one per game. It owns the game's [`Referee`] (the rules, plain
//! code in the core crate) and only delivers what the referee decides: replies to transports,
//! requests to the world and the global defender (whose answers it feeds back), records to
//! the trajectory recorder, and episode records to subscribers.
//!
//! The referee queues agent inputs while a world or defender answer is outstanding, so each
//! step is atomic with respect to every other request although the actor never blocks.
//!
//! Onlookers cost nothing unless they are there. Step records ([`Effect::StepDone`]) are
//! turned on in the referee only while the game keeps metrics or has a watcher ([`Watch`]); the
//! clock is read per step only with metrics; the stepped action is copied only for watchers.
//! Watchers get events in batches, every [`WATCH_FLUSH`] at most (one message and one wake-up
//! of the watcher's thread per batch, not per step), from a buffer of at most [`WATCH_BUFFER`]
//! events, with `try_send`: a slow watcher loses events (counted, and numbered so it can tell)
//! instead of slowing the game or growing a queue.

use super::defender::DefenderActor;
use super::messages::*;
use super::metrics::GameMetrics;
use super::recorder::RecorderActor;
use super::world::WorldActor;
use actix::prelude::*;
use netsecgame::action::Action;
use netsecgame::components::{ActionType, GameStatus};
use netsecgame::game::{Effect, Input, Referee, WorldRequest};
use netsecgame::world::AgentId;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

pub struct Coordinator {
    referee: Referee,
    world: Addr<WorldActor>,
    /// Present when the task enables the global defender.
    defender: Option<Addr<DefenderActor>>,
    recorder: Addr<RecorderActor>,
    /// Where each connected agent's replies go; the coordinator never sees a transport's type.
    sessions: HashMap<AgentId, Recipient<ToSession>>,
    /// Each connection's transport label, for events and log lines.
    peers: HashMap<AgentId, String>,
    /// Why an agent is leaving, as its transport said, until the referee lets it go.
    leaving: HashMap<AgentId, LeaveReason>,
    subscribers: Vec<Recipient<GameEvent>>,
    /// Live views: every event, steps included, best effort (see [`Watch`]).
    watchers: Vec<Recipient<WatchBatch>>,
    /// Events offered to watchers so far (the last [`Watched::seq`]).
    watch_seq: u64,
    /// Events waiting for the next delivery to watchers.
    watch_buffer: Vec<Watched>,
    /// A delivery is scheduled.
    flush_scheduled: bool,
    /// The action being stepped, kept for watchers (the referee steps one at a time).
    stepping: Option<Action>,
    /// Counters for operators, when the game keeps them.
    metrics: Option<Arc<GameMetrics>>,
    /// When each agent's pending game action arrived (with metrics only): step latency. A
    /// fast hasher: this is touched twice per step.
    arrivals: HashMap<AgentId, Instant, foldhash::fast::RandomState>,
    /// Reused effect buffer.
    effects: Vec<Effect>,
    /// [`Settle`] requests waiting for the game to be idle.
    settling: Vec<tokio::sync::oneshot::Sender<()>>,
    /// Trajectories handed to the recorder and not yet written.
    records_in_flight: usize,
    /// [`Stop`] was received: stop once every trajectory is written.
    stopping: bool,
}

/// Events kept for watchers between two deliveries; past it they are dropped (and counted).
pub const WATCH_BUFFER: usize = 2048;
/// How long events wait for the next delivery to watchers.
pub const WATCH_FLUSH: std::time::Duration = std::time::Duration::from_millis(20);

/// Trajectories a game may have waiting at its recorder. Past this, the coordinator waits
/// for the recorder before it takes the next message, so a game that plays faster than its
/// disk writes (in-process agents do) holds a bounded amount of memory, not a backlog.
pub const MAX_RECORDS_IN_FLIGHT: usize = 16;

impl Coordinator {
    pub fn new(
        referee: Referee,
        world: Addr<WorldActor>,
        defender: Option<Addr<DefenderActor>>,
        recorder: Addr<RecorderActor>,
        metrics: Option<Arc<GameMetrics>>,
    ) -> Self {
        let mut referee = referee;
        referee.set_step_events(metrics.is_some());
        Coordinator {
            referee,
            watchers: Vec::new(),
            watch_seq: 0,
            watch_buffer: Vec::new(),
            flush_scheduled: false,
            stepping: None,
            metrics,
            arrivals: HashMap::default(),
            world,
            defender,
            recorder,
            sessions: HashMap::new(),
            peers: HashMap::new(),
            leaving: HashMap::new(),
            subscribers: Vec::new(),
            effects: Vec::new(),
            settling: Vec::new(),
            records_in_flight: 0,
            stopping: false,
        }
    }

    /// Gives the referee one input and carries out what it says.
    fn feed(&mut self, input: Input, ctx: &mut Context<Self>) {
        let mut effects = std::mem::take(&mut self.effects);
        let episode = self.referee.episode();
        self.referee.handle(input, &mut effects);
        for effect in effects.drain(..) {
            self.carry_out(effect, ctx);
        }
        self.effects = effects;
        if self.referee.episode() != episode {
            self.offer(GameEvent::EpisodeStarted { episode: self.referee.episode() });
        }
        if !self.watch_buffer.is_empty() && !self.flush_scheduled {
            self.flush_scheduled = true;
            ctx.run_later(WATCH_FLUSH, |act, _| act.flush_watchers());
        }
        if let Some(m) = &self.metrics {
            GameMetrics::set(&m.connections, self.referee.connections() as u64);
            GameMetrics::set(&m.episode, self.referee.episode());
        }
        if !self.referee.is_busy() {
            for waiter in self.settling.drain(..) {
                let _ = waiter.send(());
            }
        }
    }

    fn carry_out(&mut self, effect: Effect, ctx: &mut Context<Self>) {
        match effect {
            Effect::Reply { to, reply } => {
                if reply.status() == GameStatus::BAD_REQUEST {
                    self.bad_request(to, &reply);
                }
                if let Some(session) = self.sessions.get(&to) {
                    session.do_send(ToSession::Reply(reply));
                }
            }
            Effect::Close { id } => {
                self.peers.remove(&id);
                self.leaving.remove(&id);
                if let Some(session) = self.sessions.remove(&id) {
                    session.do_send(ToSession::Close);
                }
            }
            Effect::World(request) => {
                if let WorldRequest::Step { action, .. } = &request {
                    if !self.watchers.is_empty() {
                        self.stepping = Some(action.clone());
                    }
                }
                if request.expects_answer() {
                    let answer = self.world.send(ToWorld(request));
                    ctx.spawn(answer.into_actor(self).map(|res, act, ctx| act.answered(res, ctx)));
                } else {
                    self.world.do_send(ToWorld(request));
                }
            }
            Effect::Defender(request) => {
                let Some(defender) = &self.defender else {
                    debug_assert!(!request.expects_answer(), "the referee asked a defender the task does not have");
                    return;
                };
                if request.expects_answer() {
                    let answer = defender.send(ToDefender(request));
                    ctx.spawn(answer.into_actor(self).map(|res, act, ctx| act.answered(res, ctx)));
                } else {
                    defender.do_send(ToDefender(request));
                }
            }
            Effect::Record(trajectory) => {
                self.records_in_flight += 1;
                let written = self.recorder.send(Record(trajectory)).into_actor(self).map(|_, act, ctx| {
                    act.records_in_flight -= 1;
                    if act.stopping && act.records_in_flight == 0 {
                        ctx.stop();
                    }
                });
                if self.records_in_flight >= MAX_RECORDS_IN_FLIGHT {
                    // Backpressure: no new message until this one is on disk.
                    ctx.wait(written);
                } else {
                    ctx.spawn(written);
                }
            }
            Effect::EpisodeEnded(record) => {
                if let Some(m) = &self.metrics {
                    GameMetrics::add(&m.agent_episodes, 1);
                }
                self.publish(GameEvent::EpisodeEnded(record));
            }
            Effect::StepDone(record) => self.step_done(record),
            Effect::AgentJoined { id, name, role } => {
                let peer = self.peers.get(&id).cloned().unwrap_or_default();
                self.publish(GameEvent::Joined { id, name, role, peer });
            }
            Effect::AgentLeft { id, name, quit, .. } => {
                let peer = self.peers.get(&id).cloned().unwrap_or_default();
                let told = self.leaving.get(&id).copied();
                let reason = if quit { LeaveReason::Quit } else { told.unwrap_or(LeaveReason::Disconnected) };
                self.publish(GameEvent::Left { id, name, peer, reason });
            }
        }
    }

    fn publish(&mut self, event: GameEvent) {
        self.subscribers.retain(|s| s.connected());
        for s in &self.subscribers {
            s.do_send(event.clone());
        }
        self.offer(event);
    }

    /// Keeps an event for the next delivery to watchers, or drops it when the buffer is full.
    fn offer(&mut self, event: GameEvent) {
        if self.watchers.is_empty() {
            return;
        }
        self.watch_seq += 1;
        if self.watch_buffer.len() >= WATCH_BUFFER {
            self.count_dropped(1);
            return;
        }
        self.watch_buffer.push(Watched { seq: self.watch_seq, event });
    }

    fn count_dropped(&self, n: usize) {
        if let Some(m) = &self.metrics {
            GameMetrics::add(&m.watch_dropped, n as u64);
        }
    }

    /// Hands the buffered events to the watchers that have room for them; forgets the ones
    /// that are gone.
    fn flush_watchers(&mut self) {
        self.flush_scheduled = false;
        let batch = std::mem::take(&mut self.watch_buffer);
        if batch.is_empty() {
            return;
        }
        let mut gone = false;
        let last = self.watchers.len().saturating_sub(1);
        let mut batch = Some(batch);
        for (i, w) in self.watchers.iter().enumerate() {
            // The last watcher (usually the only one) takes the batch itself.
            let events = if i == last { batch.take().unwrap_or_default() } else { batch.clone().unwrap_or_default() };
            let n = events.len();
            match w.try_send(WatchBatch(events)) {
                Ok(()) => {}
                Err(SendError::Full(_)) => self.count_dropped(n),
                Err(SendError::Closed(_)) => gone = true,
            }
        }
        if gone {
            self.watchers.retain(|w| w.connected());
            self.update_step_events();
        }
    }

    /// Step records are built while someone uses them: metrics or a watcher.
    fn update_step_events(&mut self) {
        self.referee.set_step_events(self.metrics.is_some() || !self.watchers.is_empty());
    }

    fn step_done(&mut self, record: netsecgame::game::StepRecord) {
        if let Some(m) = &self.metrics {
            GameMetrics::add(&m.steps, 1);
            if record.detected {
                GameMetrics::add(&m.detections, 1);
            }
            if let Some(arrived) = self.arrivals.remove(&record.agent) {
                m.step_latency.observe(arrived.elapsed());
            }
        }
        // A watcher that joined mid-step finds no copy of the action: it misses that one.
        if let Some(action) = self.stepping.take() {
            self.offer(GameEvent::Step(Arc::new(StepEvent { record, action })));
        }
    }

    fn bad_request(&mut self, to: AgentId, reply: &netsecgame::protocol::Reply) {
        if let Some(m) = &self.metrics {
            GameMetrics::add(&m.bad_requests, 1);
        }
        if !self.watchers.is_empty() {
            let message = match reply {
                netsecgame::protocol::Reply::BadRequest { message } => message.clone(),
                _ => "already joined".to_string(),
            };
            self.offer(GameEvent::BadRequest { id: to, message });
        }
    }

    fn answered(&mut self, answer: Result<Option<Input>, MailboxError>, ctx: &mut Context<Self>) {
        match answer {
            Ok(Some(input)) => self.feed(input, ctx),
            Ok(None) => debug_assert!(false, "an answer was expected"),
            Err(e) => {
                // The world or the defender is gone: the game cannot go on.
                tracing::error!("game stopped: the world or the defender is unavailable ({e})");
                ctx.stop();
            }
        }
    }
}

impl Actor for Coordinator {
    type Context = Context<Self>;
}

impl Handler<Connect> for Coordinator {
    type Result = Result<AgentId, String>;
    fn handle(&mut self, msg: Connect, _: &mut Context<Self>) -> Self::Result {
        if self.stopping {
            return Err("The game is over.".into());
        }
        match self.referee.connect(msg.peer.clone()) {
            Ok(id) => {
                self.sessions.insert(id, msg.session);
                self.peers.insert(id, msg.peer);
                if let Some(m) = &self.metrics {
                    GameMetrics::set(&m.connections, self.referee.connections() as u64);
                }
                Ok(id)
            }
            Err(refusal) => {
                tracing::warn!("refusing {}: {refusal}", msg.peer);
                Err(refusal)
            }
        }
    }
}

impl Handler<AgentRequest> for Coordinator {
    type Result = ();
    fn handle(&mut self, msg: AgentRequest, ctx: &mut Context<Self>) {
        if self.stopping {
            return;
        }
        if self.metrics.is_some()
            && !matches!(msg.action.action_type, ActionType::JoinGame | ActionType::QuitGame | ActionType::ResetGame)
        {
            self.arrivals.insert(msg.id, Instant::now());
        }
        self.feed(Input::Request { id: msg.id, action: msg.action }, ctx);
    }
}

impl Handler<Leave> for Coordinator {
    type Result = ();
    fn handle(&mut self, msg: Leave, ctx: &mut Context<Self>) {
        if self.stopping {
            return;
        }
        if self.sessions.contains_key(&msg.id) {
            self.leaving.insert(msg.id, msg.reason);
        }
        self.feed(Input::Leave { id: msg.id }, ctx);
    }
}

impl Handler<Subscribe> for Coordinator {
    type Result = ();
    fn handle(&mut self, msg: Subscribe, _: &mut Context<Self>) {
        self.subscribers.push(msg.0);
    }
}

impl Handler<Watch> for Coordinator {
    type Result = ();
    fn handle(&mut self, msg: Watch, _: &mut Context<Self>) {
        self.watchers.push(msg.0);
        self.update_step_events();
    }
}

impl Handler<ViewSnapshot> for Coordinator {
    type Result = ResponseActFuture<Self, GameView>;
    fn handle(&mut self, _: ViewSnapshot, _: &mut Context<Self>) -> Self::Result {
        let view = GameView {
            episode: self.referee.episode(),
            connections: self.referee.connections(),
            players: self
                .referee
                .player_views()
                .map(|p| PlayerState {
                    id: p.id,
                    name: p.name.to_string(),
                    role: p.role,
                    state: p.state.clone(),
                    status: p.episode.status,
                    steps: p.episode.steps,
                    episode_return: p.episode.episode_return,
                    detected: p.episode.detected,
                    ended: p.episode.ended,
                    blocks: p.episode.blocks,
                    false_positives: p.episode.false_positives,
                })
                .collect(),
            addresses: None,
            watch_seq: self.watch_seq,
        };
        if !self.referee.settings().task.use_dynamic_addresses {
            return Box::pin(fut::ready(view));
        }
        // The world moves addresses at resets; it alone knows the current ones. It answers
        // in order, so these are the addresses of the episode the states belong to (or newer).
        let asked = self.world.send(Addresses);
        Box::pin(asked.into_actor(self).map(move |answer, _, _| GameView { addresses: answer.ok(), ..view }))
    }
}

impl Handler<Shutdown> for Coordinator {
    type Result = usize;
    fn handle(&mut self, _: Shutdown, _: &mut Context<Self>) -> usize {
        if !self.referee.settings().task.save_trajectories {
            return 0;
        }
        let open = self.referee.open_trajectories();
        let n = open.len();
        for t in open {
            self.recorder.do_send(Record(t));
        }
        n
    }
}

impl Handler<Settle> for Coordinator {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, _: Settle, _: &mut Context<Self>) -> Self::Result {
        if !self.referee.is_busy() {
            return Box::pin(async {});
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.settling.push(tx);
        Box::pin(async move {
            let _ = rx.await;
        })
    }
}

impl Handler<Snapshot> for Coordinator {
    type Result = MessageResult<Snapshot>;
    fn handle(&mut self, _: Snapshot, _: &mut Context<Self>) -> Self::Result {
        MessageResult(GameSnapshot {
            connections: self.referee.connections(),
            players: self
                .referee
                .players()
                .map(|(id, name, role)| PlayerInfo { id, name: name.to_string(), role })
                .collect(),
            episode: self.referee.episode(),
        })
    }
}

impl Handler<Stop> for Coordinator {
    type Result = ();
    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        for (_, session) in self.sessions.drain() {
            session.do_send(ToSession::Close);
        }
        // Open episodes are written as at a shutdown; the actor goes once the recorder has
        // every trajectory (a pending send would be lost with it).
        if self.referee.settings().task.save_trajectories {
            for t in self.referee.open_trajectories() {
                self.carry_out(Effect::Record(t), ctx);
            }
        }
        self.stopping = true;
        if self.records_in_flight == 0 {
            ctx.stop();
        }
    }
}

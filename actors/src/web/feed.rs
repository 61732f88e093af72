//! A game's live feed: what the game page shows, kept up to date for every viewer of one
//! game at once.
//!
//! A [`Feed`] actor starts with a game's first viewer and stops a while after its last one
//! leaves. It watches the game ([`Watch`]): the coordinator sends it every event (steps,
//! joins, departures, episode ends, bad requests) in batches with `try_send`, into a mailbox
//! of [`MAILBOX`] batches; when the feed cannot keep up, the game drops events rather than
//! wait, and the feed notices the gap in the event numbers and catches up from a
//! [`ViewSnapshot`].
//!
//! The feed keeps the latest state of every agent and the last [`LOG_LINES`] lines of the
//! log, nothing more, so its memory is bounded whatever the game's pace. Viewers do not get
//! events one by one: each viewer's stream asks, at its own pace, for what changed since the
//! version it last saw ([`Since`]), and gets one update with the new log lines (at most
//! [`LINES_PER_UPDATE`]) and the agents that changed. A slow browser is asked less often
//! and so gets fewer, larger updates; it never makes anything wait or pile up.

use super::graph;
use super::views::{action_json, action_text, game_info, player_json};
use crate::game::messages::{GameEvent, GameView, PlayerState, StepEvent, ViewSnapshot, Watch, WatchBatch};
use crate::game::metrics::GameMetrics;
use crate::registry::{GameEntry, GameRegistry};
use actix::prelude::*;
use netsecgame::components::{AgentStatus, Ip, Network};
use netsecgame::game::EpisodeEnd;
use netsecgame::world::AgentId;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Log lines a feed keeps.
pub const LOG_LINES: usize = 1000;
/// Log lines in one update; a viewer further behind is told how many it skipped.
pub const LINES_PER_UPDATE: usize = 200;
/// Batches of events that may wait for the feed before the game starts dropping them.
pub const MAILBOX: usize = 64;
/// How long a feed outlives its last viewer (a page reload should not start over).
const LINGER: Duration = Duration::from_secs(10);
/// How often a feed checks that its game still runs.
const CHECK_EVERY: Duration = Duration::from_millis(500);

/// One line of the game log. A step's line keeps the step event itself and writes its text
/// and action out only when it is sent: most lines of a fast game are never sent (a page
/// gets at most [`LINES_PER_UPDATE`] a tick), so most cost an `Arc` and nothing more.
#[derive(Debug, Clone)]
pub struct Line {
    /// Its number in this feed (1, 2, ...).
    pub n: u64,
    /// When the feed saw it, in milliseconds since the Unix epoch.
    pub t: i64,
    pub episode: u64,
    /// `step`, `joined`, `left`, `episode_end`, `episode_start`, `bad_request`.
    pub kind: &'static str,
    pub agent: Option<AgentId>,
    pub name: Arc<str>,
    pub role: Option<&'static str>,
    /// The text of lines that are not steps.
    pub text: String,
    pub reward: Option<f64>,
    pub status: Option<&'static str>,
    pub detected: bool,
    pub ended: bool,
    /// A step's event.
    pub event: Option<Arc<StepEvent>>,
}

impl Serialize for Line {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("n", &self.n)?;
        m.serialize_entry("t", &self.t)?;
        m.serialize_entry("episode", &self.episode)?;
        m.serialize_entry("kind", self.kind)?;
        m.serialize_entry("agent", &self.agent)?;
        m.serialize_entry("name", &*self.name)?;
        m.serialize_entry("role", &self.role)?;
        match &self.event {
            Some(e) => {
                m.serialize_entry("text", &action_text(&e.action))?;
                m.serialize_entry("action", &action_json(&e.action))?;
                m.serialize_entry("step", &e.record.steps)?;
            }
            None => m.serialize_entry("text", &self.text)?,
        }
        if let Some(r) = self.reward {
            m.serialize_entry("reward", &r)?;
        }
        if let Some(st) = self.status {
            m.serialize_entry("status", st)?;
        }
        m.serialize_entry("detected", &self.detected)?;
        m.serialize_entry("ended", &self.ended)?;
        m.end()
    }
}

/// An agent as the feed knows it, with the version of its last change.
struct Agent {
    p: PlayerState,
    /// Its name, shared by its log lines.
    name: Arc<str>,
    version: u64,
    /// Its JSON at `version`, made once for every viewer.
    json: Option<(u64, Arc<Value>)>,
}

impl Agent {
    fn json(&mut self) -> Arc<Value> {
        match &self.json {
            Some((v, j)) if *v == self.version => j.clone(),
            _ => {
                let j = Arc::new(player_json(&self.p));
                self.json = Some((self.version, j.clone()));
                j
            }
        }
    }
}

/// Where a catch-up from a snapshot stands.
#[derive(PartialEq)]
enum Resync {
    Idle,
    InFlight,
    /// Another one is needed once the one in flight answers.
    Again,
}

pub struct Feed {
    entry: GameEntry,
    registry: GameRegistry,
    /// Number of the last event seen.
    seq: u64,
    /// Events up to this number are already in the last snapshot's states.
    synced_to: u64,
    version: u64,
    log: VecDeque<Line>,
    /// The time stamped on the lines of the batch being handled (one clock read a batch).
    now_ms: i64,
    next_line: u64,
    agents: BTreeMap<AgentId, Agent>,
    episode: u64,
    steps: u64,
    detections: u64,
    dropped: u64,
    addresses: Option<(Vec<Ip>, Vec<Network>)>,
    /// The graph's JSON and the version it changed at.
    graph: (u64, Arc<Value>),
    viewers: usize,
    idle_since: Option<Instant>,
    resync: Resync,
    /// The game ended (or left the registry): viewers are told, then the feed goes.
    over: bool,
    /// Whether the events being handled make log lines (see the batch handler).
    keep_lines: bool,
    feeds: Feeds,
    token: u64,
    updates: Arc<AtomicU64>,
}

impl Feed {
    fn bump(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    fn line(&mut self, mut line: Line) {
        if !self.keep_lines {
            // Pushed out of the log by later lines of the same batch: only counted.
            self.next_line += 1;
            self.bump();
            return;
        }
        line.n = self.next_line;
        line.t = self.now_ms;
        line.episode = self.episode;
        self.next_line += 1;
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(line);
        self.bump();
    }

    fn who(&self, id: AgentId) -> (Arc<str>, Option<&'static str>) {
        self.agents
            .get(&id)
            .map_or_else(|| (Arc::from(format!("agent {id}")), None), |a| (a.name.clone(), Some(a.p.role.name())))
    }

    fn blank(
        kind: &'static str,
        agent: Option<AgentId>,
        name: impl Into<Arc<str>>,
        role: Option<&'static str>,
        text: String,
    ) -> Line {
        Line {
            n: 0,
            t: 0,
            episode: 0,
            kind,
            agent,
            name: name.into(),
            role,
            text,
            reward: None,
            status: None,
            detected: false,
            ended: false,
            event: None,
        }
    }

    fn start_resync(&mut self, ctx: &mut Context<Self>) {
        match self.resync {
            Resync::Idle => {}
            Resync::InFlight | Resync::Again => {
                self.resync = Resync::Again;
                return;
            }
        }
        self.resync = Resync::InFlight;
        let asked = self.entry.coordinator.send(ViewSnapshot);
        ctx.spawn(asked.into_actor(self).map(|answer, act, ctx| {
            let again = act.resync == Resync::Again;
            act.resync = Resync::Idle;
            match answer {
                Ok(view) => act.apply(view),
                Err(_) => act.end(),
            }
            if again {
                act.start_resync(ctx);
            }
        }));
    }

    /// Takes every agent's state from a snapshot of the game.
    fn apply(&mut self, view: GameView) {
        let version = self.bump();
        self.synced_to = self.synced_to.max(view.watch_seq);
        self.episode = view.episode;
        let mut agents = BTreeMap::new();
        for p in view.players {
            let name = Arc::from(p.name.as_str());
            agents.insert(p.id, Agent { p, name, version, json: None });
        }
        self.agents = agents;
        if view.addresses.is_some() && view.addresses != self.addresses {
            self.addresses = view.addresses;
            self.graph = (version, Arc::new(graph::of_topology(&self.entry.task.topology, self.addresses.as_ref())));
        }
    }

    fn end(&mut self) {
        if !self.over {
            self.over = true;
            self.bump();
        }
    }

    fn event(&mut self, seq: u64, event: GameEvent, ctx: &mut Context<Self>) {
        // Whether this event is newer than the last snapshot (older ones are in it already).
        let fresh = seq > self.synced_to;
        match event {
            GameEvent::Step(step) => {
                let r = &step.record;
                self.steps += 1;
                if r.detected {
                    self.detections += 1;
                }
                let version = self.version + 1;
                if fresh {
                    if let Some(a) = self.agents.get_mut(&r.agent) {
                        a.p.state = r.state.clone();
                        a.p.status = r.status;
                        a.p.steps = r.steps;
                        a.p.episode_return += r.reward;
                        a.p.detected |= r.detected;
                        a.p.ended = r.ended;
                        if step.action.action_type == netsecgame::components::ActionType::BlockIP {
                            a.p.blocks += 1;
                        }
                        a.version = version;
                    }
                }
                if !self.keep_lines {
                    // No line to build (see the batch handler): counted only.
                    self.next_line += 1;
                    self.bump();
                    return;
                }
                let (name, role) = self.who(r.agent);
                let mut line = Feed::blank("step", Some(r.agent), name, role, String::new());
                line.reward = Some(r.reward);
                line.status = Some(r.status.name());
                line.detected = r.detected;
                line.ended = r.ended;
                line.event = Some(step.clone());
                self.line(line);
            }
            GameEvent::Joined { id, name, role, peer } => {
                let text = format!("joined as {} from {peer}", role.name());
                self.line(Feed::blank("joined", Some(id), name, Some(role.name()), text));
                // The event has no state: the snapshot brings it.
                self.start_resync(ctx);
            }
            GameEvent::Left { id, name, reason, .. } => {
                let role = self.agents.remove(&id).map(|a| a.p.role.name());
                self.line(Feed::blank("left", Some(id), name, role, format!("left ({reason})")));
            }
            GameEvent::EpisodeEnded(r) => {
                let outcome = match r.end {
                    EpisodeEnd::Finished(status) => status.name().to_string(),
                    EpisodeEnd::Reset => "reset before the end".into(),
                    EpisodeEnd::Left => "left".into(),
                };
                let text = format!(
                    "episode {} ended: {outcome} after {} steps, return {}{}",
                    r.episode,
                    r.steps,
                    r.episode_return,
                    if r.detected { ", detected" } else { "" }
                );
                let version = self.version + 1;
                if fresh {
                    if let Some(a) = self.agents.get_mut(&r.agent) {
                        a.p.episode_return = r.episode_return;
                        a.p.ended = true;
                        if let EpisodeEnd::Finished(status) = r.end {
                            a.p.status = status;
                        }
                        a.version = version;
                    }
                }
                let mut line = Feed::blank("episode_end", Some(r.agent), r.name.as_str(), Some(r.role.name()), text);
                line.status = Some(match r.end {
                    EpisodeEnd::Finished(s) => s.name(),
                    _ => AgentStatus::Playing.name(),
                });
                line.detected = r.detected;
                line.ended = true;
                line.reward = Some(r.episode_return);
                self.line(line);
            }
            GameEvent::EpisodeStarted { episode } => {
                self.episode = episode;
                self.line(Feed::blank(
                    "episode_start",
                    None,
                    String::new(),
                    None,
                    format!("episode {episode} started"),
                ));
                self.start_resync(ctx);
            }
            GameEvent::BadRequest { id, message } => {
                let (name, role) = self.who(id);
                let mut text: String = message.chars().take(300).collect();
                if text.len() < message.len() {
                    text.push('…');
                }
                self.line(Feed::blank("bad_request", Some(id), name, role, format!("bad request: {text}")));
            }
        }
    }

    /// The update for a viewer at `version` who has seen log lines up to `seen_line`.
    fn update_for(&mut self, since: &Since) -> Option<String> {
        if since.version == self.version {
            return None;
        }
        let full = since.version == 0;
        let first_kept = self.log.front().map_or(self.next_line, |l| l.n);
        // Lines the viewer has not seen, the newest LINES_PER_UPDATE of them.
        let unseen_from = (since.seen_line + 1).max(first_kept);
        let unseen = self.next_line.saturating_sub(unseen_from) as usize;
        let take = unseen.min(LINES_PER_UPDATE);
        let skipped = self.next_line.saturating_sub(since.seen_line + 1) - take as u64;
        let log: Vec<Line> = self.log.iter().skip(self.log.len() - take).cloned().collect();
        let agents: Vec<Arc<Value>> =
            self.agents.values_mut().filter(|a| full || a.version > since.version).map(Agent::json).collect();
        let update = Update {
            version: self.version,
            full,
            game: full.then(|| game_info(&self.entry)),
            graph: (full || self.graph.0 > since.version).then(|| self.graph.1.clone()),
            episode: self.episode,
            steps: self.steps,
            detections: self.detections,
            game_steps: self.entry.metrics.as_ref().map(|m| GameMetrics::get(&m.steps)),
            game_detections: self.entry.metrics.as_ref().map(|m| GameMetrics::get(&m.detections)),
            dropped: self.dropped,
            agent_ids: self.agents.keys().copied().collect(),
            agents,
            last_line: self.next_line - 1,
            log,
            skipped: if full { 0 } else { skipped },
            over: self.over,
        };
        self.updates.fetch_add(1, Ordering::Relaxed);
        serde_json::to_string(&update).ok()
    }
}

#[derive(Serialize)]
struct Update {
    version: u64,
    /// The first update of a viewer: everything, graph and game included.
    full: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    game: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    graph: Option<Arc<Value>>,
    episode: u64,
    /// Steps and detections this feed saw.
    steps: u64,
    detections: u64,
    /// The game's own totals, when it keeps counters.
    game_steps: Option<u64>,
    game_detections: Option<u64>,
    /// Events the feed missed because it was behind (caught up from a snapshot).
    dropped: u64,
    agent_ids: Vec<AgentId>,
    /// Agents that changed since the viewer's version (all of them when `full`).
    agents: Vec<Arc<Value>>,
    /// The number of the newest log line.
    last_line: u64,
    log: Vec<Line>,
    /// Lines the viewer will never see: it fell more than a page behind.
    skipped: u64,
    over: bool,
}

impl Actor for Feed {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(MAILBOX);
        self.entry.coordinator.do_send(Watch(ctx.address().recipient()));
        self.start_resync(ctx);
        ctx.run_interval(CHECK_EVERY, |act, ctx| {
            if !act.entry.coordinator.connected() || act.registry.get(act.entry.id).is_none() {
                act.end();
            }
            if act.viewers == 0 && act.idle_since.is_some_and(|t| t.elapsed() >= LINGER) {
                ctx.stop();
            }
        });
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.feeds.forget(self.entry.id, self.token);
    }
}

impl Handler<WatchBatch> for Feed {
    type Result = ();
    fn handle(&mut self, batch: WatchBatch, ctx: &mut Context<Self>) {
        // A batch longer than the log: its first events would be pushed out by its last ones,
        // so they update the agents and the counters but make no line.
        let keep_from = batch.0.len().saturating_sub(LOG_LINES);
        self.now_ms = jiff::Timestamp::now().as_millisecond();
        for (i, msg) in batch.0.into_iter().enumerate() {
            self.keep_lines = i >= keep_from;
            if msg.seq > self.seq + 1 && self.seq > 0 {
                // The game dropped events for us: catch up from a snapshot.
                self.dropped += msg.seq - self.seq - 1;
                self.start_resync(ctx);
            }
            self.seq = self.seq.max(msg.seq);
            self.event(msg.seq, msg.event, ctx);
        }
        self.keep_lines = true;
    }
}

/// Stream -> feed: a viewer came (`true`) or went.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Viewer(pub bool);

impl Handler<Viewer> for Feed {
    type Result = ();
    fn handle(&mut self, msg: Viewer, _: &mut Context<Self>) {
        if msg.0 {
            self.viewers += 1;
            self.idle_since = None;
        } else {
            self.viewers = self.viewers.saturating_sub(1);
            if self.viewers == 0 {
                self.idle_since = Some(Instant::now());
            }
        }
    }
}

/// Stream -> feed: what changed since `version` (0: everything), for a viewer that has seen
/// log lines up to `seen_line`. None: nothing changed.
#[derive(Message)]
#[rtype(result = "Option<(u64, u64, bool, String)>")]
pub struct Since {
    pub version: u64,
    pub seen_line: u64,
}

impl Handler<Since> for Feed {
    /// (version, last line, over, JSON)
    type Result = Option<(u64, u64, bool, String)>;
    fn handle(&mut self, msg: Since, _: &mut Context<Self>) -> Self::Result {
        let json = self.update_for(&msg)?;
        Some((self.version, self.next_line - 1, self.over, json))
    }
}

/// Game id -> (the feed's token, the feed).
type FeedMap = HashMap<u64, (u64, Addr<Feed>)>;

/// The running feeds by game id; a game has at most one, whatever the number of viewers.
#[derive(Clone, Default)]
pub struct Feeds {
    map: Arc<Mutex<FeedMap>>,
    next: Arc<AtomicU64>,
    /// Updates sent to viewers, all feeds together.
    pub updates: Arc<AtomicU64>,
}

impl Feeds {
    /// The game's feed, started on the current arbiter if it has none.
    pub fn get_or_start(&self, entry: GameEntry, registry: &GameRegistry) -> Addr<Feed> {
        let mut map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, addr)) = map.get(&entry.id) {
            if addr.connected() {
                return addr.clone();
            }
        }
        let token = self.next.fetch_add(1, Ordering::Relaxed);
        let id = entry.id;
        let graph = Arc::new(graph::of_topology(&entry.task.topology, None));
        let feed = Feed {
            entry,
            registry: registry.clone(),
            seq: 0,
            synced_to: 0,
            version: 1,
            log: VecDeque::new(),
            now_ms: 0,
            next_line: 1,
            agents: BTreeMap::new(),
            episode: 0,
            steps: 0,
            detections: 0,
            dropped: 0,
            addresses: None,
            graph: (1, graph),
            viewers: 0,
            idle_since: Some(Instant::now()),
            resync: Resync::Idle,
            over: false,
            keep_lines: true,
            feeds: self.clone(),
            token,
            updates: self.updates.clone(),
        }
        .start();
        map.insert(id, (token, feed.clone()));
        feed
    }

    fn forget(&self, id: u64, token: u64) {
        let mut map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.get(&id).is_some_and(|(t, _)| *t == token) {
            map.remove(&id);
        }
    }

    /// Feeds running now.
    pub fn len(&self) -> usize {
        self.map.lock().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

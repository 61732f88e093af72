//! Playing one match. The game runs in-process with the match's entrants: built-in ones as
//! in-process agents, external ones as programs that connect over TCP, each to a loopback
//! port of its own (so a connection is known to be its entrant's, whatever name it joins
//! with). The server is the referee: results are the game's own episode records.
//!
//! A match ends when every entrant has played its episodes, or at the first forfeit: an
//! entrant that does not start, does not join in time, joins in another role, leaves or
//! exits early, is silent past the step limit, floods the game with bad requests, or is still
//! playing at the match limit. Then everyone is stopped (nobody is left at a barrier), and
//! external programs with their whole process group.

use super::config::{Entrant, EntrantKind, Tournament};
use super::process::{describe, EntrantProcess, Placeholders};
use super::schedule::Match;
use super::store::{EpisodeRow, ForfeitRow, MatchRow};
use crate::agents::{LocalAgent, PlayPlan, Reports};
use crate::game::messages::{LeaveReason, Stop};
use crate::game::{Game, GameConfig, GameEvent};
use crate::transports::tcp::{accept_loop, ConnectionLimits, SessionSettings};
use actix::prelude::*;
use netsecgame::components::AgentStatus;
use netsecgame::game::{EpisodeEnd, GameSettings};
use netsecgame::world::AgentId;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Consecutive BAD_REQUEST replies after which an external entrant is cut off (and forfeits).
pub const MAX_BAD_REQUESTS: u32 = 50;
/// How long a stopped program gets between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// What a match needs from the tournament run.
#[derive(Clone)]
pub struct MatchContext {
    pub tournament: Arc<Tournament>,
    /// The arbiter (thread) the game and its in-process agents run on.
    pub arbiter: ArbiterHandle,
    /// The arbiter trajectory files are written on, shared by every match.
    pub io: ArbiterHandle,
    /// Entrants' logs go to `<out>/logs`, trajectories (when tasks save them) to
    /// `<out>/trajectories`.
    pub out: PathBuf,
    /// Where finished episodes go, as they finish.
    pub episodes: mpsc::UnboundedSender<EpisodeRow>,
    /// The run's live view: the match's game is registered there while it runs.
    pub live: Option<super::live::LiveTournament>,
}

/// How a match went.
#[derive(Debug, Clone)]
pub struct MatchResult {
    pub row: MatchRow,
    pub forfeits: Vec<ForfeitRow>,
    /// Episodes recorded (all entrants).
    pub episodes: u64,
}

/// What the match loop waits for.
enum MatchEvent {
    Game(GameEvent),
    Exited { entrant: usize, status: ExitStatus },
    Failed { entrant: usize, error: String },
}

/// Forwards a game's events into the match loop.
struct Tap(mpsc::UnboundedSender<MatchEvent>);

impl Actor for Tap {
    type Context = Context<Self>;
}

impl Handler<GameEvent> for Tap {
    type Result = ();
    fn handle(&mut self, e: GameEvent, _: &mut Context<Self>) {
        let _ = self.0.send(MatchEvent::Game(e));
    }
}

/// One entrant's standing in the match.
struct Seat<'a> {
    entrant: &'a Entrant,
    /// The label its connection carries (`local:<name>` or `entrant:<name>`).
    label: String,
    agent: Option<AgentId>,
    episodes: u64,
    forfeit: Option<String>,
}

/// A seed for a built-in entrant of a match: fixed by the match seed and the entrant.
fn agent_seed(match_seed: i64, entrant: usize) -> u64 {
    (match_seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (entrant as u64).wrapping_add(1).wrapping_mul(0xBF58_476D_1CE4_E5B9)
}

/// Plays one match to its end.
pub async fn play_match(m: &Match, ctx: &MatchContext) -> MatchResult {
    let t = &ctx.tournament;
    let started = Instant::now();
    let task = &t.tasks[m.task];
    let mut seats: Vec<(usize, Seat<'_>)> = m
        .entrants()
        .into_iter()
        .map(|i| {
            let e = &t.entrants[i];
            let label = if e.is_external() { format!("entrant:{}", e.name) } else { format!("local:{}", e.name) };
            (i, Seat { entrant: e, label, agent: None, episodes: 0, forfeit: None })
        })
        .collect();
    let mut game_task = (*task.task).clone();
    game_task.required_players = seats.len();
    let mut settings = GameSettings::new(Arc::new(game_task));
    settings.max_agents = seats.len() + 2;
    let mut config = GameConfig::new(settings, m.seed, ctx.out.join("trajectories").join(format!("match-{}", m.index)));
    config.io = Some(ctx.io.clone());
    config.metrics = ctx.live.is_some();
    let (tx, mut events) = mpsc::unbounded_channel();
    let Some(game) = Game::start_on(&ctx.arbiter, config).await else {
        return finish(m, t, started, seats, Some("the game could not start".into()));
    };
    game.subscribe(Tap(tx.clone()).start().recipient());
    let registered = ctx.live.as_ref().map(|live| {
        let names: Vec<&str> = seats.iter().map(|(_, s)| s.entrant.name.as_str()).collect();
        let label = format!("match {}: {} on {} (seed {})", m.index, names.join(" vs "), task.label, m.seed);
        let id = live.registry.register(label, None, &game);
        live.match_game(m.index, id);
        (live, id)
    });

    // External entrants: a port each, then their programs.
    let mut stops: Vec<oneshot::Sender<()>> = Vec::new();
    let mut programs: Vec<tokio::task::JoinHandle<()>> = Vec::new();
    for (i, seat) in seats.iter_mut() {
        match &seat.entrant.kind {
            EntrantKind::Builtin(kind) => {
                let agent = kind.create(agent_seed(m.seed, *i));
                let plan = PlayPlan::new(seat.entrant.name.clone(), t.episodes);
                let coordinator = game.coordinator.clone();
                ctx.arbiter.spawn(async move {
                    LocalAgent::new(agent, plan, coordinator, Reports::default()).start();
                });
            }
            EntrantKind::Command { .. } => {
                let listener = match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| {
                    l.set_nonblocking(true)?;
                    Ok(l)
                }) {
                    Ok(l) => l,
                    Err(e) => {
                        seat.forfeit = Some(format!("no port for it: {e}"));
                        continue;
                    }
                };
                let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
                let sessions = SessionSettings {
                    idle_timeout: Some(t.limits.step),
                    join_timeout: Some(t.limits.join),
                    max_bad_requests: Some(MAX_BAD_REQUESTS),
                    label: Some(seat.label.clone()),
                    metrics: game.metrics.clone(),
                    ..SessionSettings::default()
                };
                let limits = ConnectionLimits { max_per_ip: 0, max_connections: 1 };
                let (stop, stopped) = oneshot::channel();
                stops.push(stop);
                let coordinator = game.coordinator.clone();
                ctx.arbiter.spawn(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                    tokio::select! {
                        _ = accept_loop(listener, coordinator, sessions, limits, Vec::new()) => {}
                        _ = stopped => {}
                    }
                });
                let values = Placeholders {
                    host: "127.0.0.1",
                    port,
                    episodes: t.episodes,
                    seed: m.seed,
                    name: &seat.entrant.name,
                };
                let log = ctx.out.join("logs").join(format!("match-{}-{}.log", m.index, seat.entrant.name));
                match EntrantProcess::spawn(seat.entrant, &values, &log) {
                    Ok(mut process) => {
                        let (stop, mut stopped) = oneshot::channel::<()>();
                        stops.push(stop);
                        let (tx, entrant) = (tx.clone(), *i);
                        programs.push(actix_rt::spawn(async move {
                            tokio::select! {
                                status = process.exited() => {
                                    let _ = tx.send(MatchEvent::Exited { entrant, status });
                                    let _ = (&mut stopped).await;
                                }
                                _ = &mut stopped => {}
                            }
                            process.stop(STOP_GRACE).await;
                        }));
                    }
                    Err(e) => {
                        let _ = tx.send(MatchEvent::Failed { entrant: *i, error: format!("cannot start: {e}") });
                    }
                }
            }
        }
    }

    let join_deadline = tokio::time::sleep(t.limits.join);
    let match_deadline = tokio::time::sleep(t.limits.whole_match);
    tokio::pin!(join_deadline, match_deadline);
    let mut joins_checked = false;
    let mut recorded = 0u64;
    let mut ids: HashMap<AgentId, usize> = HashMap::new();
    loop {
        let done = seats.iter().all(|(_, s)| s.episodes >= t.episodes);
        if done || seats.iter().any(|(_, s)| s.forfeit.is_some()) {
            break;
        }
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break };
                handle_event(event, m, t, &mut seats, &mut ids, &mut recorded, ctx);
            }
            _ = &mut join_deadline, if !joins_checked => {
                joins_checked = true;
                for (_, s) in seats.iter_mut().filter(|(_, s)| s.agent.is_none() && s.forfeit.is_none()) {
                    s.forfeit = Some(format!("did not join within {} s", t.limits.join.as_secs_f64()));
                }
            }
            _ = &mut match_deadline => {
                for (_, s) in seats.iter_mut().filter(|(_, s)| s.episodes < t.episodes) {
                    s.forfeit = Some(format!(
                        "still playing at the match limit of {} s ({} of {} episodes)",
                        t.limits.whole_match.as_secs_f64(), s.episodes, t.episodes
                    ));
                }
            }
        }
    }

    // Everyone stops: the game closes every connection and in-process agent, programs go
    // with their process groups, and the ports close.
    // The game writes its open episodes and stops once they are with the recorder; then every
    // trajectory of the match is on disk before the match counts as finished.
    if let Some((live, id)) = registered {
        live.registry.remove(id);
    }
    let _ = game.coordinator.send(Stop).await;
    while game.coordinator.connected() {
        actix_rt::time::sleep(Duration::from_millis(2)).await;
    }
    let _ = game.recorder.send(crate::game::messages::Flush).await;
    for stop in stops {
        let _ = stop.send(());
    }
    for p in programs {
        let _ = p.await;
    }
    let _ = recorded;
    finish(m, t, started, seats, None)
}

fn handle_event(
    event: MatchEvent,
    m: &Match,
    t: &Tournament,
    seats: &mut [(usize, Seat<'_>)],
    ids: &mut HashMap<AgentId, usize>,
    recorded: &mut u64,
    ctx: &MatchContext,
) {
    let forfeit = |seat: &mut Seat<'_>, why: String| {
        if seat.forfeit.is_none() && seat.episodes < t.episodes {
            seat.forfeit = Some(why);
        }
    };
    match event {
        MatchEvent::Game(GameEvent::Joined { id, role, peer, .. }) => {
            let label = peer.split('@').next().unwrap_or_default();
            let Some(k) = seats.iter().position(|(_, s)| s.label == label) else { return };
            let seat = &mut seats[k].1;
            if seat.agent.is_some() {
                return forfeit(seat, "joined a second time".into());
            }
            seat.agent = Some(id);
            ids.insert(id, k);
            if role != seat.entrant.role {
                forfeit(seat, format!("joined as {}, entered as {}", role.name(), seat.entrant.role.name()));
            }
        }
        MatchEvent::Game(GameEvent::EpisodeEnded(r)) => {
            let Some(&k) = ids.get(&r.agent) else { return };
            let seat = &mut seats[k].1;
            if r.end == EpisodeEnd::Left || seat.episodes >= t.episodes || seat.forfeit.is_some() {
                return;
            }
            let end_reason = match r.end {
                EpisodeEnd::Finished(status) => status.name().to_string(),
                EpisodeEnd::Reset => "Reset".into(),
                EpisodeEnd::Left => unreachable!(),
            };
            let _ = ctx.episodes.send(EpisodeRow {
                match_id: m.index,
                entrant: seat.entrant.name.clone(),
                role: seat.entrant.role.name().into(),
                episode: seat.episodes,
                won: r.end == EpisodeEnd::Finished(AgentStatus::Success),
                end_reason,
                steps: r.steps,
                episode_return: r.episode_return,
                detected: r.detected,
                blocks: r.blocks,
                false_positives: r.false_positives,
            });
            seat.episodes += 1;
            *recorded += 1;
        }
        // Watchers' events; a subscriber never gets them.
        MatchEvent::Game(GameEvent::Step(_) | GameEvent::BadRequest { .. } | GameEvent::EpisodeStarted { .. }) => {}
        MatchEvent::Game(GameEvent::Left { id, reason, .. }) => {
            let Some(&k) = ids.get(&id) else { return };
            let seat = &mut seats[k].1;
            let why = match reason {
                LeaveReason::IdleTimeout => format!("sent no action within {} s", t.limits.step.as_secs_f64()),
                LeaveReason::BadRequests => format!("sent {MAX_BAD_REQUESTS} bad requests in a row"),
                other => format!("left ({other})"),
            };
            let played = seat.episodes;
            forfeit(seat, format!("{why} after {played} of {} episodes", t.episodes));
        }
        MatchEvent::Exited { entrant, status } => {
            let Some(seat) = seats.iter_mut().find(|(i, _)| *i == entrant).map(|(_, s)| s) else { return };
            let played = seat.episodes;
            forfeit(seat, format!("exited ({}) after {played} of {} episodes", describe(status), t.episodes));
        }
        MatchEvent::Failed { entrant, error } => {
            if let Some((_, seat)) = seats.iter_mut().find(|(i, _)| *i == entrant) {
                forfeit(seat, error);
            }
        }
    }
}

fn finish(
    m: &Match,
    t: &Tournament,
    started: Instant,
    seats: Vec<(usize, Seat<'_>)>,
    error: Option<String>,
) -> MatchResult {
    let name = |i: usize| t.entrants[i].name.clone();
    let mut forfeits: Vec<ForfeitRow> = seats
        .iter()
        .filter_map(|(_, s)| {
            s.forfeit.clone().map(|reason| ForfeitRow { match_id: m.index, entrant: s.entrant.name.clone(), reason })
        })
        .collect();
    if let Some(e) = error {
        forfeits.extend(seats.iter().map(|(_, s)| ForfeitRow {
            match_id: m.index,
            entrant: s.entrant.name.clone(),
            reason: e.clone(),
        }));
    }
    MatchResult {
        row: MatchRow {
            id: m.index,
            task: t.tasks[m.task].label.clone(),
            seed: m.seed,
            attacker: name(m.attacker),
            defender: m.defender.map(name),
            benign: m.benign.iter().map(|&i| name(i)).collect::<Vec<_>>().join(","),
            episodes: t.episodes,
            seconds: started.elapsed().as_secs_f64(),
        },
        forfeits,
        episodes: seats.iter().map(|(_, s)| s.episodes).sum(),
    }
}

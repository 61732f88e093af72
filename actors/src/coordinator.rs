//! The Coordinator actor: one per game. It owns the registry of connected agents, their
//! episode bookkeeping and trajectories, and the three barriers of the protocol, which are
//! replies parked here until their condition holds:
//!
//! * start: CREATED (and RESET_DONE) wait until `required_players` agents of any role joined;
//! * episode end: an agent's final OK waits until every agent's episode ended, then the
//!   end-of-episode rewards are assigned once and all final replies go out;
//! * reset: RESET_DONE waits until every agent asked, with seed/topology consensus; a
//!   disagreement answers BAD_REQUEST and the game goes on.
//!
//! A reset asked in mid-episode ends that agent's episode (B24); quits and disconnects leave
//! every barrier they were part of. Steps go to the world and the defender with `ctx.wait`,
//! so each step is atomic with respect to all other requests.

use crate::defender::DefenderActor;
use crate::messages::*;
use crate::recorder::RecorderActor;
use crate::world::WorldActor;
use actix::prelude::*;
use netsecgame::action::Action;
use netsecgame::components::{ActionType, AgentRole, GameState, GameStatus};
use netsecgame::episode::{any_attacker_playing, assign_end_rewards, episode_over, EpisodeAgent};
use netsecgame::protocol::{sanitize_agent_name, Reply, ResetInfo, Welcome};
use netsecgame::task::TaskConfig;
use netsecgame::trajectory::Trajectory;
use netsecgame::world::AgentId;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Settings of one game that are not in the task file.
#[derive(Debug, Clone)]
pub struct GameSettings {
    pub task: Arc<TaskConfig>,
    /// Most simultaneous connections (a separate limit from `required_players`, B2).
    pub max_agents: usize,
    /// WhiteBox mode: the `all_actions` text sent at registration.
    pub all_actions: Option<Arc<str>>,
    /// Where trajectory files go when the task saves them.
    pub trajectory_dir: PathBuf,
}

/// A reset request's parameters.
#[derive(Debug, Clone, Copy)]
struct ResetRequest {
    seed: Option<i64>,
    randomize_topology: bool,
    want_trajectory: bool,
}

/// A reply held back by a barrier.
#[derive(Debug)]
enum Parked {
    None,
    /// Reply ready (CREATED or RESET_DONE), waiting for the start condition.
    Start(Reply),
    /// The action that ended the agent's episode; the reply waits for the episode end.
    Final(Action),
    /// Waiting for every agent to ask for a reset.
    Reset(ResetRequest),
}

/// A joined agent.
struct Player {
    /// Sanitised name: shown in the welcome text, trajectories and file names.
    name: String,
    role: AgentRole,
    /// Status, steps and rewards of the current episode.
    ep: EpisodeAgent,
    /// The agent's latest state: repeated in FORBIDDEN replies and final replies.
    state: Arc<GameState>,
    /// Current goal text (it changes with the addresses after a topology change).
    goal_description: String,
    /// The current episode, for `last_trajectory` and trajectory files.
    trajectory: Trajectory,
    /// The reply a barrier holds back, if any.
    parked: Parked,
}

/// A connection.
struct Slot {
    /// Where replies go; the coordinator never sees the session type.
    session: Recipient<Deliver>,
    /// `ip:port`, for log lines.
    peer: String,
    /// None until JoinGame succeeds.
    player: Option<Player>,
}

pub struct Coordinator {
    settings: GameSettings,
    world: Addr<WorldActor>,
    /// Present when the task enables the global defender.
    defender: Option<Addr<DefenderActor>>,
    recorder: Addr<RecorderActor>,
    /// Connections by id; ids are never reused within a game.
    slots: BTreeMap<AgentId, Slot>,
    next_id: AgentId,
    /// Whether the start condition holds (cleared when players drop below the threshold, B26).
    started: bool,
    /// `configuration_hash`, shared by every registration and reset message.
    hash: Arc<str>,
}

impl Coordinator {
    pub fn new(
        settings: GameSettings,
        world: Addr<WorldActor>,
        defender: Option<Addr<DefenderActor>>,
        recorder: Addr<RecorderActor>,
    ) -> Self {
        let hash = Arc::from(settings.task.configuration_hash.as_str());
        Coordinator { settings, world, defender, recorder, slots: BTreeMap::new(), next_id: 1, started: false, hash }
    }

    fn deliver(&self, id: AgentId, reply: Reply) {
        if let Some(slot) = self.slots.get(&id) {
            slot.session.do_send(Deliver(reply));
        }
    }

    fn players(&self) -> impl Iterator<Item = &Player> {
        self.slots.values().filter_map(|s| s.player.as_ref())
    }

    fn player_mut(&mut self, id: AgentId) -> Option<&mut Player> {
        self.slots.get_mut(&id).and_then(|s| s.player.as_mut())
    }

    fn max_steps(&self, role: AgentRole) -> Option<u64> {
        self.settings.task.role(role).max_steps
    }

    fn record(&self, trajectory: Arc<Trajectory>) {
        if self.settings.task.save_trajectories {
            self.recorder.do_send(Record { dir: self.settings.trajectory_dir.clone(), trajectory });
        }
    }

    /// Releases parked CREATED/RESET_DONE replies once enough agents joined.
    fn check_start(&mut self) {
        let joined = self.players().count();
        self.started = joined >= self.settings.task.required_players;
        if !self.started {
            return;
        }
        let mut out = Vec::new();
        for (id, slot) in self.slots.iter_mut() {
            if let Some(p) = slot.player.as_mut() {
                if matches!(p.parked, Parked::Start(_)) {
                    if let Parked::Start(reply) = std::mem::replace(&mut p.parked, Parked::None) {
                        out.push((*id, reply));
                    }
                }
            }
        }
        if !out.is_empty() {
            tracing::debug!("enough players joined ({joined}); starting the episode");
        }
        for (id, reply) in out {
            self.deliver(id, reply);
        }
    }

    /// Once every agent's episode ended: end rewards (once), then all parked final replies.
    fn check_episode_end(&mut self) {
        let mut players: Vec<&mut Player> = self.slots.values_mut().filter_map(|s| s.player.as_mut()).collect();
        if players.is_empty() || !players.iter().all(|p| p.ep.ended) {
            return;
        }
        assign_end_rewards(players.iter_mut().map(|p| &mut p.ep), &self.settings.task.rewards);
        let mut out = Vec::new();
        for (id, slot) in self.slots.iter_mut() {
            let Some(p) = slot.player.as_mut() else { continue };
            if !matches!(p.parked, Parked::Final(_)) {
                continue;
            }
            let Parked::Final(action) = std::mem::replace(&mut p.parked, Parked::None) else { continue };
            p.trajectory.push(action, p.ep.reward, p.state.clone(), Some(p.ep.status));
            out.push((
                *id,
                Reply::Step {
                    status: GameStatus::OK,
                    state: p.state.clone(),
                    reward: p.ep.reward,
                    end: true,
                    info: p.ep.info(),
                },
            ));
        }
        for (id, reply) in out {
            self.deliver(id, reply);
        }
    }

    /// Once every agent asked for a reset: consensus, world reset, RESET_DONE to all.
    fn check_reset(&mut self, ctx: &mut Context<Self>) {
        let requests: Vec<(AgentId, ResetRequest)> = self
            .slots
            .iter()
            .filter_map(|(id, s)| s.player.as_ref().map(|p| (*id, &p.parked)))
            .map(|(id, parked)| match parked {
                Parked::Reset(r) => Some((id, *r)),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default();
        if requests.is_empty() {
            return;
        }
        let mut seeds: Vec<i64> = requests.iter().filter_map(|(_, r)| r.seed).collect();
        seeds.sort();
        seeds.dedup();
        let mut topo: Vec<bool> =
            requests.iter().filter(|(_, r)| r.seed.is_some()).map(|(_, r)| r.randomize_topology).collect();
        topo.sort();
        topo.dedup();
        let disagreement = if seeds.len() > 1 {
            Some(format!(
                "Agents disagree on the seed ({seeds:?}); no reset was done. Ask again with one seed, or none."
            ))
        } else if topo.len() > 1 {
            Some("Agents disagree on the topology change; no reset was done. Ask again with the same randomize_topology.".to_string())
        } else {
            None
        };
        if let Some(message) = disagreement {
            tracing::info!("reset refused: {message}");
            for (id, _) in &requests {
                if let Some(p) = self.player_mut(*id) {
                    p.parked = Parked::None;
                }
                self.deliver(*id, Reply::bad_request(message.clone()));
            }
            return;
        }
        let seed = seeds.first().copied();
        let topology_change = topo.first().copied().unwrap_or(false);
        for (id, _) in &requests {
            if let Some(p) = self.player_mut(*id) {
                p.parked = Parked::None;
            }
        }
        // Move the finished episodes out (the reset below gives every agent a new one).
        let finished: Vec<(AgentId, Arc<Trajectory>)> = self
            .slots
            .iter_mut()
            .filter_map(|(id, s)| {
                s.player.as_mut().map(|p| {
                    let fresh = Trajectory::new(&p.name, p.role, p.state.clone());
                    (*id, Arc::new(std::mem::replace(&mut p.trajectory, fresh)))
                })
            })
            .collect();
        for (_, t) in &finished {
            self.record(t.clone());
        }
        if let Some(d) = &self.defender {
            d.do_send(DefenderControl::NewEpisode { seed });
        }
        let requests: BTreeMap<AgentId, ResetRequest> = requests.into_iter().collect();
        let finished: BTreeMap<AgentId, Arc<Trajectory>> = finished.into_iter().collect();
        self.world
            .send(ResetWorld { seed, topology_change })
            .into_actor(self)
            .map(move |res, act, _| {
                let Ok(states) = res else { return };
                for (id, state, goal_description) in states {
                    let Some(role) = act.slots.get(&id).and_then(|s| s.player.as_ref()).map(|p| p.role) else {
                        continue;
                    };
                    let want = requests.get(&id).is_some_and(|r| r.want_trajectory);
                    let reply = Reply::ResetDone {
                        state: state.clone(),
                        info: ResetInfo {
                            max_steps: act.max_steps(role),
                            goal_description: goal_description.clone(),
                            configuration_hash: act.hash.clone(),
                            last_trajectory: if want { finished.get(&id).cloned() } else { None },
                        },
                    };
                    let Some(p) = act.player_mut(id) else { continue };
                    p.ep.reset();
                    p.trajectory = Trajectory::new(&p.name, p.role, state.clone());
                    p.state = state;
                    p.goal_description = goal_description;
                    p.parked = Parked::Start(reply);
                }
                act.check_start();
            })
            .wait(ctx);
    }

    fn join(&mut self, id: AgentId, action: Action, ctx: &mut Context<Self>) {
        let Some(info) = action.agent_info() else {
            return self.deliver(id, Reply::malformed("JoinGame needs parameter `agent_info`"));
        };
        let name = sanitize_agent_name(&info.name, id ^ 0x9e37_79b9);
        let role = info.role;
        self.world
            .send(AddAgent { id, role })
            .into_actor(self)
            .map(move |res, act, _| {
                let Ok((state, goal_description)) = res else { return };
                let welcome = Welcome {
                    agent_name: name.clone(),
                    role,
                    max_steps: act.max_steps(role),
                    goal_description: goal_description.clone(),
                    configuration_hash: act.hash.clone(),
                    all_actions: act.settings.all_actions.clone(),
                };
                let Some(slot) = act.slots.get_mut(&id) else {
                    // Left while joining: undo the registration.
                    act.world.do_send(RemoveAgent { id });
                    return;
                };
                tracing::info!("agent {name} ({}) registered as {role}", slot.peer);
                slot.player = Some(Player {
                    trajectory: Trajectory::new(&name, role, state.clone()),
                    name,
                    role,
                    ep: EpisodeAgent::new(role),
                    state: state.clone(),
                    goal_description,
                    parked: Parked::Start(Reply::Created { state, welcome }),
                });
                act.check_start();
            })
            .wait(ctx);
    }

    fn game_action(&mut self, id: AgentId, action: Action, ctx: &mut Context<Self>) {
        let Some(p) = self.player_mut(id) else {
            return self
                .deliver(id, Reply::bad_request("Join the game first: send JoinGame with agent_info {name, role}."));
        };
        if p.ep.ended {
            let reply = Reply::Step {
                status: GameStatus::FORBIDDEN,
                state: p.state.clone(),
                reward: p.ep.reward,
                end: true,
                info: p.ep.forbidden_info(),
            };
            return self.deliver(id, reply);
        }
        p.ep.steps += 1;
        let defender = self.defender.clone();
        let detect_action = action.clone();
        self.world
            .send(Step { id, action: action.clone() })
            .into_actor(self)
            .then(move |res, act, _| {
                let outcome = match res {
                    Ok(Ok(outcome)) => Ok(outcome),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(e) => Err(format!("world unavailable: {e}")),
                };
                let detect = match (&outcome, defender) {
                    (Ok((o, _)), Some(d)) => {
                        Some(d.send(Detect { id, action: detect_action, evaluate: !o.goal_reached }))
                    }
                    _ => None,
                };
                async move {
                    let detected = match detect {
                        Some(f) => f.await.unwrap_or(false),
                        None => false,
                    };
                    (outcome, detected)
                }
                .into_actor(act)
            })
            .map(move |(outcome, detected), act, _| act.finish_step(id, action, outcome, detected))
            .wait(ctx);
    }

    fn finish_step(
        &mut self,
        id: AgentId,
        action: Action,
        outcome: Result<(netsecgame::world::StepOutcome, Arc<GameState>), String>,
        detected: bool,
    ) {
        let (outcome, state) = match outcome {
            Ok(x) => x,
            Err(message) => {
                if let Some(p) = self.player_mut(id) {
                    p.ep.steps -= 1;
                }
                return self.deliver(id, Reply::malformed(message));
            }
        };
        let step_reward = self.settings.task.rewards.step;
        for author in &outcome.false_positive_authors {
            if let Some(p) = self.player_mut(*author) {
                p.ep.false_positives += 1;
            }
        }
        let Some(role) = self.slots.get(&id).and_then(|s| s.player.as_ref()).map(|p| p.role) else { return };
        let max_steps = self.max_steps(role);
        {
            let Some(p) = self.player_mut(id) else { return };
            p.state = state;
            p.ep.after_step(outcome.goal_reached, detected, max_steps, step_reward);
        }
        let playing = any_attacker_playing(self.players().map(|p| &p.ep));
        let Some(p) = self.player_mut(id) else { return };
        if episode_over(&p.ep, playing) {
            p.ep.ended = true;
            p.parked = Parked::Final(action);
            self.check_episode_end();
        } else {
            if p.ep.steps == netsecgame::trajectory::MAX_STEPS as u64 + 1 {
                tracing::warn!(
                    "agent {}: episode longer than {} steps; its trajectory keeps only the first ones",
                    p.name,
                    netsecgame::trajectory::MAX_STEPS
                );
            }
            p.trajectory.push(action, p.ep.reward, p.state.clone(), None);
            let reply = Reply::Step {
                status: GameStatus::OK,
                state: p.state.clone(),
                reward: p.ep.reward,
                end: false,
                info: p.ep.info(),
            };
            self.deliver(id, reply);
        }
    }

    fn reset_request(&mut self, id: AgentId, action: &Action, ctx: &mut Context<Self>) {
        let request = ResetRequest {
            seed: action.seed(),
            randomize_topology: action.randomize_topology().unwrap_or(false),
            want_trajectory: action.request_trajectory(),
        };
        let Some(p) = self.player_mut(id) else {
            return self
                .deliver(id, Reply::bad_request("Join the game first: send JoinGame with agent_info {name, role}."));
        };
        // Asking for a reset leaves the current episode (B24: no deadlock with agents that
        // already wait at the episode end).
        p.ep.ended = true;
        p.parked = Parked::Reset(request);
        self.check_episode_end();
        self.check_reset(ctx);
    }

    fn remove(&mut self, id: AgentId, ctx: &mut Context<Self>) {
        let Some(slot) = self.slots.remove(&id) else { return };
        if let Some(p) = slot.player {
            tracing::info!("agent {} ({}) left the game", p.name, slot.peer);
            if !p.trajectory.actions.is_empty() {
                self.record(Arc::new(p.trajectory));
            }
            self.world.do_send(RemoveAgent { id });
            if let Some(d) = &self.defender {
                d.do_send(DefenderControl::Remove(id));
            }
            self.started = self.players().count() >= self.settings.task.required_players;
            self.check_episode_end();
            self.check_reset(ctx);
        }
    }
}

impl Actor for Coordinator {
    type Context = Context<Self>;
}

impl Handler<Connect> for Coordinator {
    type Result = Result<AgentId, String>;
    fn handle(&mut self, msg: Connect, _: &mut Context<Self>) -> Self::Result {
        if self.slots.len() >= self.settings.max_agents {
            tracing::warn!("refusing {}: {} agents connected", msg.peer, self.slots.len());
            return Err(format!(
                "Server full: {} agents are connected (limit set by --max_agents). Try again later.",
                self.slots.len()
            ));
        }
        let id = self.next_id;
        self.next_id += 1;
        self.slots.insert(id, Slot { session: msg.session, peer: msg.peer, player: None });
        Ok(id)
    }
}

impl Handler<AgentRequest> for Coordinator {
    type Result = ();
    fn handle(&mut self, msg: AgentRequest, ctx: &mut Context<Self>) {
        let AgentRequest { id, action } = msg;
        match action.action_type {
            ActionType::JoinGame => {
                if self.slots.get(&id).is_some_and(|s| s.player.is_some()) {
                    self.deliver(id, Reply::AlreadyJoined);
                } else {
                    self.join(id, action, ctx);
                }
            }
            ActionType::QuitGame => {
                self.deliver(id, Reply::QuitAck);
                self.remove(id, ctx);
            }
            ActionType::ResetGame => self.reset_request(id, &action, ctx),
            _ => self.game_action(id, action, ctx),
        }
    }
}

impl Handler<Disconnected> for Coordinator {
    type Result = ();
    fn handle(&mut self, msg: Disconnected, ctx: &mut Context<Self>) {
        self.remove(msg.id, ctx);
    }
}

impl Handler<Shutdown> for Coordinator {
    type Result = usize;
    fn handle(&mut self, _: Shutdown, _: &mut Context<Self>) -> usize {
        let open: Vec<Arc<Trajectory>> = self
            .players()
            .filter(|p| !p.trajectory.actions.is_empty())
            .map(|p| Arc::new(p.trajectory.clone()))
            .collect();
        let n = open.len();
        for t in open {
            self.record(t);
        }
        n
    }
}

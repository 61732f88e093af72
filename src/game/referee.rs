//! The referee: the multi-agent rules of one game as a synchronous state machine.
//!
//! It owns the registry of connected agents, their episode bookkeeping and trajectories, and
//! the three barriers of the protocol, which are replies it holds back until their condition
//! holds:
//!
//! * start: CREATED and RESET_DONE wait until `required_players` agents (of any role) joined;
//! * episode end: an agent's final reply waits until every agent's episode ended; then the
//!   end-of-episode rewards are assigned, once, and all final replies go out;
//! * reset: RESET_DONE waits until every agent asked for a reset, with consensus on the seed
//!   and the topology change; a disagreement answers BAD_REQUEST and the game goes on.
//!
//! Asking for a reset in mid-episode ends that agent's episode, so nobody deadlocks waiting
//! for it at the episode end. A quit or a disconnect leaves every barrier.
//!
//! The world and the global defender are asked through [`Effect::World`] and
//! [`Effect::Defender`]; while an answer is outstanding, agent inputs wait in a backlog, so
//! every operation is atomic with respect to the others, whatever runs the effects (an actor
//! system, or [`super::LocalGame`] calling the world directly).

use super::io::{DefenderRequest, Effect, EpisodeEnd, EpisodeRecord, Input, StepRecord, WorldRequest};
use crate::action::{Action, ResetOptions};
use crate::components::{ActionType, AgentRole, GameState, GameStatus};
use crate::episode::{any_attacker_playing, assign_end_rewards, episode_over, EpisodeAgent, StepResult};
use crate::protocol::{sanitize_agent_name, Reply, ResetInfo, Welcome};
use crate::task::TaskConfig;
use crate::trajectory::Trajectory;
use crate::world::{AgentId, StepOutcome};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// Settings of one game that are not in the task file.
#[derive(Debug, Clone)]
pub struct GameSettings {
    pub task: Arc<TaskConfig>,
    /// Most simultaneous connections: a limit of its own, separate from `required_players`.
    pub max_agents: usize,
    /// WhiteBox mode: the `all_actions` text sent at registration.
    pub all_actions: Option<Arc<str>>,
    /// Bound on one episode's recorded trajectory (estimated JSON bytes).
    pub max_trajectory_bytes: usize,
}

impl GameSettings {
    /// Defaults for `task`: 1,024 connections, no WhiteBox list, 64 MiB trajectories.
    pub fn new(task: Arc<TaskConfig>) -> Self {
        GameSettings {
            task,
            max_agents: 1024,
            all_actions: None,
            max_trajectory_bytes: crate::trajectory::DEFAULT_MAX_BYTES,
        }
    }

    /// The same settings in WhiteBox mode (every action listed at registration).
    pub fn whitebox(mut self) -> Self {
        self.all_actions = Some(Arc::from(crate::whitebox::all_actions_json(&self.task.topology)));
        self
    }
}

/// A reply held back by a barrier.
#[derive(Debug)]
enum Parked {
    /// Reply ready (CREATED or RESET_DONE), waiting for the start condition.
    Start(Reply),
    /// The action that ended the agent's episode; its reply waits for the episode end.
    Final(Action),
    /// Waiting for every agent to ask for a reset.
    Reset(ResetOptions),
}

/// A joined agent.
#[derive(Debug)]
struct Player {
    /// Sanitised name: shown in the welcome text, trajectories and file names.
    name: String,
    role: AgentRole,
    /// Status, steps and rewards of the current episode.
    ep: EpisodeAgent,
    /// The agent's latest state: repeated in FORBIDDEN replies and final replies.
    state: Arc<GameState>,
    /// The current episode, for `last_trajectory` and trajectory files.
    trajectory: Trajectory,
    /// The reply a barrier holds back, if any.
    parked: Option<Parked>,
    /// This episode's record was emitted (an agent leaving after the end is not recorded twice).
    recorded: bool,
}

/// A connection.
#[derive(Debug)]
struct Slot {
    /// `ip:port` or another transport's label, for log lines.
    peer: String,
    /// None until JoinGame succeeds.
    player: Option<Player>,
}

/// The world or defender operation in flight.
#[derive(Debug)]
enum Busy {
    Joining { id: AgentId, name: String, role: AgentRole },
    Stepping,
    Detecting { outcome: StepOutcome, state: Arc<GameState> },
    Resetting { requests: BTreeMap<AgentId, ResetOptions>, finished: BTreeMap<AgentId, Arc<Trajectory>> },
}

/// The rules of one game. See the module documentation.
#[derive(Debug)]
pub struct Referee {
    settings: GameSettings,
    /// Connections by id; ids are never reused within a game.
    slots: BTreeMap<AgentId, Slot>,
    next_id: AgentId,
    /// `configuration_hash`, shared by every registration and reset message.
    hash: Arc<str>,
    /// The operation whose answer is awaited; agent inputs wait in `backlog` meanwhile.
    busy: Option<Busy>,
    backlog: VecDeque<Input>,
    /// Episodes started so far, minus one: the number of the current episode.
    episode: u64,
    /// Emit [`Effect::StepDone`] for every processed game action.
    step_events: bool,
}

/// A joined agent as onlookers see it (live views, metrics): read-only.
#[derive(Debug, Clone, Copy)]
pub struct PlayerView<'a> {
    pub id: AgentId,
    pub name: &'a str,
    pub role: AgentRole,
    /// The agent's latest state.
    pub state: &'a Arc<GameState>,
    /// Its current episode: status, steps, return, detection.
    pub episode: &'a EpisodeAgent,
}

const JOIN_FIRST: &str = "Join the game first: send JoinGame with agent_info {name, role}.";

impl Referee {
    pub fn new(settings: GameSettings) -> Self {
        let hash = Arc::from(settings.task.configuration_hash.as_str());
        Referee {
            settings,
            slots: BTreeMap::new(),
            next_id: 1,
            hash,
            busy: None,
            backlog: VecDeque::new(),
            episode: 0,
            step_events: false,
        }
    }

    pub fn settings(&self) -> &GameSettings {
        &self.settings
    }

    /// Admits a new connection, or says why not.
    pub fn connect(&mut self, peer: impl Into<String>) -> Result<AgentId, String> {
        if self.slots.len() >= self.settings.max_agents {
            return Err(format!(
                "Server full: {} agents are connected (limit set by --max_agents). Try again later.",
                self.slots.len()
            ));
        }
        let id = self.next_id;
        self.next_id += 1;
        self.slots.insert(id, Slot { peer: peer.into(), player: None });
        Ok(id)
    }

    /// Connections, joined or not.
    pub fn connections(&self) -> usize {
        self.slots.len()
    }

    /// Joined agents: id, name and role.
    pub fn players(&self) -> impl Iterator<Item = (AgentId, &str, AgentRole)> {
        self.slots.iter().filter_map(|(id, s)| s.player.as_ref().map(|p| (*id, p.name.as_str(), p.role)))
    }

    /// Joined agents with their latest state and episode, for onlookers.
    pub fn player_views(&self) -> impl Iterator<Item = PlayerView<'_>> {
        self.slots.iter().filter_map(|(id, s)| {
            s.player.as_ref().map(|p| PlayerView {
                id: *id,
                name: &p.name,
                role: p.role,
                state: &p.state,
                episode: &p.ep,
            })
        })
    }

    /// Turns [`Effect::StepDone`] on or off. Off by default: a runtime turns it on only while
    /// someone (a live view, metrics) uses it, so an unwatched game builds no step records.
    pub fn set_step_events(&mut self, on: bool) {
        self.step_events = on;
    }

    /// A joined agent's latest state.
    pub fn state_of(&self, id: AgentId) -> Option<&Arc<GameState>> {
        self.player(id).map(|p| &p.state)
    }

    /// The number of the current episode (0 for the first).
    pub fn episode(&self) -> u64 {
        self.episode
    }

    /// True while a world or defender answer is awaited.
    pub fn is_busy(&self) -> bool {
        self.busy.is_some()
    }

    /// Reacts to one input, appending what must happen to `out`.
    pub fn handle(&mut self, input: Input, out: &mut Vec<Effect>) {
        match input {
            Input::Request { .. } | Input::Leave { .. } => {
                if self.busy.is_some() {
                    self.backlog.push_back(input);
                    return;
                }
                self.agent_input(input, out);
            }
            Input::Joined { id, state, goal_description } => self.joined(id, state, goal_description, out),
            Input::Stepped { id, action, result } => self.stepped(id, action, result, out),
            Input::Detected { id, action, detected } => self.detected(id, action, detected, out),
            Input::WorldReset { states } => self.world_reset(states, out),
        }
        while self.busy.is_none() {
            let Some(next) = self.backlog.pop_front() else { break };
            self.agent_input(next, out);
        }
    }

    /// Every open episode's trajectory (the final action of agents parked at the episode end
    /// included), for writing at shutdown.
    pub fn open_trajectories(&self) -> Vec<Arc<Trajectory>> {
        self.slots
            .values()
            .filter_map(|s| s.player.as_ref())
            .filter_map(|p| {
                let mut t = p.trajectory.clone();
                if let Some(Parked::Final(action)) = &p.parked {
                    t.push(action.clone(), p.ep.reward, p.state.clone(), Some(p.ep.status));
                }
                (!t.actions.is_empty()).then(|| Arc::new(t))
            })
            .collect()
    }

    fn player(&self, id: AgentId) -> Option<&Player> {
        self.slots.get(&id).and_then(|s| s.player.as_ref())
    }

    fn player_mut(&mut self, id: AgentId) -> Option<&mut Player> {
        self.slots.get_mut(&id).and_then(|s| s.player.as_mut())
    }

    fn max_steps(&self, role: AgentRole) -> Option<u64> {
        self.settings.task.role(role).max_steps
    }

    fn record(&self, trajectory: Arc<Trajectory>, out: &mut Vec<Effect>) {
        if self.settings.task.save_trajectories {
            out.push(Effect::Record(trajectory));
        }
    }

    fn agent_input(&mut self, input: Input, out: &mut Vec<Effect>) {
        match input {
            Input::Request { id, action } => self.request(id, action, out),
            Input::Leave { id } => self.remove(id, false, out),
            _ => unreachable!("only agent inputs are backlogged"),
        }
    }

    fn request(&mut self, id: AgentId, action: Action, out: &mut Vec<Effect>) {
        if !self.slots.contains_key(&id) {
            // Left already (its departure was processed first); nothing to answer.
            return;
        }
        match action.action_type {
            ActionType::JoinGame => self.join(id, action, out),
            ActionType::QuitGame => {
                out.push(Effect::Reply { to: id, reply: Reply::QuitAck });
                out.push(Effect::Close { id });
                self.remove(id, true, out);
            }
            ActionType::ResetGame => self.reset_request(id, action.reset_options(), out),
            _ => self.game_action(id, action, out),
        }
    }

    fn join(&mut self, id: AgentId, action: Action, out: &mut Vec<Effect>) {
        if self.player(id).is_some() {
            return out.push(Effect::Reply { to: id, reply: Reply::AlreadyJoined });
        }
        let Some(info) = action.agent_info() else {
            return out
                .push(Effect::Reply { to: id, reply: Reply::malformed("JoinGame needs parameter `agent_info`") });
        };
        let name = sanitize_agent_name(&info.name, id ^ 0x9e37_79b9);
        self.busy = Some(Busy::Joining { id, name, role: info.role });
        out.push(Effect::World(WorldRequest::Add { id, role: info.role }));
    }

    fn joined(&mut self, id: AgentId, state: Arc<GameState>, goal_description: String, out: &mut Vec<Effect>) {
        let Some(Busy::Joining { id: joining, name, role }) = self.busy.take() else {
            debug_assert!(false, "Joined without a join in flight");
            return;
        };
        debug_assert_eq!(id, joining);
        let welcome = Welcome {
            agent_name: name.clone(),
            role,
            max_steps: self.max_steps(role),
            goal_description,
            configuration_hash: self.hash.clone(),
            all_actions: self.settings.all_actions.clone(),
        };
        let trajectory = Trajectory::bounded(&name, role, state.clone(), self.settings.max_trajectory_bytes);
        let Some(slot) = self.slots.get_mut(&id) else {
            // Cannot happen (departures wait in the backlog), but never leave the world with
            // an agent the referee does not know.
            return out.push(Effect::World(WorldRequest::Remove { id }));
        };
        tracing::info!("agent {name} ({}) registered as {role}", slot.peer);
        out.push(Effect::AgentJoined { id, name: name.clone(), role });
        slot.player = Some(Player {
            trajectory,
            name,
            role,
            ep: EpisodeAgent::new(role),
            state: state.clone(),
            parked: Some(Parked::Start(Reply::Created { state, welcome })),
            recorded: false,
        });
        self.check_start(out);
    }

    fn game_action(&mut self, id: AgentId, action: Action, out: &mut Vec<Effect>) {
        let Some(p) = self.player_mut(id) else {
            return out.push(Effect::Reply { to: id, reply: Reply::bad_request(JOIN_FIRST) });
        };
        if p.ep.ended {
            let reply = Reply::Step {
                status: GameStatus::FORBIDDEN,
                state: p.state.clone(),
                reward: p.ep.reward,
                end: true,
                info: p.ep.forbidden_info(),
            };
            return out.push(Effect::Reply { to: id, reply });
        }
        p.ep.steps += 1;
        self.busy = Some(Busy::Stepping);
        out.push(Effect::World(WorldRequest::Step { id, action }));
    }

    fn stepped(
        &mut self,
        id: AgentId,
        action: Action,
        result: Result<(StepOutcome, Arc<GameState>), crate::world::StepError>,
        out: &mut Vec<Effect>,
    ) {
        debug_assert!(matches!(self.busy, Some(Busy::Stepping)), "Stepped without a step in flight");
        self.busy = None;
        let (outcome, state) = match result {
            Ok(x) => x,
            Err(e) => {
                if let Some(p) = self.player_mut(id) {
                    p.ep.steps -= 1;
                }
                return out.push(Effect::Reply { to: id, reply: Reply::malformed(e) });
            }
        };
        if self.settings.task.use_global_defender {
            let evaluate = !outcome.goal_reached;
            self.busy = Some(Busy::Detecting { outcome, state });
            out.push(Effect::Defender(DefenderRequest::Detect { id, action, evaluate }));
        } else {
            self.finish_step(id, action, outcome, state, false, out);
        }
    }

    fn detected(&mut self, id: AgentId, action: Action, detected: bool, out: &mut Vec<Effect>) {
        let Some(Busy::Detecting { outcome, state }) = self.busy.take() else {
            debug_assert!(false, "Detected without a detection in flight");
            return;
        };
        self.finish_step(id, action, outcome, state, detected, out);
    }

    fn finish_step(
        &mut self,
        id: AgentId,
        action: Action,
        outcome: StepOutcome,
        state: Arc<GameState>,
        detected: bool,
        out: &mut Vec<Effect>,
    ) {
        let step_reward = self.settings.task.rewards.step;
        for author in &outcome.false_positive_authors {
            if let Some(p) = self.player_mut(*author) {
                p.ep.false_positives += 1;
            }
        }
        let Some(role) = self.player(id).map(|p| p.role) else { return };
        let max_steps = self.max_steps(role);
        let result = StepResult { goal_reached: outcome.goal_reached, detected };
        {
            let Some(p) = self.player_mut(id) else { return };
            p.state = state;
            p.ep.after_step(result, max_steps, step_reward);
            if action.action_type == ActionType::BlockIP {
                p.ep.blocks += 1;
            }
        }
        let playing = any_attacker_playing(self.slots.values().filter_map(|s| s.player.as_ref()).map(|p| &p.ep));
        let episode = self.episode;
        let step_events = self.step_events;
        let Some(p) = self.player_mut(id) else { return };
        let over = episode_over(&p.ep, playing);
        if step_events {
            out.push(Effect::StepDone(StepRecord {
                agent: id,
                episode,
                steps: p.ep.steps,
                reward: p.ep.reward.as_f64(),
                status: p.ep.status,
                goal_reached: outcome.goal_reached,
                detected,
                ended: over,
                state: p.state.clone(),
            }));
        }
        if over {
            p.ep.ended = true;
            p.parked = Some(Parked::Final(action));
            self.check_episode_end(out);
        } else {
            p.trajectory.push(action, p.ep.reward, p.state.clone(), None);
            p.ep.episode_return += p.ep.reward.as_f64();
            let reply = Reply::Step {
                status: GameStatus::OK,
                state: p.state.clone(),
                reward: p.ep.reward,
                end: false,
                info: p.ep.info(),
            };
            out.push(Effect::Reply { to: id, reply });
        }
    }

    fn reset_request(&mut self, id: AgentId, options: ResetOptions, out: &mut Vec<Effect>) {
        let Some(p) = self.player_mut(id) else {
            return out.push(Effect::Reply { to: id, reply: Reply::bad_request(JOIN_FIRST) });
        };
        // Asking for a reset leaves the current episode, so agents already waiting at the
        // episode end are not held forever by this one.
        p.ep.ended = true;
        p.parked = Some(Parked::Reset(options));
        self.check_episode_end(out);
        self.check_reset(out);
    }

    /// Releases parked CREATED and RESET_DONE replies once enough agents joined.
    fn check_start(&mut self, out: &mut Vec<Effect>) {
        let joined = self.slots.values().filter(|s| s.player.is_some()).count();
        if joined < self.settings.task.required_players {
            return;
        }
        for (id, slot) in self.slots.iter_mut() {
            let Some(p) = slot.player.as_mut() else { continue };
            if matches!(p.parked, Some(Parked::Start(_))) {
                if let Some(Parked::Start(reply)) = p.parked.take() {
                    out.push(Effect::Reply { to: *id, reply });
                }
            }
        }
    }

    /// Once every agent's episode ended: end rewards (once), records, then every parked final
    /// reply.
    fn check_episode_end(&mut self, out: &mut Vec<Effect>) {
        let mut players: Vec<&mut Player> = self.slots.values_mut().filter_map(|s| s.player.as_mut()).collect();
        if players.is_empty() || !players.iter().all(|p| p.ep.ended) {
            return;
        }
        let before: Vec<bool> = players.iter().map(|p| p.ep.rewarded).collect();
        assign_end_rewards(players.iter_mut().map(|p| &mut p.ep), &self.settings.task.rewards);
        for (p, was_rewarded) in players.iter_mut().zip(before) {
            if !was_rewarded && matches!(p.parked, Some(Parked::Final(_))) {
                // The end reward travels with the final reply.
                let end_reward = p.ep.reward.as_f64();
                p.ep.episode_return += end_reward;
            }
        }
        let episode = self.episode;
        for (id, slot) in self.slots.iter_mut() {
            let Some(p) = slot.player.as_mut() else { continue };
            if !p.recorded {
                p.recorded = true;
                let end = match (&p.parked, p.ep.status) {
                    // Asked for a reset before its episode had an outcome (defenders always have
                    // one by now: the end rewards just gave it).
                    (Some(Parked::Reset(_)), status) if !status.is_terminal() => EpisodeEnd::Reset,
                    (_, status) => EpisodeEnd::Finished(status),
                };
                out.push(Effect::EpisodeEnded(record_of(*id, p, episode, end)));
            }
            if !matches!(p.parked, Some(Parked::Final(_))) {
                continue;
            }
            let Some(Parked::Final(action)) = p.parked.take() else { continue };
            p.trajectory.push(action, p.ep.reward, p.state.clone(), Some(p.ep.status));
            let reply = Reply::Step {
                status: GameStatus::OK,
                state: p.state.clone(),
                reward: p.ep.reward,
                end: true,
                info: p.ep.info(),
            };
            out.push(Effect::Reply { to: *id, reply });
        }
    }

    /// Once every agent asked for a reset: consensus, then a world reset.
    fn check_reset(&mut self, out: &mut Vec<Effect>) {
        let mut requests = BTreeMap::new();
        for (id, slot) in &self.slots {
            let Some(p) = &slot.player else { continue };
            let Some(Parked::Reset(options)) = &p.parked else { return };
            requests.insert(*id, *options);
        }
        if requests.is_empty() {
            return;
        }
        let mut seeds: Vec<i64> = requests.values().filter_map(|r| r.seed).collect();
        seeds.sort_unstable();
        seeds.dedup();
        // Only agents that name a seed vote on the topology change: it needs a seed anyway.
        let mut topo: Vec<bool> =
            requests.values().filter(|r| r.seed.is_some()).map(|r| r.randomize_topology).collect();
        topo.sort_unstable();
        topo.dedup();
        let disagreement = if seeds.len() > 1 {
            Some(format!(
                "Agents disagree on the seed ({seeds:?}); no reset was done. Ask again with one seed, or none."
            ))
        } else if topo.len() > 1 {
            Some(
                "Agents disagree on the topology change; no reset was done. Ask again with the same randomize_topology."
                    .to_string(),
            )
        } else {
            None
        };
        if let Some(message) = disagreement {
            tracing::info!("reset refused: {message}");
            for id in requests.keys() {
                if let Some(p) = self.player_mut(*id) {
                    p.parked = None;
                }
                out.push(Effect::Reply { to: *id, reply: Reply::bad_request(message.clone()) });
            }
            return;
        }
        let seed = seeds.first().copied();
        let topology_change = topo.first().copied().unwrap_or(false);
        let mut finished = BTreeMap::new();
        for (id, slot) in self.slots.iter_mut() {
            let Some(p) = slot.player.as_mut() else { continue };
            p.parked = None;
            // Move the finished episode out; the world reset gives every agent a new one.
            let fresh = p.trajectory.restart(p.state.clone());
            finished.insert(*id, Arc::new(std::mem::replace(&mut p.trajectory, fresh)));
        }
        for t in finished.values() {
            self.record(t.clone(), out);
        }
        out.push(Effect::Defender(DefenderRequest::NewEpisode { seed }));
        self.busy = Some(Busy::Resetting { requests, finished });
        out.push(Effect::World(WorldRequest::Reset { seed, topology_change }));
    }

    fn world_reset(&mut self, states: Vec<(AgentId, Arc<GameState>, String)>, out: &mut Vec<Effect>) {
        let Some(Busy::Resetting { requests, finished }) = self.busy.take() else {
            debug_assert!(false, "WorldReset without a reset in flight");
            return;
        };
        self.episode += 1;
        for (id, state, goal_description) in states {
            let Some(role) = self.player(id).map(|p| p.role) else { continue };
            let want = requests.get(&id).is_some_and(|r| r.request_trajectory);
            let reply = Reply::ResetDone {
                state: state.clone(),
                info: ResetInfo {
                    max_steps: self.max_steps(role),
                    goal_description,
                    configuration_hash: self.hash.clone(),
                    last_trajectory: if want { finished.get(&id).cloned() } else { None },
                },
            };
            let Some(p) = self.player_mut(id) else { continue };
            p.ep.reset();
            p.recorded = false;
            p.trajectory = p.trajectory.restart(state.clone());
            p.state = state;
            p.parked = Some(Parked::Start(reply));
        }
        self.check_start(out);
    }

    /// Takes an agent out of the game (`quit`: it asked to, with QuitGame).
    fn remove(&mut self, id: AgentId, quit: bool, out: &mut Vec<Effect>) {
        let Some(slot) = self.slots.remove(&id) else { return };
        let Some(mut p) = slot.player else {
            return out.push(Effect::Close { id });
        };
        tracing::info!("agent {} ({}) left the game", p.name, slot.peer);
        out.push(Effect::AgentLeft { id, name: p.name.clone(), role: p.role, quit });
        out.push(Effect::Close { id });
        if let Some(Parked::Final(action)) = p.parked.take() {
            // Its final step was applied; keep it in the record even though no reply went out.
            p.trajectory.push(action, p.ep.reward, p.state.clone(), Some(p.ep.status));
        }
        if !p.recorded && p.ep.steps > 0 {
            let end = if p.ep.status.is_terminal() { EpisodeEnd::Finished(p.ep.status) } else { EpisodeEnd::Left };
            out.push(Effect::EpisodeEnded(record_of(id, &p, self.episode, end)));
        }
        if !p.trajectory.actions.is_empty() {
            self.record(Arc::new(p.trajectory), out);
        }
        out.push(Effect::World(WorldRequest::Remove { id }));
        out.push(Effect::Defender(DefenderRequest::Remove { id }));
        self.check_episode_end(out);
        self.check_reset(out);
    }
}

fn record_of(id: AgentId, p: &Player, episode: u64, end: EpisodeEnd) -> EpisodeRecord {
    EpisodeRecord {
        agent: id,
        name: p.name.clone(),
        role: p.role,
        episode,
        end,
        steps: p.ep.steps,
        episode_return: p.ep.episode_return,
        detected: p.ep.detected,
        blocks: p.ep.blocks,
        false_positives: p.ep.false_positives,
    }
}

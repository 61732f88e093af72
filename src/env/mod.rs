//! In-process environments: the game as learning code steps it, with no server.
//!
//! [`SyncGame`] is one game run synchronously by direct calls (the referee's rules, the world
//! and the global defender, with no actors, sockets or JSON). [`Env`] is what a Gymnasium
//! environment steps: one learning agent's seat in a [`SyncGame`], actions chosen by index
//! from the fixed WhiteBox list ([`ActionSpace`]), with the valid-action mask and the
//! observation encodings of [`observe`], and optional built-in opponents in the other seats.
//! [`Table`] is what a `PettingZoo` environment steps: every seat a learning agent.
//! The Python bindings (`crate::python`, feature `python`) wrap these; everything here is
//! plain Rust and tested without Python.
//!
//! Simultaneous moves: agents move in role order, Attacker, then Defender, then Benign (one
//! agent per role). Each sees the world as the agents before it in that round left it. With
//! the attacker first, an attacker's goal, detection or timeout ends every agent's episode in
//! the same round (the others' episodes end with their move in that round, as the server's
//! episode-end barrier has it).

pub mod game;
pub mod observe;
pub mod space;

pub use game::{Move, Reply, Seat, SyncGame};
pub use space::{ActionSpace, MaskScratch};

use crate::agents::{Agent, BuiltinAgent, EpisodeInfo, Observation};
use crate::components::{AgentRole, AgentStatus, GameState};
use crate::scenario::{embedded_names, Topology};
use crate::task::{BlockSpec, HostSpec, TaskConfig};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// What went wrong, in words a user can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EnvError {
    #[error("`{0}` is neither a task file nor an embedded scenario (embedded scenarios: {1})")]
    UnknownTask(String, String),
    #[error("{0}")]
    BadTask(String),
    #[error("unknown role `{0}` (expected Attacker, Defender or Benign)")]
    UnknownRole(String),
    #[error("{0}")]
    BadConfig(String),
    #[error("action {index} is out of range: this environment has {len} actions (0..{len})")]
    ActionOutOfRange { index: i64, len: usize },
    #[error("the episode is over: call reset() before stepping again")]
    EpisodeOver,
    #[error("call reset() before the first step")]
    NotReset,
    #[error("{0}")]
    Game(String),
}

/// The task for `task_or_scenario`: a task file (YAML path), or the name of an embedded
/// scenario. A scenario name gets a default task: on `two_networks_tiny`, the embedded
/// default task (exfiltrate `DataFromServer1` to the C&C host within 50 steps); on another
/// scenario, an attacker starting on a random start host that must control every private
/// host within 100 steps (defender: block every attacker). Either way with the task's
/// rewards (success 100, step -1, fail -10, false positive -5) and the global defender on.
pub fn load_task(task_or_scenario: &str) -> Result<TaskConfig, EnvError> {
    let path = Path::new(task_or_scenario);
    if path.is_file() {
        return TaskConfig::load(path).map_err(|e| EnvError::BadTask(e.to_string()));
    }
    if !embedded_names().contains(&task_or_scenario) {
        let looks_like_file = task_or_scenario.ends_with(".yaml") || task_or_scenario.ends_with(".yml");
        if looks_like_file {
            return Err(EnvError::BadTask(format!("task file `{task_or_scenario}` does not exist")));
        }
        return Err(EnvError::UnknownTask(task_or_scenario.to_string(), embedded_names().join(", ")));
    }
    let mut task = TaskConfig::default_task();
    if task_or_scenario != task.topology.name {
        let topology = Topology::load(task_or_scenario, None).map_err(|e| EnvError::BadTask(e.to_string()))?;
        task.attacker.start = Default::default();
        task.attacker.start.controlled_hosts = vec![HostSpec::Random];
        task.attacker.goal = Default::default();
        task.attacker.goal.controlled_hosts = vec![HostSpec::AllLocal];
        task.attacker.goal_description = "Control every private host".into();
        task.defender.goal = Default::default();
        if let Some((ip, _)) = topology.ips.iter().find(|(ip, _)| !ip.is_private()) {
            task.defender.goal.known_blocks = vec![(*ip, BlockSpec::AllAttackers)];
        }
        task.topology = Arc::new(topology);
        task.attacker.max_steps = Some(100);
        task.defender.max_steps = Some(100);
        task.origin = format!("embedded scenario {task_or_scenario}");
    }
    task.use_global_defender = true;
    Ok(task)
}

/// The roles of a game's seats, in the order they move: Attacker, Defender, Benign.
pub fn seat_order(roles: &mut [AgentRole]) {
    roles.sort_by_key(|r| AgentRole::ALL.iter().position(|x| x == r));
}

/// One step of the learning agent, as Gymnasium reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition {
    /// The reward of the agent's reply (the end reward included on the last step).
    pub reward: f64,
    /// The episode ended by a goal or a detection (the agent's own, or for defenders and
    /// benign agents, an attacker's).
    pub terminated: bool,
    /// The episode ended by a step limit.
    pub truncated: bool,
    /// The action was in the mask (otherwise it was a no-op).
    pub valid: bool,
    /// The agent's status after the step.
    pub status: AgentStatus,
}

/// How many rounds opponents may play on alone after the learning agent's episode ended
/// (a task whose attacker has no step limit could otherwise run forever).
pub const MAX_ROUNDS_ALONE: u64 = 1_000_000;

/// A built-in agent in a seat: its seat, its kind (to recreate it on a seeded reset), the agent.
type Opponent = (usize, BuiltinAgent, Mutex<Box<dyn Agent>>);

/// A learning agent's seat in a game, with built-in opponents in the other seats. See the
/// module documentation.
pub struct Env {
    game: SyncGame,
    space: Arc<ActionSpace>,
    /// The learning agent's seat.
    me: usize,
    with_blocks: bool,
    /// Opponents by seat. Behind a mutex only so that an `Env` is `Sync` (Python objects must
    /// be); it is never contended, `&mut self` is needed to play.
    opponents: Vec<Opponent>,
    /// The seed of the current game or episode, from which opponents are seeded.
    seed: i64,
    started: bool,
    done: bool,
    /// The learning agent's mask for its current state, computed once per state (stepping,
    /// observing and sampling all read it).
    mask: Vec<bool>,
    /// Set bits of `mask`.
    mask_count: usize,
    scratch: MaskScratch,
    /// Position in a vector of environments (reset seeds are offset by it).
    vector_index: usize,
}

impl Env {
    /// An environment for `role` in `task`, seeded with `seed` (the server's `--seed`), with
    /// a built-in agent in each seat of `opponents`. The task's `required_players` is not
    /// used: the table is exactly the learning agent and its opponents.
    pub fn new(
        task: Arc<TaskConfig>,
        space: Arc<ActionSpace>,
        role: AgentRole,
        opponents: &[BuiltinAgent],
        seed: i64,
    ) -> Result<Env, EnvError> {
        let mut roles = vec![role];
        for o in opponents {
            if roles.contains(&o.role()) {
                return Err(EnvError::BadConfig(format!(
                    "two agents for the role {}: one agent per role (the learning agent plays {})",
                    o.role().name(),
                    role.name()
                )));
            }
            roles.push(o.role());
        }
        if !roles.contains(&AgentRole::Attacker) {
            return Err(EnvError::BadConfig(format!(
                "a {} needs an attacker to play against: add one, e.g. opponents={{\"Attacker\": \"random_attacker\"}}",
                role.name()
            )));
        }
        seat_order(&mut roles);
        let me = roles.iter().position(|r| *r == role).expect("the learning agent has a seat");
        let game = SyncGame::new(task, &roles, seed);
        let opponents = opponents
            .iter()
            .map(|o| {
                let seat = roles.iter().position(|r| *r == o.role()).expect("seated");
                (seat, *o, Mutex::new(o.create(opponent_seed(seed, seat))))
            })
            .collect();
        let mut env = Env {
            mask: vec![false; space.len()],
            mask_count: 0,
            scratch: MaskScratch::default(),
            game,
            space,
            me,
            with_blocks: ActionSpace::blocks_for(role),
            opponents,
            seed,
            started: false,
            done: false,
            vector_index: 0,
        };
        env.refresh_mask();
        Ok(env)
    }

    /// Recomputes the cached mask after the learning agent's state changed.
    fn refresh_mask(&mut self) {
        let state = self.game.state(self.me);
        self.mask_count = self.space.mask_with(state, self.with_blocks, &mut self.mask, &mut self.scratch);
    }

    /// The learning agent's valid-action mask (for its current state).
    pub fn mask(&self) -> &[bool] {
        &self.mask
    }

    /// The number of valid actions now.
    pub fn valid_count(&self) -> usize {
        self.mask_count
    }

    /// The same environment as game `index` of a vector.
    pub fn with_vector_index(mut self, index: usize) -> Env {
        self.vector_index = index;
        self
    }

    pub fn vector_index(&self) -> usize {
        self.vector_index
    }

    pub fn space(&self) -> &Arc<ActionSpace> {
        &self.space
    }

    pub fn game(&self) -> &SyncGame {
        &self.game
    }

    pub fn role(&self) -> AgentRole {
        self.game.seat(self.me).role
    }

    /// The learning agent's state.
    pub fn state(&self) -> &GameState {
        self.game.state(self.me)
    }

    /// The learning agent's goal description.
    pub fn goal_description(&self) -> &str {
        self.game.goal_description(self.me)
    }

    /// The learning agent's episode bookkeeping (steps, return, detection, ...).
    pub fn seat(&self) -> &Seat {
        self.game.seat(self.me)
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    pub fn is_started(&self) -> bool {
        self.started
    }

    /// Starts an episode. The first reset without a seed starts the episode the game began
    /// with (what the server's CREATED reply shows); every other reset is a ResetGame, with
    /// `seed` when given (the world and the global defender are reseeded, as by an agreed
    /// reset seed; opponents are reseeded from it).
    pub fn reset(&mut self, seed: Option<i64>) {
        if self.started || seed.is_some() {
            self.game.reset(seed);
        }
        if let Some(seed) = seed {
            self.seed = seed;
            for (seat, kind, agent) in &mut self.opponents {
                *agent = Mutex::new(kind.create(opponent_seed(seed, *seat)));
            }
        }
        for (seat, _, agent) in &mut self.opponents {
            let obs = observation(&self.game, *seat, 0.0, false);
            let info = EpisodeInfo {
                max_steps: self.game.task().role(self.game.seat(*seat).role).max_steps,
                goal_description: self.game.goal_description(*seat).to_string(),
            };
            agent.get_mut().unwrap_or_else(|e| e.into_inner()).episode_start(&obs, &info);
        }
        self.started = true;
        self.done = false;
        self.refresh_mask();
    }

    /// The valid-action mask of the learning agent's state into `out`; returns how many are set.
    pub fn mask_into(&self, out: &mut [bool]) -> usize {
        out.copy_from_slice(&self.mask);
        self.mask_count
    }

    /// Plays one round: the learning agent's action `index` (a no-op when it is not in the
    /// mask), the opponents' in seat order; then, if the learning agent's episode ended while
    /// others play on, the opponents alone until every episode ended.
    pub fn step(&mut self, index: i64) -> Result<Transition, EnvError> {
        if !self.started {
            return Err(EnvError::NotReset);
        }
        if self.done {
            return Err(EnvError::EpisodeOver);
        }
        let len = self.space.len();
        let Some(i) = usize::try_from(index).ok().filter(|i| *i < len) else {
            return Err(EnvError::ActionOutOfRange { index, len });
        };
        let valid = self.mask[i];
        let mut mine = self.round(Some((i, valid)))?;
        let mut rounds = 0;
        while mine.is_none() && !self.game.episode_over() {
            rounds += 1;
            if rounds > MAX_ROUNDS_ALONE {
                return Err(EnvError::Game(format!(
                    "the opponents played {MAX_ROUNDS_ALONE} rounds after the learning agent's episode ended \
                     without ending theirs: give the task's roles a max_steps"
                )));
            }
            self.round(None)?;
        }
        if mine.is_none() {
            mine = self.game.take_final(self.me);
        }
        let reply = mine.ok_or_else(|| EnvError::Game("no reply for the learning agent".into()))?;
        self.refresh_mask();
        let (terminated, truncated) = if reply.end { self.end_kind() } else { (false, false) };
        if reply.end {
            self.done = true;
            for (seat, _, agent) in &mut self.opponents {
                let r = self.game.seat(*seat).ep.reward.as_f64();
                let obs = observation(&self.game, *seat, r, true);
                agent.get_mut().unwrap_or_else(|e| e.into_inner()).episode_end(&obs);
            }
        }
        Ok(Transition { reward: reply.reward, terminated, truncated, valid, status: reply.status })
    }

    /// One round in seat order; returns the learning agent's reply if it moved and got one.
    fn round(&mut self, mine: Option<(usize, bool)>) -> Result<Option<Reply>, EnvError> {
        let mut my_reply = None;
        let seats = self.game.seats().len();
        for seat in 0..seats {
            if self.game.seat(seat).ep.ended {
                continue;
            }
            if seat == self.me {
                let Some((i, valid)) = mine else { continue };
                let mv = if valid { Move::Act(&self.space.actions()[i]) } else { Move::NoOp };
                my_reply = self.game.step(seat, mv)?;
                if my_reply.is_none() {
                    my_reply = self.game.take_final(seat);
                }
            } else {
                let Some((_, _, agent)) = self.opponents.iter_mut().find(|(s, _, _)| *s == seat) else { continue };
                let obs = observation(&self.game, seat, self.game.seat(seat).ep.reward.as_f64(), false);
                let action = agent.get_mut().unwrap_or_else(|e| e.into_inner()).act(&obs);
                drop(obs); // the world's copy of the state is mutated in place only when no one else holds it
                self.game.step(seat, Move::Act(&action))?;
            }
        }
        Ok(my_reply)
    }

    /// Terminated (a goal or a detection ended the episode) or truncated (a step limit did).
    fn end_kind(&self) -> (bool, bool) {
        let me = self.game.seat(self.me);
        let decisive = |s: Option<AgentStatus>| matches!(s, Some(AgentStatus::Success | AgentStatus::Fail));
        let terminated = if me.role == AgentRole::Attacker {
            decisive(me.own_end)
        } else {
            self.game.seats().iter().any(|s| s.role == AgentRole::Attacker && decisive(s.own_end))
        };
        (terminated, !terminated)
    }
}

/// An opponent's seed: the game seed mixed with its seat, so opponents differ from each other.
fn opponent_seed(seed: i64, seat: usize) -> u64 {
    (seed as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(seat as u64 + 1)
}

fn observation(game: &SyncGame, seat: usize, reward: f64, end: bool) -> Observation {
    Observation { state: game.state(seat).clone(), reward, end, end_reason: None }
}

/// What one agent at a [`Table`] got from a round.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeatResult {
    /// Its reply (the final one when `terminated` or `truncated`).
    Moved(Transition),
    /// Its episode ended and its final reply waits for the others' (the episode-end
    /// barrier); it had no move this round.
    Waiting,
    /// Its episode is over and its final reply was given.
    Done,
}

/// A game whose every seat is a learning agent (the `PettingZoo` environment): each round,
/// every agent still playing moves once, in seat order (Attacker, Defender, Benign).
pub struct Table {
    game: SyncGame,
    space: Arc<ActionSpace>,
    started: bool,
    /// Per seat: its final reply was given.
    done: Vec<bool>,
}

impl Table {
    /// A table of `roles` (one agent per role, an attacker among them) in `task`.
    pub fn new(
        task: Arc<TaskConfig>,
        space: Arc<ActionSpace>,
        roles: &[AgentRole],
        seed: i64,
    ) -> Result<Table, EnvError> {
        let mut roles = roles.to_vec();
        seat_order(&mut roles);
        if roles.windows(2).any(|w| w[0] == w[1]) {
            return Err(EnvError::BadConfig("one agent per role".into()));
        }
        if !roles.contains(&AgentRole::Attacker) {
            return Err(EnvError::BadConfig(
                "the agents need an Attacker among them: episodes end with the attacker's".into(),
            ));
        }
        let done = vec![false; roles.len()];
        Ok(Table { game: SyncGame::new(task, &roles, seed), space, started: false, done })
    }

    pub fn game(&self) -> &SyncGame {
        &self.game
    }

    pub fn space(&self) -> &Arc<ActionSpace> {
        &self.space
    }

    /// Starts an episode, as [`Env::reset`].
    pub fn reset(&mut self, seed: Option<i64>) {
        if self.started || seed.is_some() {
            self.game.reset(seed);
        }
        self.started = true;
        self.done.fill(false);
    }

    /// The valid-action mask of `seat` into `out` (nothing is valid for an agent whose episode ended).
    pub fn mask_into(&self, seat: usize, out: &mut [bool]) -> usize {
        let s = self.game.seat(seat);
        if s.ep.ended {
            out.fill(false);
            return 0;
        }
        self.space.mask_into(self.game.state(seat), ActionSpace::blocks_for(s.role), out)
    }

    /// True once every agent's final reply was given.
    pub fn is_done(&self) -> bool {
        self.done.iter().all(|d| *d)
    }

    /// One round: `actions[seat]` for every seat (ignored for agents that are waiting or done).
    pub fn step(&mut self, actions: &[i64]) -> Result<Vec<SeatResult>, EnvError> {
        if !self.started {
            return Err(EnvError::NotReset);
        }
        if self.is_done() {
            return Err(EnvError::EpisodeOver);
        }
        let n = self.game.seats().len();
        if actions.len() != n {
            return Err(EnvError::BadConfig(format!("{} actions for {n} agents", actions.len())));
        }
        let len = self.space.len();
        // Every action is checked before anyone moves, so a bad one leaves the round undone.
        for (seat, &index) in actions.iter().enumerate() {
            let playing = !self.done[seat] && !self.game.seat(seat).ep.ended;
            if playing && usize::try_from(index).map_or(true, |i| i >= len) {
                return Err(EnvError::ActionOutOfRange { index, len });
            }
        }
        let mut out = vec![SeatResult::Waiting; n];
        let mut mask = vec![false; len];
        for seat in 0..n {
            if self.done[seat] {
                out[seat] = SeatResult::Done;
                continue;
            }
            if self.game.seat(seat).ep.ended {
                continue;
            }
            let index = actions[seat];
            let Some(i) = usize::try_from(index).ok().filter(|i| *i < len) else {
                return Err(EnvError::ActionOutOfRange { index, len });
            };
            self.mask_into(seat, &mut mask);
            let valid = mask[i];
            let mv = if valid { Move::Act(&self.space.actions()[i]) } else { Move::NoOp };
            if let Some(r) = self.game.step(seat, mv)? {
                out[seat] = SeatResult::Moved(Transition {
                    reward: r.reward,
                    terminated: false,
                    truncated: false,
                    valid,
                    status: r.status,
                });
            } else {
                // Parked; remember validity for the final reply below.
                out[seat] = SeatResult::Moved(Transition {
                    reward: 0.0,
                    terminated: false,
                    truncated: false,
                    valid,
                    status: self.game.seat(seat).ep.status,
                });
            }
        }
        for (seat, result) in out.iter_mut().enumerate() {
            if let Some(r) = self.game.take_final(seat) {
                let valid = matches!(result, SeatResult::Moved(t) if t.valid);
                // A goal or a detection (the attacker's) ends every episode as terminated; a
                // step limit as truncated.
                let terminated = self.game.seats().iter().any(|s| {
                    s.role == AgentRole::Attacker && matches!(s.own_end, Some(AgentStatus::Success | AgentStatus::Fail))
                });
                *result = SeatResult::Moved(Transition {
                    reward: r.reward,
                    terminated,
                    truncated: !terminated,
                    valid,
                    status: r.status,
                });
                self.done[seat] = true;
            } else if self.game.seat(seat).ep.ended && matches!(result, SeatResult::Moved(_)) {
                // Its episode ended this round; the final reply comes when the others' end.
                *result = SeatResult::Waiting;
            }
        }
        Ok(out)
    }
}

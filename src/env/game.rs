//! [`SyncGame`]: one game whose agents all sit at the same table and move in a fixed order,
//! stepped by direct calls, for the in-process environments.
//!
//! It applies the referee's rules (`crate::game::Referee`) for the case the environments
//! need, where every agent joined before the first step and takes at most one action per
//! round: step counting, the world step, the global defender's verdict, false positives
//! charged to block authors, status (goal, then detection, then timeout), the episode-end
//! barrier with its end rewards paid once, and resets with an optional seed. It leaves out
//! what only a server needs (connections, trajectories, reset consensus, replies as values),
//! so a step allocates nothing and copies no state: the world's state of each agent is read
//! in place. `tests/env_game.rs` plays random episodes through both and compares every
//! reply, and the recorded reference traces replay through it.
//!
//! One thing the referee has no notion of: a [`Move::NoOp`], the environments' answer to an
//! action outside the agent's mask. It costs a step (the task's step reward, and it counts
//! toward the step limit) but touches neither the world nor the global defender.

use super::EnvError;
use crate::action::Action;
use crate::components::{ActionType, AgentRole, AgentStatus, GameState};
use crate::defender::GlobalDefender;
use crate::episode::{any_attacker_playing, assign_end_rewards, episode_over, EpisodeAgent, StepResult};
use crate::task::TaskConfig;
use crate::world::{AgentId, StepOutcome, World};
use std::sync::Arc;

/// What an agent does in its turn.
#[derive(Debug, Clone, Copy)]
pub enum Move<'a> {
    /// A game action, applied as the server applies it.
    Act(&'a Action),
    /// Nothing: a step is spent, the world and the global defender are untouched.
    NoOp,
}

/// The answer to one step, as the server's reply would carry it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reply {
    /// The reward of the reply: the step reward, plus the end reward on the final reply.
    pub reward: f64,
    /// This is the agent's final reply of the episode.
    pub end: bool,
    /// The agent's status after the step (after end rewards on the final reply).
    pub status: AgentStatus,
}

/// One agent at the table.
#[derive(Debug, Clone)]
pub struct Seat {
    pub id: AgentId,
    pub role: AgentRole,
    /// Status, steps and rewards of the current episode (the referee's own bookkeeping).
    pub ep: EpisodeAgent,
    /// The agent's status when its own episode ended, before end rewards rewrote it
    /// (a defender's Success or Fail is decided by the attackers).
    pub own_end: Option<AgentStatus>,
    /// The final reply, once every agent's episode ended (taken by [`SyncGame::take_final`]).
    final_reply: Option<Reply>,
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct SyncGame {
    task: Arc<TaskConfig>,
    world: World,
    defender: Option<GlobalDefender>,
    seats: Vec<Seat>,
}

impl SyncGame {
    /// A game of `task` with the game seed `seed` (the server's `--seed`) and one agent per
    /// entry of `roles`, joined in that order (agent ids 1, 2, ...), as agents connecting
    /// and joining one after the other would be.
    pub fn new(task: Arc<TaskConfig>, roles: &[AgentRole], seed: i64) -> SyncGame {
        let mut world = World::new(task.clone(), seed);
        let seats = roles
            .iter()
            .enumerate()
            .map(|(i, &role)| {
                let id = i as AgentId + 1;
                world.add_agent(id, role);
                Seat { id, role, ep: EpisodeAgent::new(role), own_end: None, final_reply: None }
            })
            .collect();
        SyncGame { defender: task.use_global_defender.then(|| GlobalDefender::new(seed)), task, world, seats }
    }

    pub fn task(&self) -> &Arc<TaskConfig> {
        &self.task
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    pub fn seats(&self) -> &[Seat] {
        &self.seats
    }

    pub fn seat(&self, seat: usize) -> &Seat {
        &self.seats[seat]
    }

    /// The agent's current knowledge, read in place.
    pub fn state(&self, seat: usize) -> &Arc<GameState> {
        &self.world.agent(self.seats[seat].id).expect("every seat has joined the world").state
    }

    /// The agent's goal description (rewritten after a topology change).
    pub fn goal_description(&self, seat: usize) -> &str {
        self.world.goal_description(self.seats[seat].role)
    }

    /// True once every agent's episode ended (and end rewards were paid).
    pub fn episode_over(&self) -> bool {
        self.seats.iter().all(|s| s.ep.ended)
    }

    /// A new episode for everyone, as an agreed ResetGame: the global defender forgets its
    /// histories (reseeded when `seed` is given), the world is restored and every agent's
    /// start is resolved anew, in seat order.
    pub fn reset(&mut self, seed: Option<i64>) {
        if let Some(d) = self.defender.as_mut() {
            if let Some(seed) = seed {
                d.reseed(seed);
            }
            d.new_episode();
        }
        self.world.reset(seed, false);
        for s in &mut self.seats {
            s.ep.reset();
            s.own_end = None;
            s.final_reply = None;
        }
    }

    /// The agent in `seat` moves. Returns its reply, or None when its episode ended with this
    /// step and its final reply waits for the others' (see [`SyncGame::take_final`]). An
    /// agent whose episode already ended gets [`EnvError::EpisodeOver`] and nothing changes.
    pub fn step(&mut self, seat: usize, mv: Move<'_>) -> Result<Option<Reply>, EnvError> {
        let id = self.seats[seat].id;
        if self.seats[seat].ep.ended {
            return Err(EnvError::EpisodeOver);
        }
        let (outcome, detected, blocked) = match mv {
            Move::Act(action) => {
                let outcome = self.world.step(id, action).map_err(|e| EnvError::Game(e.to_string()))?;
                let detected = match self.defender.as_mut() {
                    Some(d) => d.observe(id, action, !outcome.goal_reached),
                    None => false,
                };
                (outcome, detected, action.action_type == ActionType::BlockIP)
            }
            Move::NoOp => (StepOutcome::default(), false, false),
        };
        for author in &outcome.false_positive_authors {
            if let Some(s) = self.seats.iter_mut().find(|s| s.id == *author) {
                s.ep.false_positives += 1;
            }
        }
        let max_steps = self.task.role(self.seats[seat].role).max_steps;
        let step_reward = self.task.rewards.step;
        let s = &mut self.seats[seat];
        s.ep.steps += 1;
        s.ep.after_step(StepResult { goal_reached: outcome.goal_reached, detected }, max_steps, step_reward);
        if blocked {
            s.ep.blocks += 1;
        }
        let playing = any_attacker_playing(self.seats.iter().map(|s| &s.ep));
        let s = &mut self.seats[seat];
        if episode_over(&s.ep, playing) {
            s.ep.ended = true;
            s.own_end = Some(s.ep.status);
            self.check_episode_end();
            Ok(None)
        } else {
            s.ep.episode_return += s.ep.reward.as_f64();
            Ok(Some(Reply { reward: s.ep.reward.as_f64(), end: false, status: s.ep.status }))
        }
    }

    /// The agent's final reply, once every agent's episode ended; given once.
    pub fn take_final(&mut self, seat: usize) -> Option<Reply> {
        self.seats[seat].final_reply.take()
    }

    /// Once every agent's episode ended: end rewards, once, and every final reply.
    fn check_episode_end(&mut self) {
        if !self.episode_over() {
            return;
        }
        assign_end_rewards(self.seats.iter_mut().map(|s| &mut s.ep), &self.task.rewards);
        for s in &mut self.seats {
            if s.final_reply.is_none() && s.own_end.is_some() {
                s.ep.episode_return += s.ep.reward.as_f64();
                s.final_reply = Some(Reply { reward: s.ep.reward.as_f64(), end: true, status: s.ep.status });
            }
        }
    }
}

//! A whole game run synchronously: the referee, the world and the global defender called
//! directly, in one thread, with no actors, sockets or JSON. The actor runtime runs the same
//! referee with the world and the defender as actors; this is the same game without the
//! messaging, for tests, trace replays and in-process environments.

use super::io::{DefenderRequest, Effect, Input, WorldRequest};
use super::referee::{GameSettings, Referee};
use crate::action::Action;
use crate::defender::GlobalDefender;
use crate::world::{AgentId, StepError, World};
use std::collections::VecDeque;
use std::sync::Arc;

/// Carries out a world request; the answer, if the request has one, goes back to the referee.
pub fn world_answer(world: &mut World, request: WorldRequest) -> Option<Input> {
    match request {
        WorldRequest::Add { id, role } => {
            let state = world.add_agent(id, role);
            Some(Input::Joined { id, state, goal_description: world.goal_description(role).to_string() })
        }
        WorldRequest::Remove { id } => {
            world.remove_agent(id);
            None
        }
        WorldRequest::Step { id, action } => {
            let result = world.step(id, &action).and_then(|outcome| {
                let state = world.agent(id).map(|a| a.state.clone()).ok_or(StepError::UnknownAgent(id))?;
                Ok((outcome, state))
            });
            Some(Input::Stepped { id, action, result })
        }
        WorldRequest::Reset { seed, topology_change } => {
            world.reset(seed, topology_change);
            let states = world
                .agents()
                .map(|(id, a)| (id, a.state.clone(), world.goal_description(a.role).to_string()))
                .collect();
            Some(Input::WorldReset { states })
        }
    }
}

/// Carries out a defender request; `Detect` is answered.
pub fn defender_answer(defender: &mut GlobalDefender, request: DefenderRequest) -> Option<Input> {
    match request {
        DefenderRequest::Detect { id, action, evaluate } => {
            let detected = defender.observe(id, &action, evaluate);
            Some(Input::Detected { id, action, detected })
        }
        DefenderRequest::NewEpisode { seed } => {
            if let Some(seed) = seed {
                defender.reseed(seed);
            }
            defender.new_episode();
            None
        }
        DefenderRequest::Remove { id } => {
            defender.remove(id);
            None
        }
    }
}

/// One game, stepped synchronously. Effects for agents (replies, closes, records, episode
/// records) are returned; world and defender requests are carried out on the spot.
pub struct LocalGame {
    referee: Referee,
    world: World,
    defender: Option<GlobalDefender>,
    /// Inputs produced by world and defender answers, not yet given to the referee.
    queue: VecDeque<Input>,
    scratch: Vec<Effect>,
}

impl LocalGame {
    /// A game of `settings` seeded with `seed` (the server's `--seed`).
    pub fn new(settings: GameSettings, seed: i64) -> Self {
        let task = settings.task.clone();
        LocalGame {
            world: World::new(task.clone(), seed),
            defender: task.use_global_defender.then(|| GlobalDefender::new(seed)),
            referee: Referee::new(settings),
            queue: VecDeque::new(),
            scratch: Vec::new(),
        }
    }

    pub fn referee(&self) -> &Referee {
        &self.referee
    }

    /// Turns the referee's [`super::Effect::StepDone`] records on or off.
    pub fn set_step_events(&mut self, on: bool) {
        self.referee.set_step_events(on);
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    /// Admits a connection (see [`Referee::connect`]).
    pub fn connect(&mut self, peer: impl Into<String>) -> Result<AgentId, String> {
        self.referee.connect(peer)
    }

    /// Feeds one input and appends the resulting agent-facing effects to `out`.
    pub fn handle(&mut self, input: Input, out: &mut Vec<Effect>) {
        self.queue.push_back(input);
        while let Some(input) = self.queue.pop_front() {
            self.referee.handle(input, &mut self.scratch);
            for effect in self.scratch.drain(..) {
                match effect {
                    Effect::World(request) => self.queue.extend(world_answer(&mut self.world, request)),
                    Effect::Defender(request) => {
                        if let Some(d) = self.defender.as_mut() {
                            self.queue.extend(defender_answer(d, request));
                        }
                    }
                    other => out.push(other),
                }
            }
        }
    }

    /// Sends a request for agent `id` and returns what came out.
    pub fn request(&mut self, id: AgentId, action: Action) -> Vec<Effect> {
        let mut out = Vec::new();
        self.handle(Input::Request { id, action }, &mut out);
        out
    }

    /// The agent leaves; returns what came out.
    pub fn leave(&mut self, id: AgentId) -> Vec<Effect> {
        let mut out = Vec::new();
        self.handle(Input::Leave { id }, &mut out);
        out
    }

    /// Every open episode's trajectory, as written at shutdown.
    pub fn open_trajectories(&self) -> Vec<Arc<crate::trajectory::Trajectory>> {
        self.referee.open_trajectories()
    }
}

//! The World actor: owns the simulation ([`netsecgame::world::World`]) of one game.

use crate::messages::{AddAgent, RemoveAgent, ResetWorld, Step};
use actix::prelude::*;
use netsecgame::components::GameState;
use netsecgame::world::{AgentId, StepError, StepOutcome, World};
use std::sync::Arc;

pub struct WorldActor {
    /// The simulation; every message is one atomic operation on it.
    pub world: World,
}

impl Actor for WorldActor {
    type Context = Context<Self>;
}

impl Handler<AddAgent> for WorldActor {
    type Result = MessageResult<AddAgent>;
    fn handle(&mut self, msg: AddAgent, _: &mut Context<Self>) -> Self::Result {
        let state = self.world.add_agent(msg.id, msg.role);
        MessageResult((state, self.world.goal_description(msg.role).to_string()))
    }
}

impl Handler<RemoveAgent> for WorldActor {
    type Result = ();
    fn handle(&mut self, msg: RemoveAgent, _: &mut Context<Self>) {
        self.world.remove_agent(msg.id);
    }
}

impl Handler<Step> for WorldActor {
    type Result = Result<(StepOutcome, Arc<GameState>), StepError>;
    fn handle(&mut self, msg: Step, _: &mut Context<Self>) -> Self::Result {
        let outcome = self.world.step(msg.id, &msg.action)?;
        let state = self.world.agent(msg.id).map(|a| a.state.clone()).ok_or(StepError::UnknownAgent(msg.id))?;
        Ok((outcome, state))
    }
}

impl Handler<ResetWorld> for WorldActor {
    type Result = MessageResult<ResetWorld>;
    fn handle(&mut self, msg: ResetWorld, _: &mut Context<Self>) -> Self::Result {
        self.world.reset(msg.seed, msg.topology_change);
        let out: Vec<(AgentId, Arc<GameState>, String)> = self
            .world
            .agents()
            .map(|(id, a)| (id, a.state.clone(), self.world.goal_description(a.role).to_string()))
            .collect();
        MessageResult(out)
    }
}

//! The World actor: owns one game's simulation; every message is one atomic operation on it.

use super::messages::ToWorld;
use actix::prelude::*;
use netsecgame::game::{world_answer, Input};
use netsecgame::world::World;

pub struct WorldActor {
    pub world: World,
}

impl Actor for WorldActor {
    type Context = Context<Self>;
}

impl Handler<ToWorld> for WorldActor {
    type Result = Option<Input>;
    fn handle(&mut self, msg: ToWorld, _: &mut Context<Self>) -> Option<Input> {
        world_answer(&mut self.world, msg.0)
    }
}

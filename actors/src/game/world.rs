//! The World actor: owns one game's simulation; every message is one atomic operation on it.

use super::messages::{Addresses, ToWorld};
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

impl Handler<Addresses> for WorldActor {
    type Result = MessageResult<Addresses>;
    fn handle(&mut self, _: Addresses, _: &mut Context<Self>) -> Self::Result {
        MessageResult((self.world.ips().to_vec(), self.world.networks().collect()))
    }
}

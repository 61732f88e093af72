//! The global defender actor: the stochastic detector of one game.

use super::messages::ToDefender;
use actix::prelude::*;
use netsecgame::defender::GlobalDefender;
use netsecgame::game::{defender_answer, Input};

pub struct DefenderActor {
    pub defender: GlobalDefender,
}

impl Actor for DefenderActor {
    type Context = Context<Self>;
}

impl Handler<ToDefender> for DefenderActor {
    type Result = Option<Input>;
    fn handle(&mut self, msg: ToDefender, _: &mut Context<Self>) -> Option<Input> {
        defender_answer(&mut self.defender, msg.0)
    }
}

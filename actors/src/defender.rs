//! The GlobalDefender actor: the stochastic detector of one game.

use crate::messages::{DefenderControl, Detect};
use actix::prelude::*;
use netsecgame::defender::GlobalDefender;

pub struct DefenderActor {
    pub defender: GlobalDefender,
}

impl Actor for DefenderActor {
    type Context = Context<Self>;
}

impl Handler<Detect> for DefenderActor {
    type Result = bool;
    fn handle(&mut self, msg: Detect, _: &mut Context<Self>) -> bool {
        self.defender.observe(msg.id, &msg.action, msg.evaluate)
    }
}

impl Handler<DefenderControl> for DefenderActor {
    type Result = ();
    fn handle(&mut self, msg: DefenderControl, _: &mut Context<Self>) {
        match msg {
            DefenderControl::NewEpisode { seed } => {
                if let Some(seed) = seed {
                    self.defender.reseed(seed);
                }
                self.defender.new_episode();
            }
            DefenderControl::Remove(id) => self.defender.remove(id),
        }
    }
}

//! Uniformly random agents: an attacker over the valid actions of its state, and (with
//! blocks) a random defender.

use super::{valid_actions, Policy};
use crate::client::Observation;
use netsecgame::action::Action;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

pub struct RandomAgent {
    /// Include BlockIP actions (the random defender).
    pub with_blocks: bool,
}

impl Policy for RandomAgent {
    fn act(&mut self, obs: &Observation, rng: &mut ChaCha8Rng) -> Action {
        let actions = valid_actions(&obs.state, self.with_blocks);
        if actions.is_empty() {
            // Nothing controlled: a harmless no-op action keeps the episode moving.
            return super::find_data(
                netsecgame::components::Ip::v4(127, 0, 0, 1),
                netsecgame::components::Ip::v4(127, 0, 0, 1),
            );
        }
        actions[rng.random_range(0..actions.len())].clone()
    }
}

//! Uniformly random agents: an attacker over the valid actions of its state, and (with
//! blocks) a random defender.

use super::{count_valid_actions, idle_action, nth_valid_action, Agent, Observation};
use crate::action::Action;
use crate::components::AgentRole;
use crate::rng::{seeded_rng, GameRng, AGENT_STREAM};
use rand::Rng;

pub struct RandomAgent {
    role: AgentRole,
    /// Include BlockIP actions (the random defender).
    with_blocks: bool,
    rng: GameRng,
}

impl RandomAgent {
    /// An attacker choosing uniformly among the valid actions of its state.
    pub fn attacker(seed: u64) -> Self {
        RandomAgent { role: AgentRole::Attacker, with_blocks: false, rng: seeded_rng(seed as i64, AGENT_STREAM) }
    }

    /// A defender choosing uniformly among the valid actions of its state, blocks included.
    pub fn defender(seed: u64) -> Self {
        RandomAgent { role: AgentRole::Defender, with_blocks: true, rng: seeded_rng(seed as i64, AGENT_STREAM) }
    }
}

impl Agent for RandomAgent {
    fn role(&self) -> AgentRole {
        self.role
    }

    fn act(&mut self, obs: &Observation) -> Action {
        // Count, draw, then build only the chosen action: no list per step.
        let n = count_valid_actions(&obs.state, self.with_blocks);
        if n == 0 {
            return idle_action();
        }
        let pick = self.rng.random_range(0..n);
        nth_valid_action(&obs.state, self.with_blocks, pick).unwrap_or_else(idle_action)
    }
}

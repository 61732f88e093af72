//! Per-agent episode bookkeeping: status machine, step counting, timeouts, end-of-episode
//! rewards and false-positive penalties, as upstream's coordinator does them. Plain code the
//! referee calls.

use crate::components::{AgentRole, AgentStatus, Reward, StepInfo};
use crate::task::Rewards;

/// FORBIDDEN hint upstream sends after an agent's episode ended.
pub const EPISODE_ENDED_HINT: &str = "Episode ended. Request reset for starting new episode.";

/// One agent's standing in the current episode.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeAgent {
    pub role: AgentRole,
    pub status: AgentStatus,
    /// Game actions processed this episode (FORBIDDEN and BAD_REQUEST do not count).
    pub steps: u64,
    /// The reward of the last step; the end-of-episode reward is added to it (upstream
    /// assigns the step reward rather than accumulating).
    pub reward: Reward,
    /// False positives charged to this agent this episode.
    pub false_positives: i64,
    /// Whether this agent's episode has ended.
    pub ended: bool,
    /// Whether the end-of-episode reward has been applied (it is applied once, even when an
    /// agent leaves after the end; upstream could pay it twice).
    pub rewarded: bool,
    /// Sum of the rewards of this episode's replies (the last one includes the end reward).
    pub episode_return: f64,
    /// The global defender detected this agent this episode.
    pub detected: bool,
    /// BlockIP actions processed this episode.
    pub blocks: u32,
}

impl EpisodeAgent {
    pub fn new(role: AgentRole) -> Self {
        EpisodeAgent {
            role,
            status: role.initial_status(),
            steps: 0,
            reward: Reward::Int(0),
            false_positives: 0,
            ended: false,
            rewarded: false,
            episode_return: 0.0,
            detected: false,
            blocks: 0,
        }
    }

    /// Starts a new episode for this agent.
    pub fn reset(&mut self) {
        *self = EpisodeAgent::new(self.role);
    }

    /// Status after a processed game action: goal first, then detection, then timeout.
    /// `steps` must already count this action.
    pub fn after_step(&mut self, result: StepResult, max_steps: Option<u64>, step_reward: Reward) {
        self.reward = step_reward;
        let StepResult { goal_reached, detected } = result;
        self.detected |= detected;
        if goal_reached {
            self.status = AgentStatus::Success;
        } else if detected {
            self.status = AgentStatus::Fail;
        } else if max_steps.is_some_and(|m| m > 0 && self.steps >= m) {
            self.status = AgentStatus::TimeoutReached;
        }
    }

    /// The `info` object of this agent's step replies.
    pub fn info(&self) -> StepInfo {
        StepInfo { end_reason: self.status.is_terminal().then_some(self.status), info: None }
    }

    /// The `info` object of a FORBIDDEN reply.
    pub fn forbidden_info(&self) -> StepInfo {
        StepInfo { end_reason: Some(self.status), info: Some(EPISODE_ENDED_HINT) }
    }
}

/// What a processed game action did to the acting agent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepResult {
    /// The action reached the agent's goal.
    pub goal_reached: bool,
    /// The global defender detected the action (never when it reached the goal).
    pub detected: bool,
}

/// An agent's episode ends with a terminal status, or once no agent (itself
/// included) is still an attacker in play.
pub fn episode_over(agent: &EpisodeAgent, any_attacker_playing: bool) -> bool {
    agent.status.is_terminal() || !any_attacker_playing
}

/// True while some agent still has status PlayingWithTimeout.
pub fn any_attacker_playing<'a>(agents: impl IntoIterator<Item = &'a EpisodeAgent>) -> bool {
    agents.into_iter().any(|a| a.status == AgentStatus::PlayingWithTimeout)
}

/// End-of-episode rewards, applied once per agent per episode: attackers get success or fail by their
/// status; defenders get success unless an attacker succeeded (their status follows), plus the
/// false-positive penalty; benign agents get nothing.
pub fn assign_end_rewards<'a>(agents: impl IntoIterator<Item = &'a mut EpisodeAgent>, rewards: &Rewards) {
    let mut agents: Vec<&mut EpisodeAgent> = agents.into_iter().filter(|a| !a.rewarded).collect();
    let successful_attack = agents.iter().any(|a| a.role == AgentRole::Attacker && a.status == AgentStatus::Success);
    for a in agents.iter_mut() {
        match a.role {
            AgentRole::Attacker => {
                a.reward = a.reward + if a.status == AgentStatus::Success { rewards.success } else { rewards.fail };
            }
            AgentRole::Defender => {
                if successful_attack {
                    a.reward = a.reward + rewards.fail;
                    a.status = AgentStatus::Fail;
                } else {
                    a.reward = a.reward + rewards.success;
                    a.status = AgentStatus::Success;
                }
                a.reward = a.reward + rewards.false_positive * a.false_positives;
            }
            AgentRole::Benign => {}
        }
        a.rewarded = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewards() -> Rewards {
        Rewards {
            step: Reward::Int(-1),
            success: Reward::Int(100),
            fail: Reward::Int(-10),
            false_positive: Reward::Int(-5),
        }
    }

    #[test]
    fn status_order_goal_detection_timeout() {
        let mut a = EpisodeAgent::new(AgentRole::Attacker);
        a.steps = 3;
        a.after_step(StepResult::default(), Some(3), Reward::Int(-1));
        assert_eq!(a.status, AgentStatus::TimeoutReached);
        let mut b = EpisodeAgent::new(AgentRole::Attacker);
        b.steps = 3;
        b.after_step(StepResult { goal_reached: true, detected: true }, Some(3), Reward::Int(-1));
        assert_eq!(b.status, AgentStatus::Success);
        let mut c = EpisodeAgent::new(AgentRole::Attacker);
        c.steps = 3;
        c.after_step(StepResult { goal_reached: false, detected: true }, Some(3), Reward::Int(-1));
        assert_eq!(c.status, AgentStatus::Fail);
        let mut d = EpisodeAgent::new(AgentRole::Defender);
        d.steps = 1000;
        d.after_step(StepResult::default(), None, Reward::Int(-1));
        assert_eq!(d.status, AgentStatus::Playing);
        assert!(!episode_over(&d, true));
        assert!(episode_over(&d, false));
        // A limit of 0 means none.
        let mut e = EpisodeAgent::new(AgentRole::Attacker);
        e.steps = 5;
        e.after_step(StepResult::default(), Some(0), Reward::Int(-1));
        assert_eq!(e.status, AgentStatus::PlayingWithTimeout);
    }

    #[test]
    fn forbidden_replies_repeat_the_end_reason_with_the_hint() {
        let mut a = EpisodeAgent::new(AgentRole::Attacker);
        a.after_step(StepResult { goal_reached: true, detected: false }, None, Reward::Int(-1));
        let info = a.forbidden_info();
        assert_eq!(info.end_reason, Some(AgentStatus::Success));
        assert_eq!(info.info, Some(EPISODE_ENDED_HINT));
    }

    #[test]
    fn end_rewards_once_with_false_positives() {
        let mut att = EpisodeAgent::new(AgentRole::Attacker);
        att.after_step(StepResult { goal_reached: true, detected: false }, None, Reward::Int(-1));
        let mut def = EpisodeAgent::new(AgentRole::Defender);
        def.reward = Reward::Int(-1);
        def.false_positives = 2;
        let mut ben = EpisodeAgent::new(AgentRole::Benign);
        ben.reward = Reward::Int(-1);
        assign_end_rewards([&mut att, &mut def, &mut ben], &rewards());
        assert_eq!(att.reward, Reward::Int(99));
        assert_eq!(def.reward, Reward::Int(-1 - 10 - 10));
        assert_eq!(def.status, AgentStatus::Fail);
        assert_eq!(ben.reward, Reward::Int(-1));
        assign_end_rewards([&mut att, &mut def, &mut ben], &rewards());
        assert_eq!(att.reward, Reward::Int(99), "rewards are applied once");
        assert_eq!(att.info().end_reason, Some(AgentStatus::Success));
    }
}

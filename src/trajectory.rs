//! Trajectory records (SPEC §10): what `last_trajectory` carries and what is written, one
//! JSON line per agent per episode, to `<dir>/<date>_<name>_AgentRole.<Role>.jsonl`.

use crate::action::Action;
use crate::components::{AgentRole, AgentStatus, GameState, Reward};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use std::sync::Arc;

/// Steps kept per episode. An episode without a step limit could otherwise grow without
/// bound; past this, the end reason is still recorded but further steps are not.
pub const MAX_STEPS: usize = 10_000;

/// One agent's episode: `states` has one more entry than `actions` and `rewards`.
#[derive(Debug, Clone)]
pub struct Trajectory {
    pub agent_name: String,
    pub agent_role: AgentRole,
    pub states: Vec<Arc<GameState>>,
    pub actions: Vec<Action>,
    pub rewards: Vec<Reward>,
    pub end_reason: Option<AgentStatus>,
}

impl Trajectory {
    pub fn new(agent_name: &str, agent_role: AgentRole, start: Arc<GameState>) -> Self {
        Trajectory {
            agent_name: agent_name.to_string(),
            agent_role,
            states: vec![start],
            actions: Vec::new(),
            rewards: Vec::new(),
            end_reason: None,
        }
    }

    /// Appends a processed step; `end_reason` is set on the step that ends the episode.
    pub fn push(&mut self, action: Action, reward: Reward, state: Arc<GameState>, end_reason: Option<AgentStatus>) {
        if end_reason.is_some() {
            self.end_reason = end_reason;
        }
        if self.actions.len() >= MAX_STEPS {
            return;
        }
        self.actions.push(action);
        self.rewards.push(reward);
        self.states.push(state);
    }

    /// True when steps were dropped because the episode exceeded [`MAX_STEPS`].
    pub fn is_truncated(&self) -> bool {
        self.actions.len() >= MAX_STEPS
    }

    /// Upstream's file name, without its `rstrip('jsonl')` bug (B27).
    pub fn file_name(&self, date: &str) -> String {
        format!("{date}_{}_{}.jsonl", self.agent_name, self.agent_role)
    }
}

impl Serialize for Trajectory {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Body<'a>(&'a Trajectory);
        impl Serialize for Body<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut st = s.serialize_struct("trajectory", 3)?;
                st.serialize_field("states", &self.0.states)?;
                st.serialize_field("actions", &self.0.actions)?;
                st.serialize_field("rewards", &self.0.rewards)?;
                st.end()
            }
        }
        let mut st = s.serialize_struct("Trajectory", 4)?;
        st.serialize_field("trajectory", &Body(self))?;
        st.serialize_field("end_reason", &self.end_reason.map(|r| r.wire()))?;
        st.serialize_field("agent_role", &self.agent_role)?;
        st.serialize_field("agent_name", &self.agent_name)?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_every_letter() {
        let t = Trajectory::new("traj_json_agent", AgentRole::Benign, Arc::new(GameState::default()));
        assert_eq!(t.file_name("2026-11-22"), "2026-11-22_traj_json_agent_AgentRole.Benign.jsonl");
    }

    #[test]
    fn long_episodes_are_capped_but_keep_their_end() {
        let mut t = Trajectory::new("a", AgentRole::Attacker, Arc::new(GameState::default()));
        let state = Arc::new(GameState::default());
        for _ in 0..MAX_STEPS + 10 {
            let action = crate::action::Action::new(crate::components::ActionType::FindData, vec![]);
            t.push(action, Reward::Int(-1), state.clone(), None);
        }
        let action = crate::action::Action::new(crate::components::ActionType::FindData, vec![]);
        t.push(action, Reward::Int(-1), state, Some(AgentStatus::TimeoutReached));
        assert_eq!(t.actions.len(), MAX_STEPS);
        assert_eq!(t.states.len(), MAX_STEPS + 1);
        assert!(t.is_truncated());
        assert_eq!(t.end_reason, Some(AgentStatus::TimeoutReached));
    }

    #[test]
    fn record_shape() {
        let mut t = Trajectory::new("a", AgentRole::Attacker, Arc::new(GameState::default()));
        let action = crate::action::Action::new(crate::components::ActionType::FindData, vec![]);
        t.push(action, Reward::Int(-1), Arc::new(GameState::default()), Some(AgentStatus::Success));
        let text = crate::pyjson::to_py_json(&t);
        assert!(text.starts_with(r#"{"trajectory": {"states": [{"known_networks": []"#), "{text}");
        assert!(
            text.ends_with(
                r#""rewards": [-1]}, "end_reason": "AgentStatus.Success", "agent_role": "Attacker", "agent_name": "a"}"#
            ),
            "{text}"
        );
    }
}

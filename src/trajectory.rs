//! Trajectory records: what `last_trajectory` carries and what is written, one JSON line per
//! agent per episode, to `<dir>/<date>_<name>_AgentRole.<Role>.jsonl` (upstream's layout).
//!
//! A trajectory keeps every state the agent saw, and states can be large (a FindData result
//! carries the host's whole logfile), so each one is bounded by an estimate of its JSON size
//! ([`DEFAULT_MAX_BYTES`], settable per game). Past the bound, further steps are dropped, the
//! end reason is still recorded, and the written record says `"truncated": true`.

use crate::action::Action;
use crate::components::{AgentRole, AgentStatus, GameState, Reward};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use std::sync::Arc;

/// Default bound on one episode's recorded trajectory: 64 MiB of (estimated) JSON.
pub const DEFAULT_MAX_BYTES: usize = 64 << 20;

/// One agent's episode: `states` has one more entry than `actions` and `rewards`.
#[derive(Debug, Clone)]
pub struct Trajectory {
    pub agent_name: String,
    pub agent_role: AgentRole,
    pub states: Vec<Arc<GameState>>,
    pub actions: Vec<Action>,
    pub rewards: Vec<Reward>,
    pub end_reason: Option<AgentStatus>,
    /// Estimated JSON size of what is kept so far.
    bytes: usize,
    /// The bound on `bytes`; steps past it are dropped.
    max_bytes: usize,
    /// Steps were dropped because the bound was reached.
    truncated: bool,
}

impl Trajectory {
    /// A trajectory bounded by [`DEFAULT_MAX_BYTES`].
    pub fn new(agent_name: &str, agent_role: AgentRole, start: Arc<GameState>) -> Self {
        Trajectory::bounded(agent_name, agent_role, start, DEFAULT_MAX_BYTES)
    }

    /// A trajectory that keeps steps until their estimated JSON size passes `max_bytes`.
    pub fn bounded(agent_name: &str, agent_role: AgentRole, start: Arc<GameState>, max_bytes: usize) -> Self {
        let bytes = start.approx_json_len();
        Trajectory {
            agent_name: agent_name.to_string(),
            agent_role,
            states: vec![start],
            actions: Vec::new(),
            rewards: Vec::new(),
            end_reason: None,
            bytes,
            max_bytes,
            truncated: false,
        }
    }

    /// A new, empty trajectory for the same agent and bound, starting at `start`.
    pub fn restart(&self, start: Arc<GameState>) -> Self {
        Trajectory::bounded(&self.agent_name, self.agent_role, start, self.max_bytes)
    }

    /// Appends a processed step; `end_reason` is set on the step that ends the episode.
    pub fn push(&mut self, action: Action, reward: Reward, state: Arc<GameState>, end_reason: Option<AgentStatus>) {
        if end_reason.is_some() {
            self.end_reason = end_reason;
        }
        if self.truncated {
            return;
        }
        // A state identical to the previous one is shared, not copied: it costs only its
        // place in the list.
        let same = self.states.last().is_some_and(|last| Arc::ptr_eq(last, &state));
        let cost = 64 + if same { 0 } else { state.approx_json_len() };
        if self.bytes + cost > self.max_bytes {
            self.truncated = true;
            return;
        }
        self.bytes += cost;
        self.actions.push(action);
        self.rewards.push(reward);
        self.states.push(state);
    }

    /// True when steps were dropped because the episode passed the size bound.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Estimated JSON size of what is kept.
    pub fn approx_bytes(&self) -> usize {
        self.bytes
    }

    /// Upstream's file name, without the letters upstream's `rstrip('jsonl')` strips from names
    /// ending in j, s, o, n or l.
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
        let mut st = s.serialize_struct("Trajectory", 5)?;
        st.serialize_field("trajectory", &Body(self))?;
        st.serialize_field("end_reason", &self.end_reason.map(|r| r.wire()))?;
        st.serialize_field("agent_role", &self.agent_role)?;
        st.serialize_field("agent_name", &self.agent_name)?;
        // Only truncated records carry the key, so complete ones keep upstream's exact shape.
        if self.truncated {
            st.serialize_field("truncated", &true)?;
        }
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
    fn long_episodes_are_bounded_by_bytes_but_keep_their_end() {
        let big = |n: usize| {
            let mut s = GameState::default();
            let data =
                crate::components::Data { content: "x".repeat(n).into(), ..crate::components::Data::new("o", "d") };
            s.known_data.entry(crate::components::Ip::v4(1, 1, 1, 1)).or_default().insert(data);
            Arc::new(s)
        };
        let mut t = Trajectory::bounded("a", AgentRole::Attacker, Arc::new(GameState::default()), 100_000);
        for _ in 0..1000 {
            let action = crate::action::Action::find_data(
                crate::components::Ip::v4(1, 1, 1, 1),
                crate::components::Ip::v4(1, 1, 1, 1),
            );
            t.push(action, Reward::Int(-1), big(1000), None);
        }
        assert!(t.is_truncated());
        assert!(t.approx_bytes() <= 100_000);
        assert!((50..100).contains(&t.actions.len()), "{}", t.actions.len());
        assert_eq!(t.states.len(), t.actions.len() + 1);
        let action = crate::action::Action::find_data(
            crate::components::Ip::v4(1, 1, 1, 1),
            crate::components::Ip::v4(1, 1, 1, 1),
        );
        t.push(action, Reward::Int(-1), big(1000), Some(AgentStatus::TimeoutReached));
        assert_eq!(t.end_reason, Some(AgentStatus::TimeoutReached));
        let text = crate::pyjson::to_py_json(&t);
        assert!(text.ends_with(r#""agent_name": "a", "truncated": true}"#), "{}", &text[text.len() - 80..]);
        // The estimate is within a factor of two of the real size.
        assert!(
            text.len() > t.approx_bytes() / 2 && text.len() < t.approx_bytes() * 2,
            "{} vs {}",
            text.len(),
            t.approx_bytes()
        );
    }

    #[test]
    fn a_step_that_fills_the_bound_exactly_is_kept() {
        let state = Arc::new(GameState::default());
        let start = state.approx_json_len();
        let mut t = Trajectory::bounded("a", AgentRole::Attacker, state.clone(), start + 64);
        t.push(crate::action::Action::quit_game(), Reward::Int(-1), state.clone(), None);
        assert!(!t.is_truncated() && t.actions.len() == 1, "exactly at the bound");
        t.push(crate::action::Action::quit_game(), Reward::Int(-1), state, None);
        assert!(t.is_truncated() && t.actions.len() == 1, "past it");
    }

    #[test]
    fn repeated_states_cost_only_their_place() {
        let state = Arc::new(GameState::default());
        let mut t = Trajectory::bounded("a", AgentRole::Attacker, state.clone(), 1 << 20);
        for _ in 0..1000 {
            t.push(crate::action::Action::quit_game(), Reward::Int(-1), state.clone(), None);
        }
        assert!(!t.is_truncated());
        assert!(t.approx_bytes() < 100_000);
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

//! The stochastic global defender (SPEC §9): a SIEM-like detector that looks at each agent's
//! recent actions and, when a pattern is suspicious, detects with a per-type probability.
//!
//! Exact upstream algorithm and tables. It draws from its own seeded stream of the game seed
//! ([`DEFENDER_RNG_STREAM`]), and only when a risk condition holds, so the world's draws do
//! not depend on whether the defender is enabled.

use crate::action::Action;
use crate::components::ActionType;
use crate::world::{seeded_rng, AgentId};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

/// The defender's stream of the game seed.
pub const DEFENDER_RNG_STREAM: u64 = 1;
/// Window of recent actions the ratios and runs are computed over.
pub const WINDOW: usize = 5;

/// Per-type detection parameters.
#[derive(Debug, Clone, Copy)]
struct Rule {
    probability: f64,
    ratio_threshold: f64,
    /// Longest run of this type in the window that is still safe (ScanNetwork, FindServices,
    /// ExfiltrateData).
    consecutive_threshold: Option<usize>,
    /// Identical actions in the episode that are still safe (ExploitService, FindData).
    repeat_threshold: Option<usize>,
}

fn rule(t: ActionType) -> Option<Rule> {
    let r = |probability, ratio_threshold, consecutive_threshold, repeat_threshold| {
        Some(Rule { probability, ratio_threshold, consecutive_threshold, repeat_threshold })
    };
    match t {
        ActionType::ScanNetwork => r(0.05, 0.25, Some(2), None),
        ActionType::FindServices => r(0.075, 0.3, Some(3), None),
        ActionType::ExploitService => r(0.1, 0.25, None, Some(2)),
        ActionType::FindData => r(0.025, 0.5, None, Some(2)),
        ActionType::ExfiltrateData => r(0.025, 0.25, Some(2), None),
        // BlockIP's table entry is dead configuration upstream (B32); the rest never detect.
        _ => None,
    }
}

/// True when the action, given the agent's earlier actions this episode, is suspicious
/// enough that a detection roll is due.
pub fn at_risk(history: &[Action], action: &Action) -> bool {
    let Some(rule) = rule(action.action_type) else { return false };
    if history.len() + 1 < WINDOW {
        return false;
    }
    let t = action.action_type;
    let window: Vec<ActionType> =
        history[history.len() + 1 - WINDOW..].iter().map(|a| a.action_type).chain(std::iter::once(t)).collect();
    let ratio = window.iter().filter(|x| **x == t).count() as f64 / WINDOW as f64;
    let below_ratio = ratio < rule.ratio_threshold;
    if let Some(consecutive) = rule.consecutive_threshold {
        let mut longest = 0;
        let mut run = 0;
        for x in &window {
            run = if *x == t { run + 1 } else { 0 };
            longest = longest.max(run);
        }
        !(below_ratio && longest < consecutive)
    } else {
        let repeats = history.iter().filter(|h| *h == action).count() + 1;
        !(below_ratio && repeats < rule.repeat_threshold.unwrap_or(usize::MAX))
    }
}

/// The detector with its per-agent episode histories.
#[derive(Debug)]
pub struct GlobalDefender {
    rng: ChaCha8Rng,
    /// Game actions processed this episode, per agent, before the current one.
    histories: HashMap<AgentId, Vec<Action>>,
}

impl GlobalDefender {
    pub fn new(seed: i64) -> Self {
        GlobalDefender { rng: seeded_rng(seed, DEFENDER_RNG_STREAM), histories: HashMap::new() }
    }

    /// Reseeds after an agreed reset seed.
    pub fn reseed(&mut self, seed: i64) {
        self.rng = seeded_rng(seed, DEFENDER_RNG_STREAM);
    }

    /// Records `action` for `agent`. When `evaluate` (the goal was not reached by this action),
    /// first decides whether it is detected.
    pub fn observe(&mut self, agent: AgentId, action: &Action, evaluate: bool) -> bool {
        let history = self.histories.entry(agent).or_default();
        let detected = evaluate && at_risk(history, action) && {
            let p = rule(action.action_type).map_or(0.0, |r| r.probability);
            self.rng.random::<f64>() < p
        };
        history.push(action.clone());
        detected
    }

    /// Starts a new episode for every agent.
    pub fn new_episode(&mut self) {
        self.histories.clear();
    }

    pub fn remove(&mut self, agent: AgentId) {
        self.histories.remove(&agent);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Param;
    use crate::components::Ip;

    fn act(t: ActionType, target: u8) -> Action {
        Action::new(t, vec![Param::SourceHost(Ip::v4(1, 1, 1, 1)), Param::TargetHost(Ip::v4(1, 1, 1, target))])
    }
    use ActionType::{ExploitService as E, FindData as D, FindServices as F, ScanNetwork as S};

    fn hist(types: &[ActionType]) -> Vec<Action> {
        types.iter().map(|t| act(*t, 1)).collect()
    }

    #[test]
    fn upstream_verified_cases() {
        assert!(!at_risk(&hist(&[F, D, F, D]), &act(S, 1)));
        assert!(at_risk(&hist(&[S, F, D, F]), &act(S, 1)));
        assert!(!at_risk(&hist(&[D, D, D, D]), &act(F, 1)));
        assert!(at_risk(&hist(&[D, D, S, S]), &act(D, 1)));
        assert!(at_risk(&[act(D, 7), act(S, 1), act(S, 1), act(S, 1)], &act(D, 7)));
        assert!(!at_risk(&[act(D, 8), act(S, 1), act(S, 1), act(S, 1)], &act(D, 7)));
        assert!(at_risk(&[act(E, 8), act(S, 1), act(S, 1), act(S, 1)], &act(E, 7)));
        assert!(!at_risk(&hist(&[S, S, S, S]), &act(E, 1)));
        assert!(at_risk(&[act(E, 1), act(S, 1), act(S, 1), act(S, 1), act(S, 1), act(S, 1)], &act(E, 1)));
        assert!(!at_risk(&hist(&[ActionType::BlockIP; 4]), &act(ActionType::BlockIP, 1)));
        assert!(!at_risk(&hist(&[S, S, S]), &act(S, 1)));
    }

    #[test]
    fn detection_rate_matches_probability_and_is_seeded() {
        let history = hist(&[S, F, S, F]);
        let run = |seed| {
            let mut d = GlobalDefender::new(seed);
            (0..20_000)
                .filter(|_| {
                    d.histories.insert(1, history.clone());
                    d.observe(1, &act(S, 1), true)
                })
                .count()
        };
        let hits = run(7);
        assert!((800..1200).contains(&hits), "{hits} detections in 20000 at p=0.05");
        assert_eq!(hits, run(7));
        let mut d = GlobalDefender::new(1);
        d.histories.insert(1, history.clone());
        assert!(!d.observe(1, &act(S, 1), false), "no roll when the goal was reached");
    }
}

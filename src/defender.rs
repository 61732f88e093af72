//! The stochastic global defender: a SIEM-like detector that looks at each agent's
//! recent actions and, when a pattern is suspicious, detects with a per-type probability.
//!
//! Exact upstream algorithm and tables. It draws from its own seeded stream of the game seed
//! ([`DEFENDER_STREAM`]), and only when a risk condition holds, so the world's draws do
//! not depend on whether the defender is enabled.

use crate::action::Action;
use crate::components::ActionType;
use crate::rng::{seeded_rng, GameRng, DEFENDER_STREAM};
use crate::world::AgentId;
use rand::Rng;
use std::collections::{HashMap, VecDeque};

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
        // BlockIP's table entry is dead configuration upstream (never consulted); the rest never detect.
        _ => None,
    }
}

/// What the defender remembers of one agent's episode: the types of its last actions (the
/// window) and how often it sent each distinct action (for the repeat rules). Bounded by the
/// number of distinct actions, not by the episode's length.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Types of the last `WINDOW - 1` actions, oldest first.
    recent: VecDeque<ActionType>,
    /// Actions recorded this episode.
    len: usize,
    /// Occurrences of each distinct action this episode.
    repeats: HashMap<Action, u32>,
}

impl History {
    /// Appends an action.
    pub fn push(&mut self, action: &Action) {
        if self.recent.len() == WINDOW - 1 {
            self.recent.pop_front();
        }
        self.recent.push_back(action.action_type);
        self.len += 1;
        match self.repeats.get_mut(action) {
            Some(n) => *n += 1,
            None => {
                self.repeats.insert(action.clone(), 1);
            }
        }
    }

    /// A history of these actions, in order.
    pub fn of(actions: &[Action]) -> History {
        let mut h = History::default();
        for a in actions {
            h.push(a);
        }
        h
    }
}

/// True when the action, given the agent's earlier actions this episode, is suspicious
/// enough that a detection roll is due. Needs a full window: the first four actions of an
/// episode are never at risk.
pub fn at_risk(history: &History, action: &Action) -> bool {
    let Some(rule) = rule(action.action_type) else { return false };
    if history.len + 1 < WINDOW {
        return false;
    }
    let t = action.action_type;
    let window = history.recent.iter().copied().chain(std::iter::once(t));
    let mut count = 0;
    let mut longest = 0;
    let mut run = 0;
    for x in window {
        if x == t {
            count += 1;
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let below_ratio = (count as f64 / WINDOW as f64) < rule.ratio_threshold;
    if let Some(consecutive) = rule.consecutive_threshold {
        !(below_ratio && longest < consecutive)
    } else {
        let repeats = history.repeats.get(action).copied().unwrap_or(0) as usize + 1;
        !(below_ratio && repeats < rule.repeat_threshold.unwrap_or(usize::MAX))
    }
}

/// The detector with its per-agent episode histories.
#[derive(Debug, Clone)]
pub struct GlobalDefender {
    rng: GameRng,
    /// What each agent did this episode, before the current action.
    histories: HashMap<AgentId, History>,
}

impl GlobalDefender {
    pub fn new(seed: i64) -> Self {
        GlobalDefender { rng: seeded_rng(seed, DEFENDER_STREAM), histories: HashMap::new() }
    }

    /// Reseeds after an agreed reset seed.
    pub fn reseed(&mut self, seed: i64) {
        self.rng = seeded_rng(seed, DEFENDER_STREAM);
    }

    /// Records `action` for `agent`. When `evaluate` (the goal was not reached by this action),
    /// first decides whether it is detected.
    pub fn observe(&mut self, agent: AgentId, action: &Action, evaluate: bool) -> bool {
        let history = self.histories.entry(agent).or_default();
        let detected = evaluate && at_risk(history, action) && {
            let p = rule(action.action_type).map_or(0.0, |r| r.probability);
            self.rng.random::<f64>() < p
        };
        history.push(action);
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

    fn hist(types: &[ActionType]) -> History {
        History::of(&types.iter().map(|t| act(*t, 1)).collect::<Vec<_>>())
    }

    fn of(actions: &[Action]) -> History {
        History::of(actions)
    }

    #[test]
    fn upstream_verified_cases() {
        assert!(!at_risk(&hist(&[F, D, F, D]), &act(S, 1)));
        assert!(at_risk(&hist(&[S, F, D, F]), &act(S, 1)));
        assert!(!at_risk(&hist(&[D, D, D, D]), &act(F, 1)));
        assert!(at_risk(&hist(&[D, D, S, S]), &act(D, 1)));
        assert!(at_risk(&of(&[act(D, 7), act(S, 1), act(S, 1), act(S, 1)]), &act(D, 7)));
        assert!(!at_risk(&of(&[act(D, 8), act(S, 1), act(S, 1), act(S, 1)]), &act(D, 7)));
        assert!(at_risk(&of(&[act(E, 8), act(S, 1), act(S, 1), act(S, 1)]), &act(E, 7)));
        assert!(!at_risk(&hist(&[S, S, S, S]), &act(E, 1)));
        assert!(at_risk(&of(&[act(E, 1), act(S, 1), act(S, 1), act(S, 1), act(S, 1), act(S, 1)]), &act(E, 1)));
        assert!(!at_risk(&hist(&[ActionType::BlockIP; 4]), &act(ActionType::BlockIP, 1)));
        assert!(!at_risk(&hist(&[S, S, S]), &act(S, 1)));
    }

    #[test]
    fn every_detectable_type_has_its_rule() {
        use ActionType::ExfiltrateData as X;
        // Three service scans in the window: over FindServices' ratio.
        assert!(at_risk(&hist(&[F, F, D, D]), &act(F, 1)));
        assert!(!at_risk(&hist(&[D, D, D, D]), &act(F, 1)));
        // Two exfiltrations in a row.
        assert!(at_risk(&hist(&[S, D, E, X]), &act(X, 1)));
        assert!(!at_risk(&hist(&[S, D, E, D]), &act(X, 1)));
    }

    #[test]
    fn the_window_is_the_last_five_actions() {
        // Old scans are out of the window: a scan after four data searches is safe.
        assert!(!at_risk(&hist(&[S, S, S, S, S, S, D, D, D, D]), &act(S, 1)));
        assert!(at_risk(&hist(&[D, D, D, D, S, S, S, S, S, D]), &act(S, 1)));
    }

    #[test]
    fn new_episodes_and_departures_forget_histories() {
        let mut d = GlobalDefender::new(1);
        for _ in 0..10 {
            d.observe(1, &act(S, 1), true);
            d.observe(2, &act(S, 1), true);
        }
        d.new_episode();
        assert!(d.histories.is_empty());
        d.observe(3, &act(S, 1), true);
        d.remove(3);
        assert!(!d.histories.contains_key(&3));
        // After a new episode the first four actions are never detected, whatever the seed.
        for seed in 0..50 {
            let mut d = GlobalDefender::new(seed);
            for _ in 0..20 {
                d.observe(1, &act(S, 1), true);
            }
            d.new_episode();
            assert!((0..4).all(|_| !d.observe(1, &act(S, 1), true)));
        }
    }

    #[test]
    fn reseeding_repeats_the_rolls() {
        let rolls = |d: &mut GlobalDefender| (0..200).map(|_| d.observe(1, &act(S, 1), true)).collect::<Vec<_>>();
        let mut a = GlobalDefender::new(1);
        let mut b = GlobalDefender::new(2);
        a.reseed(7);
        b.reseed(7);
        assert_eq!(rolls(&mut a), rolls(&mut b));
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

//! Step-level statistics of action types: how often each type is played at each step, how
//! often an action changes the agent's state (action efficiency), the action-type Markov chain
//! upstream estimates in `generate_mdp_from_trajecotries`, and the step-by-step flows its
//! Sankey diagram draws.
//!
//! Everything is a fixed-size table per step, so memory grows with the longest episode, not
//! with the number of episodes.

use netsecgame::components::ActionType;
use serde::Serialize;

/// Number of action types (rows and columns of the tables below).
pub const TYPES: usize = ActionType::ALL.len();
/// Index of "the episode ended" in flow targets.
pub const ENDED: usize = TYPES;

/// The index of a type in [`ActionType::ALL`].
pub fn type_index(t: ActionType) -> usize {
    ActionType::ALL.iter().position(|&x| x == t).unwrap_or(0)
}

#[derive(Debug, Clone)]
pub struct StepStats {
    /// `per_step[i][t]`: episodes whose action `i` (0-based) was of type `t`.
    pub per_step: Vec<[u64; TYPES]>,
    /// Actions per type, and those that changed the agent's state.
    pub actions: [u64; TYPES],
    pub changed: [u64; TYPES],
    /// `mdp[from][to]`: action-type transitions; row 0 is the start of an episode, row `t + 1`
    /// is type `t` (upstream's `idx_mapping` without its "Invalid": an unknown type makes the
    /// record unreadable here, and is reported).
    pub mdp: [[u64; TYPES]; TYPES + 1],
    /// `flow[i][a][b]`: episodes whose action `i` was of type `a` and action `i + 1` of type
    /// `b`, or that ended after action `i` (`b` = [`ENDED`]); for the first `flow_steps` steps.
    pub flow: Vec<[[u64; TYPES + 1]; TYPES]>,
    flow_steps: usize,
}

impl StepStats {
    pub fn new(flow_steps: usize) -> Self {
        StepStats {
            per_step: Vec::new(),
            actions: [0; TYPES],
            changed: [0; TYPES],
            mdp: [[0; TYPES]; TYPES + 1],
            flow: Vec::new(),
            flow_steps,
        }
    }

    /// Adds one episode: the type index of each action, and whether each changed the state.
    pub fn add(&mut self, types: &[usize], changed: &[bool]) {
        if self.per_step.len() < types.len() {
            self.per_step.resize(types.len(), [0; TYPES]);
        }
        let flows = types.len().min(self.flow_steps);
        if self.flow.len() < flows {
            self.flow.resize(flows, [[0; TYPES + 1]; TYPES]);
        }
        let mut prev = 0; // the start row
        for (i, (&t, &c)) in types.iter().zip(changed).enumerate() {
            self.per_step[i][t] += 1;
            self.actions[t] += 1;
            self.changed[t] += u64::from(c);
            self.mdp[prev][t] += 1;
            prev = t + 1;
            if i < flows {
                let next = types.get(i + 1).copied().unwrap_or(ENDED);
                self.flow[i][t][next] += 1;
            }
        }
    }

    /// Share of actions that changed the state: overall, and per type (None: never played).
    pub fn efficiency(&self) -> (f64, [Option<f64>; TYPES]) {
        let total: u64 = self.actions.iter().sum();
        let changed: u64 = self.changed.iter().sum();
        let per =
            std::array::from_fn(|t| (self.actions[t] > 0).then(|| self.changed[t] as f64 / self.actions[t] as f64));
        (if total == 0 { 0.0 } else { changed as f64 / total as f64 }, per)
    }

    /// The transition matrix as probabilities (each row divided by its total), rounded to
    /// two decimals as upstream shows it (`np.round`: halves to even).
    pub fn mdp_probabilities(&self) -> Vec<MdpRow> {
        let mut rows = Vec::new();
        for (i, row) in self.mdp.iter().enumerate() {
            let total: u64 = row.iter().sum();
            if total == 0 {
                continue;
            }
            let from = if i == 0 { "Start".to_string() } else { ActionType::ALL[i - 1].name().to_string() };
            let to = row
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(t, c)| {
                    (
                        ActionType::ALL[t].name().to_string(),
                        (*c as f64 / total as f64 * 100.0).round_ties_even() / 100.0,
                    )
                })
                .collect();
            rows.push(MdpRow { from, count: total, to });
        }
        rows
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MdpRow {
    pub from: String,
    /// Transitions out of `from`.
    pub count: u64,
    /// `[type, probability]` for every type reached.
    pub to: Vec<(String, f64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_count_what_they_say() {
        let mut s = StepStats::new(2);
        let (scan, find, exploit) = (0, 1, 3);
        s.add(&[scan, find, exploit], &[true, false, true]);
        s.add(&[scan, scan], &[true, false]);
        assert_eq!(s.per_step.len(), 3);
        assert_eq!(s.per_step[0][scan], 2);
        assert_eq!(s.per_step[1][scan], 1);
        assert_eq!(s.per_step[2][exploit], 1);
        let (all, per) = s.efficiency();
        assert!((all - 0.6).abs() < 1e-12);
        assert_eq!(per[scan], Some(2.0 / 3.0));
        assert_eq!(per[find], Some(0.0));
        assert_eq!(per[2], None);
        assert_eq!(s.mdp[0][scan], 2);
        assert_eq!(s.mdp[scan + 1][find], 1);
        assert_eq!(s.mdp[scan + 1][scan], 1);
        assert_eq!(s.flow.len(), 2);
        assert_eq!(s.flow[0][scan][find], 1);
        assert_eq!(s.flow[0][scan][scan], 1);
        assert_eq!(s.flow[1][scan][ENDED], 1);
        assert_eq!(s.flow[1][find][exploit], 1);
        let rows = s.mdp_probabilities();
        assert_eq!(rows[0].from, "Start");
        assert_eq!(rows[0].to, vec![("ScanNetwork".to_string(), 1.0)]);
        assert_eq!(rows[1].to, vec![("ScanNetwork".to_string(), 0.5), ("FindServices".to_string(), 0.5)]);
    }
}

//! Episode-level statistics: outcomes by end reason, win rate with a 95% interval, and the
//! distributions of episode length and return, per agent and role.
//!
//! Every accumulator is a count table keyed by value (lengths, returns, end reasons), so its
//! size is the number of distinct values, which the game bounds (`max_steps`, integer
//! rewards), never the number of episodes. Quantiles are then exact.
//!
//! A win is an episode that ended in `AgentStatus.Success` (what both servers write today) or
//! `goal_reached` (upstream's older spelling, which its `gameplay_graphs.py` still tests for).
//! The length of an episode is its number of actions, its return the sum of its rewards (the
//! last one includes the end reward), as upstream's `compute_mean_length` and notebooks count.

use serde::Serialize;
use std::collections::BTreeMap;

/// The end reason as shown: `Success`, `Fail`, `TimeoutReached`, ..., `none` for an episode
/// recorded before it ended (reset or quit mid-episode), older spellings as written.
pub fn outcome_name(end_reason: Option<&str>) -> String {
    match end_reason {
        None | Some("") => "none".to_string(),
        Some(r) => r.strip_prefix("AgentStatus.").unwrap_or(r).to_string(),
    }
}

/// True when an end reason means the agent reached its goal.
pub fn is_win(end_reason: Option<&str>) -> bool {
    matches!(end_reason, Some("AgentStatus.Success" | "Success" | "goal_reached"))
}

/// The 95% Wilson interval of a win rate ([`crate::stats::wilson_interval`]); with no
/// episodes, anything is possible: [0, 1].
pub fn wilson(wins: u64, n: u64) -> (f64, f64) {
    crate::stats::wilson_interval(wins, n).unwrap_or((0.0, 1.0))
}

/// An f64 that sorts (by `total_cmp`), for count tables keyed by value.
#[derive(Debug, Clone, Copy)]
struct Key(f64);
impl PartialEq for Key {
    fn eq(&self, o: &Self) -> bool {
        self.0.total_cmp(&o.0).is_eq()
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Key {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

/// The distribution of a value over episodes, kept exactly as a count per distinct value.
#[derive(Debug, Clone, Default)]
pub struct Distribution {
    counts: BTreeMap<Key, u64>,
    n: u64,
    sum: f64,
}

/// What a [`Distribution`] reports.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DistributionStats {
    pub n: u64,
    pub mean: f64,
    /// Population standard deviation (numpy's `np.std`).
    pub std: f64,
    pub min: f64,
    pub p25: f64,
    pub median: f64,
    pub p75: f64,
    pub max: f64,
    /// `[value, episodes]` pairs in increasing value.
    pub histogram: Vec<(f64, u64)>,
}

impl Distribution {
    pub fn add(&mut self, x: f64) {
        *self.counts.entry(Key(x)).or_default() += 1;
        self.n += 1;
        self.sum += x;
    }

    pub fn n(&self) -> u64 {
        self.n
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum / self.n as f64
        }
    }

    /// The value at rank `q` (0..=1), by the nearest-rank method on the exact counts.
    fn quantile(&self, q: f64) -> f64 {
        let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n.max(1));
        let mut seen = 0;
        for (k, c) in &self.counts {
            seen += c;
            if seen >= rank {
                return k.0;
            }
        }
        0.0
    }

    pub fn stats(&self) -> DistributionStats {
        let mean = self.mean();
        let var = if self.n == 0 {
            0.0
        } else {
            self.counts.iter().map(|(k, c)| *c as f64 * (k.0 - mean).powi(2)).sum::<f64>() / self.n as f64
        };
        DistributionStats {
            n: self.n,
            mean,
            std: var.sqrt(),
            min: self.counts.keys().next().map_or(0.0, |k| k.0),
            p25: self.quantile(0.25),
            median: self.quantile(0.5),
            p75: self.quantile(0.75),
            max: self.counts.keys().next_back().map_or(0.0, |k| k.0),
            histogram: self.counts.iter().map(|(k, c)| (k.0, *c)).collect(),
        }
    }
}

/// Statistics of a set of episodes (one agent, or a whole file).
#[derive(Debug, Clone, Default)]
pub struct EpisodeStats {
    pub episodes: u64,
    pub wins: u64,
    /// Episodes per end reason (see [`outcome_name`]).
    pub outcomes: BTreeMap<String, u64>,
    pub length: Distribution,
    pub ret: Distribution,
    /// Records our server cut short at its size bound (`"truncated": true`): counted with the
    /// others (their end reason and return are right, their later steps are missing).
    pub truncated: u64,
}

impl EpisodeStats {
    pub fn add(&mut self, end_reason: Option<&str>, length: usize, ret: f64, truncated: bool) {
        self.episodes += 1;
        self.truncated += u64::from(truncated);
        self.wins += u64::from(is_win(end_reason));
        *self.outcomes.entry(outcome_name(end_reason)).or_default() += 1;
        self.length.add(length as f64);
        self.ret.add(ret);
    }

    pub fn win_rate(&self) -> f64 {
        if self.episodes == 0 {
            0.0
        } else {
            self.wins as f64 / self.episodes as f64
        }
    }
}

/// An agent as the records name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AgentKey {
    pub role: String,
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_the_textbook() {
        // 8 of 10: the Wilson 95% interval is [0.490, 0.943].
        let (lo, hi) = wilson(8, 10);
        assert!((lo - 0.4902).abs() < 1e-3 && (hi - 0.9433).abs() < 1e-3, "{lo} {hi}");
        assert_eq!(wilson(0, 0), (0.0, 1.0));
        let (lo, hi) = wilson(0, 50);
        assert!(lo == 0.0 && hi > 0.0 && hi < 0.1);
    }

    #[test]
    fn distribution_quantiles_are_exact() {
        let mut d = Distribution::default();
        for x in [5.0, 1.0, 3.0, 2.0, 4.0, 4.0] {
            d.add(x);
        }
        let s = d.stats();
        assert_eq!((s.min, s.p25, s.median, s.p75, s.max), (1.0, 2.0, 3.0, 4.0, 5.0));
        assert!((s.mean - 19.0 / 6.0).abs() < 1e-12);
        assert_eq!(s.histogram, vec![(1.0, 1), (2.0, 1), (3.0, 1), (4.0, 2), (5.0, 1)]);
    }

    #[test]
    fn outcomes_and_wins() {
        assert_eq!(outcome_name(Some("AgentStatus.TimeoutReached")), "TimeoutReached");
        assert_eq!(outcome_name(None), "none");
        assert!(
            is_win(Some("goal_reached")) && is_win(Some("AgentStatus.Success")) && !is_win(Some("AgentStatus.Fail"))
        );
    }
}

//! The gameplay graph, as upstream's `TrajectoryGraph` (`gameplay_graphs.py`) defines it:
//! states are nodes, and each step `states[i-1] --actions[i-1]--> states[i]` is an edge keyed
//! by `(source, target, action)`, counted per checkpoint (input file). States and actions are
//! deduplicated by upstream's identities ([`super::identity`]) and numbered once across all
//! checkpoints, so the graphs of a training run's checkpoints can be compared edge by edge.
//!
//! Per checkpoint, as upstream computes them:
//! * win rate and its standard deviation over the plays in the graph (plays with at least one
//!   action, after the end-reason filter);
//! * nodes (states that appear in an edge), edges, "simplified" edges `(source, target)`,
//!   self-loops of both kinds;
//! * in- and out-degree (edges into / out of each node) mean and standard deviation;
//! * edge-play likelihood: `min(count / records, 1)` per edge, `records` being every record
//!   read from that checkpoint (upstream's `_checkpoint_size`);
//! * what changed since the previous checkpoint: nodes and edges added and removed
//!   (`get_graph_modificiation`).
//!
//! Upstream's `get_graph_entropies` never ran (it iterates over a method); what it aims at is
//! the entropy of how play spreads over edges. We report two, in nats: `edge_entropy`, of
//! `p(e) = count(e) / steps` (upstream's `get_graph_structure_probabilistic_progress`), and
//! `transition_entropy`, the mean over visited states of the entropy of the edges leaving them,
//! weighted by visits: how undecided the agent is where it stands (0 for a fixed policy in a
//! deterministic world).
//!
//! Memory is the graph itself (distinct states, actions and edges), never the episode count.

use foldhash::fast::RandomState;
use serde::Serialize;
use std::collections::HashMap;

/// Edge key: (source state, target state, action).
pub type Edge = (u32, u32, u32);

/// Numbers strings in order of first appearance. The map owns the only copy of each string;
/// [`Interner::labels`] lists them by number when they are needed (export).
#[derive(Debug, Default)]
pub struct Interner {
    ids: HashMap<Box<str>, u32, RandomState>,
}

impl Interner {
    /// The number of `key`, and whether it is new.
    pub fn intern(&mut self, key: &str) -> (u32, bool) {
        if let Some(&id) = self.ids.get(key) {
            return (id, false);
        }
        let id = u32::try_from(self.ids.len()).expect("fewer than 2^32 distinct states and actions");
        self.ids.insert(key.into(), id);
        (id, true)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Every string, indexed by its number.
    pub fn labels(&self) -> Vec<&str> {
        let mut out = vec![""; self.ids.len()];
        for (k, &id) in &self.ids {
            out[id as usize] = k;
        }
        out
    }
}

/// One checkpoint's part of the graph.
#[derive(Debug, Default)]
pub struct Checkpoint {
    /// Records read (before filtering): upstream's checkpoint size, the denominator of
    /// edge-play likelihoods.
    pub records: u64,
    /// Plays in the graph (filtered, at least one action) and their wins.
    pub plays: u64,
    pub wins: u64,
    pub edges: HashMap<Edge, u64, RandomState>,
}

/// The graph of every checkpoint.
#[derive(Debug, Default)]
pub struct GameplayGraph {
    pub states: Interner,
    pub actions: Interner,
    /// Per action number: its type index and a short label (for charts and exports).
    pub action_info: Vec<(usize, String)>,
    /// Per state number: the first checkpoint it appeared in.
    pub state_first_seen: Vec<u32>,
    pub checkpoints: Vec<Checkpoint>,
}

/// The edges of all checkpoints, sorted, with their counts per checkpoint (0 where absent).
#[derive(Debug)]
pub struct EdgeTable {
    pub checkpoints: usize,
    pub edges: Vec<Edge>,
    /// `counts[i * checkpoints + c]`: edge `i`'s count in checkpoint `c`.
    counts: Vec<u64>,
}

impl EdgeTable {
    /// Edge `i`'s count in each checkpoint.
    pub fn counts(&self, i: usize) -> &[u64] {
        &self.counts[i * self.checkpoints..(i + 1) * self.checkpoints]
    }
}

/// Statistics of one checkpoint's graph.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GraphStats {
    pub plays: u64,
    pub win_rate: f64,
    pub win_rate_std: f64,
    pub nodes: usize,
    pub edges: usize,
    pub simplified_edges: usize,
    pub loops: usize,
    pub simplified_loops: usize,
    pub in_degree_mean: f64,
    pub in_degree_std: f64,
    pub out_degree_mean: f64,
    pub out_degree_std: f64,
    pub steps: u64,
    pub edge_entropy: f64,
    pub transition_entropy: f64,
    /// Mean over edges of the edge-play likelihood.
    pub mean_edge_play_likelihood: f64,
    /// Change from the previous checkpoint (absent for the first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub growth: Option<Growth>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Growth {
    pub nodes_added: usize,
    pub nodes_removed: usize,
    pub edges_added: usize,
    pub edges_removed: usize,
}

impl GameplayGraph {
    pub fn start_checkpoint(&mut self) {
        self.checkpoints.push(Checkpoint::default());
    }

    fn current(&mut self) -> &mut Checkpoint {
        if self.checkpoints.is_empty() {
            self.start_checkpoint();
        }
        self.checkpoints.last_mut().expect("a checkpoint")
    }

    /// The number of a state given its identity string.
    pub fn state_id(&mut self, key: &str) -> u32 {
        let (id, new) = self.states.intern(key);
        if new {
            let cp = self.checkpoints.len().saturating_sub(1) as u32;
            self.state_first_seen.push(cp);
        }
        id
    }

    /// The number of an action given its identity key; `label` is called for a new one.
    pub fn action_id(&mut self, key: &str, type_index: usize, label: impl FnOnce() -> String) -> u32 {
        let (id, new) = self.actions.intern(key);
        if new {
            self.action_info.push((type_index, label()));
        }
        id
    }

    /// Counts a record read from the current checkpoint.
    pub fn count_record(&mut self) {
        self.current().records += 1;
    }

    /// Adds one play: its state numbers (one more than actions) and action numbers.
    pub fn add_play(&mut self, states: &[u32], actions: &[u32], win: bool) {
        if actions.is_empty() {
            return; // upstream skips plays without actions
        }
        let cp = self.current();
        cp.plays += 1;
        cp.wins += u64::from(win);
        for (i, &a) in actions.iter().enumerate() {
            *cp.edges.entry((states[i], states[i + 1], a)).or_default() += 1;
        }
    }

    /// Statistics of every checkpoint, each with its growth from the one before.
    pub fn stats(&self) -> Vec<GraphStats> {
        let mut out: Vec<GraphStats> = Vec::with_capacity(self.checkpoints.len());
        // Plays name states by number; any number an edge uses is below `states`.
        let states = self
            .checkpoints
            .iter()
            .flat_map(|c| c.edges.keys())
            .map(|&(s, d, _)| s.max(d) as usize + 1)
            .max()
            .unwrap_or(0)
            .max(self.states.len());
        for (i, cp) in self.checkpoints.iter().enumerate() {
            let mut s = checkpoint_stats(cp, states);
            if i > 0 {
                s.growth = Some(growth(&self.checkpoints[i - 1], cp, states));
            }
            out.push(s);
        }
        out
    }

    /// Every edge of every checkpoint with its count in each, sorted by (source, target,
    /// action): one sort instead of a look-up per edge and checkpoint.
    pub fn edge_table(&self) -> EdgeTable {
        let n = self.checkpoints.len();
        let mut all: Vec<(Edge, usize, u64)> = self
            .checkpoints
            .iter()
            .enumerate()
            .flat_map(|(c, cp)| cp.edges.iter().map(move |(&e, &k)| (e, c, k)))
            .collect();
        all.sort_unstable_by_key(|&(e, c, _)| (e, c));
        let mut table = EdgeTable { checkpoints: n, edges: Vec::new(), counts: Vec::new() };
        for (e, c, k) in all {
            if table.edges.last() != Some(&e) {
                table.edges.push(e);
                table.counts.resize(table.counts.len() + n, 0);
            }
            let row = table.edges.len() - 1;
            table.counts[row * n + c] = k;
        }
        table
    }

    /// How many distinct edges the checkpoints have together.
    pub fn edge_count(&self) -> usize {
        match self.checkpoints.as_slice() {
            [] => 0,
            [one] => one.edges.len(),
            _ => self.edge_table().edges.len(),
        }
    }
}

/// Edge-play likelihood of an edge played `count` times in a checkpoint of `records` records:
/// `min(count / records, 1)`, 0 for an empty checkpoint.
pub fn play_likelihood(count: u64, records: u64) -> f64 {
    if records == 0 {
        0.0
    } else {
        (count as f64 / records as f64).min(1.0)
    }
}

fn mean_std(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = values.collect();
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
    (mean, var.sqrt())
}

fn entropy(counts: impl Iterator<Item = u64>, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    counts
        .filter(|&c| c > 0)
        .map(|c| {
            let p = c as f64 / total as f64;
            -p * p.ln()
        })
        .sum()
}

/// Which states (by number, below `states`) are an end of some edge of `cp`.
fn node_set(cp: &Checkpoint, states: usize) -> Vec<bool> {
    let mut seen = vec![false; states];
    for &(s, d, _) in cp.edges.keys() {
        seen[s as usize] = true;
        seen[d as usize] = true;
    }
    seen
}

/// The statistics of one checkpoint. Its edges are sorted by (source, target, action), so the
/// edges leaving a state, and the parallel edges of a (source, target) pair, sit together and
/// one pass counts them; degrees are arrays indexed by state number (states are numbered
/// densely from 0, fewer than `states`).
fn checkpoint_stats(cp: &Checkpoint, states: usize) -> GraphStats {
    let mut edges: Vec<(Edge, u64)> = cp.edges.iter().map(|(&e, &n)| (e, n)).collect();
    edges.sort_unstable_by_key(|&(e, _)| e);
    let mut in_deg = vec![0u64; states];
    let mut out_deg = vec![0u64; states];
    let (mut simplified_edges, mut simplified_loops, mut loops) = (0, 0, 0);
    let steps: u64 = edges.iter().map(|&(_, n)| n).sum();
    let mut transition_entropy = 0.0;
    let mut group = 0; // first edge of the current source's run
    for (i, &((s, d, _), _)) in edges.iter().enumerate() {
        out_deg[s as usize] += 1;
        in_deg[d as usize] += 1;
        loops += usize::from(s == d);
        if i == 0 || (edges[i - 1].0 .0, edges[i - 1].0 .1) != (s, d) {
            simplified_edges += 1;
            simplified_loops += usize::from(s == d);
        }
        let last_of_source = edges.get(i + 1).is_none_or(|next| next.0 .0 != s);
        if last_of_source {
            let run = &edges[group..=i];
            let total: u64 = run.iter().map(|&(_, n)| n).sum();
            if steps > 0 {
                transition_entropy += total as f64 / steps as f64 * entropy(run.iter().map(|&(_, n)| n), total);
            }
            group = i + 1;
        }
    }
    let nonzero = |v: &[u64]| v.iter().filter(|&&x| x > 0).map(|&x| x as f64).collect::<Vec<_>>();
    let (in_mean, in_std) = mean_std(nonzero(&in_deg).into_iter());
    let (out_mean, out_std) = mean_std(nonzero(&out_deg).into_iter());
    let nodes = in_deg.iter().zip(&out_deg).filter(|(i, o)| **i > 0 || **o > 0).count();
    let win_rate = if cp.plays == 0 { f64::NAN } else { cp.wins as f64 / cp.plays as f64 };
    let mean_lk = if edges.is_empty() || cp.records == 0 {
        0.0
    } else {
        edges.iter().map(|&(_, n)| play_likelihood(n, cp.records)).sum::<f64>() / edges.len() as f64
    };
    GraphStats {
        plays: cp.plays,
        win_rate,
        win_rate_std: (win_rate * (1.0 - win_rate)).sqrt(),
        nodes,
        edges: edges.len(),
        simplified_edges,
        loops,
        simplified_loops,
        in_degree_mean: in_mean,
        in_degree_std: in_std,
        out_degree_mean: out_mean,
        out_degree_std: out_std,
        steps,
        edge_entropy: entropy(edges.iter().map(|&(_, n)| n), steps),
        transition_entropy,
        mean_edge_play_likelihood: mean_lk,
        growth: None,
    }
}

fn growth(before: &Checkpoint, after: &Checkpoint, states: usize) -> Growth {
    let (nb, na) = (node_set(before, states), node_set(after, states));
    Growth {
        nodes_added: na.iter().zip(&nb).filter(|(a, b)| **a && !**b).count(),
        nodes_removed: na.iter().zip(&nb).filter(|(a, b)| !**a && **b).count(),
        edges_added: after.edges.keys().filter(|e| !before.edges.contains_key(e)).count(),
        edges_removed: before.edges.keys().filter(|e| !after.edges.contains_key(e)).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_of_a_small_graph() {
        let mut g = GameplayGraph::default();
        g.start_checkpoint();
        for _ in 0..4 {
            g.count_record();
        }
        // 0 -a-> 1 -b-> 2 (win); 0 -a-> 1 -c-> 1 (loop); an empty play is skipped.
        g.add_play(&[0, 1, 2], &[0, 1], true);
        g.add_play(&[0, 1, 1], &[0, 2], false);
        g.add_play(&[0], &[], false);
        let s = &g.stats()[0];
        assert_eq!((s.plays, s.nodes, s.edges, s.simplified_edges, s.loops, s.simplified_loops), (2, 3, 3, 3, 1, 1));
        assert_eq!(s.win_rate, 0.5);
        assert_eq!(s.win_rate_std, 0.5);
        assert_eq!(s.steps, 4);
        // p = (2/4, 1/4, 1/4)
        let h = -(0.5f64 * 0.5f64.ln() + 2.0 * 0.25 * 0.25f64.ln());
        assert!((s.edge_entropy - h).abs() < 1e-12);
        // state 0 always takes one edge (H = 0), state 1 splits 1:1 (H = ln 2), visited 2 of 4 steps.
        assert!((s.transition_entropy - 0.5 * 2f64.ln()).abs() < 1e-12);
        let likelihood = |e: Edge| play_likelihood(g.checkpoints[0].edges[&e], g.checkpoints[0].records);
        assert_eq!(likelihood((0, 1, 0)), 0.5);
        assert_eq!(likelihood((1, 2, 1)), 0.25);

        g.start_checkpoint();
        g.count_record();
        g.add_play(&[0, 1, 3], &[0, 3], true);
        let all = g.stats();
        assert_eq!(all[1].growth, Some(Growth { nodes_added: 1, nodes_removed: 1, edges_added: 1, edges_removed: 2 }));
        assert_eq!(g.edge_count(), 4);
    }

    #[test]
    fn interner_numbers_in_order() {
        let mut i = Interner::default();
        assert_eq!(i.intern("b"), (0, true));
        assert_eq!(i.intern("a"), (1, true));
        assert_eq!(i.intern("b"), (0, false));
        assert_eq!(i.labels(), vec!["b", "a"]);
    }
}

//! Counters of one game for operators (`/metrics` of the web view): steps, agents' episodes,
//! connections, bad requests and the step latency histogram.
//!
//! A game has them only when asked ([`super::GameConfig::metrics`], which `--http` sets), so a
//! server without the web view does not even read the clock per step. They are plain relaxed
//! atomics written by the game's own thread (and its TCP sessions) and read by the web
//! view's thread when scraped: no lock, no allocation, nothing shared between games.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the step latency buckets, in seconds (Prometheus `le`). A step over TCP
/// takes tens of microseconds on loopback; in-process a few; anything past 10 ms is a
/// stall worth seeing.
pub const LATENCY_BOUNDS: [f64; 14] = [
    0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.1, 1.0,
];

/// A fixed-bucket histogram of durations (the Prometheus histogram model: per-bucket counts,
/// a count and a sum). Buckets are stored non-cumulatively; [`Histogram::cumulative`] adds
/// them up for the text format.
#[derive(Debug, Default)]
pub struct Histogram {
    /// One count per bound, and one for what lies past the last bound.
    buckets: [AtomicU64; LATENCY_BOUNDS.len() + 1],
    count: AtomicU64,
    sum_ns: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = LATENCY_BOUNDS.iter().position(|&b| secs <= b).unwrap_or(LATENCY_BOUNDS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Sum of the observations, in seconds.
    pub fn sum_seconds(&self) -> f64 {
        self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9
    }

    /// Cumulative counts per bound (`le`), then the total (`+Inf`).
    pub fn cumulative(&self) -> [u64; LATENCY_BOUNDS.len() + 1] {
        let mut out = [0; LATENCY_BOUNDS.len() + 1];
        let mut total = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            total += b.load(Ordering::Relaxed);
            out[i] = total;
        }
        out
    }

    /// Adds `other`'s observations to this one.
    pub fn absorb(&self, other: &Histogram) {
        for (mine, theirs) in self.buckets.iter().zip(&other.buckets) {
            mine.fetch_add(theirs.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        self.count.fetch_add(other.count.load(Ordering::Relaxed), Ordering::Relaxed);
        self.sum_ns.fetch_add(other.sum_ns.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

/// One game's counters and gauges.
#[derive(Debug, Default)]
pub struct GameMetrics {
    /// Game actions processed.
    pub steps: AtomicU64,
    /// Game actions the global defender detected.
    pub detections: AtomicU64,
    /// Agents' episodes that ended (one per agent per episode).
    pub agent_episodes: AtomicU64,
    /// Requests answered with BAD_REQUEST (by the rules, or by a TCP session that could not
    /// decode them).
    pub bad_requests: AtomicU64,
    /// Open connections, joined or not (gauge).
    pub connections: AtomicU64,
    /// Joined agents (gauge).
    pub players: AtomicU64,
    /// The number of the current episode (gauge).
    pub episode: AtomicU64,
    /// Events a live view was too slow to take and that were dropped for it.
    pub watch_dropped: AtomicU64,
    /// From a game action's arrival at the game to its processing (world and global defender
    /// included, barriers excluded).
    pub step_latency: Histogram,
}

impl GameMetrics {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn set(gauge: &AtomicU64, n: u64) {
        gauge.store(n, Ordering::Relaxed);
    }

    /// Adds this game's counters (not its gauges) to `totals`: what a finished game leaves to
    /// the process's totals.
    pub fn retire_into(&self, totals: &GameMetrics) {
        for (mine, theirs) in [
            (&self.steps, &totals.steps),
            (&self.detections, &totals.detections),
            (&self.agent_episodes, &totals.agent_episodes),
            (&self.bad_requests, &totals.bad_requests),
            (&self.watch_dropped, &totals.watch_dropped),
        ] {
            theirs.fetch_add(mine.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        totals.step_latency.absorb(&self.step_latency);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_sum_up() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(3));
        h.observe(Duration::from_micros(30));
        h.observe(Duration::from_secs(5));
        let c = h.cumulative();
        assert_eq!(c[0], 1, "3 us <= 5 us");
        assert_eq!(c[3], 2, "30 us <= 50 us");
        assert_eq!(c[LATENCY_BOUNDS.len() - 1], 2, "5 s is past every bound");
        assert_eq!(c[LATENCY_BOUNDS.len()], 3);
        assert_eq!(h.count(), 3);
        assert!((h.sum_seconds() - 5.000_033).abs() < 1e-9);
        let totals = GameMetrics::default();
        let game = GameMetrics::default();
        game.steps.fetch_add(7, Ordering::Relaxed);
        game.connections.store(3, Ordering::Relaxed);
        game.step_latency.absorb(&h);
        game.retire_into(&totals);
        assert_eq!(GameMetrics::get(&totals.steps), 7);
        assert_eq!(GameMetrics::get(&totals.connections), 0, "gauges are not carried over");
        assert_eq!(totals.step_latency.count(), 3);
    }
}

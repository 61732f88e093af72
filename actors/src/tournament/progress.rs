//! Progress of a run: a bar with an ETA on a terminal, plain lines every few seconds
//! otherwise (logs of batch jobs), nothing with `--quiet`.

use super::play::MatchResult;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

pub struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    total: usize,
    done: usize,
    forfeits: usize,
    episodes: u64,
    started: Instant,
    last_line: Instant,
}

const PLAIN_EVERY: Duration = Duration::from_secs(5);

impl Progress {
    /// `total` matches to play now (finished ones are not counted).
    pub fn new(total: usize, quiet: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:40.cyan/blue}] {pos}/{len} matches, {eta} left {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            plain: !quiet && !terminal,
            total,
            done: 0,
            forfeits: 0,
            episodes: 0,
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    pub fn match_done(&mut self, r: &MatchResult) {
        self.done += 1;
        self.forfeits += r.forfeits.len();
        self.episodes += r.episodes;
        let msg = format!("{} episodes, {} forfeits", self.episodes, self.forfeits);
        if let Some(bar) = &self.bar {
            bar.set_message(msg);
            bar.inc(1);
        } else if self.plain && (self.last_line.elapsed() >= PLAIN_EVERY || self.done == self.total) {
            self.last_line = Instant::now();
            let secs = self.started.elapsed().as_secs_f64();
            let eta = if self.done > 0 { secs / self.done as f64 * (self.total - self.done) as f64 } else { 0.0 };
            eprintln!("[{secs:>7.0} s] matches {}/{}, {msg}, about {eta:.0} s left", self.done, self.total);
        }
        for f in &r.forfeits {
            self.note(&format!("match {}: {} forfeits: {}", f.match_id, f.entrant, f.reason));
        }
    }

    /// A line above the bar (or on its own).
    pub fn note(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None if self.plain => eprintln!("{line}"),
            None => {}
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

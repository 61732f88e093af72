//! The schedule: a round robin of every attacker against every defender (or, with no defender
//! entrants, against the task's global defender alone), over every task and seed, with every
//! benign entrant in every match. The order, and so each match's number, is fixed by the file:
//! tasks, then seeds, then attackers, then defenders, in the order they are listed.

use super::config::{EntrantKind, Tournament};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// One match: entrants play `episodes` episodes of one task with one seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Its number in the whole schedule (shards keep the numbers).
    pub index: usize,
    /// Index into `Tournament::tasks`.
    pub task: usize,
    /// The game seed; built-in agents derive theirs from it.
    pub seed: i64,
    /// Indices into `Tournament::entrants`.
    pub attacker: usize,
    pub defender: Option<usize>,
    pub benign: Vec<usize>,
}

impl Match {
    /// Every entrant of the match.
    pub fn entrants(&self) -> Vec<usize> {
        let mut out = vec![self.attacker];
        out.extend(self.defender);
        out.extend(self.benign.iter().copied());
        out
    }
}

/// The whole schedule, in order.
pub fn schedule(t: &Tournament) -> Vec<Match> {
    let benign: Vec<usize> = t.benign().map(|(i, _)| i).collect();
    let defenders: Vec<Option<usize>> = {
        let d: Vec<Option<usize>> = t.defenders().map(|(i, _)| Some(i)).collect();
        if d.is_empty() {
            vec![None]
        } else {
            d
        }
    };
    let mut out = Vec::new();
    for task in 0..t.tasks.len() {
        for &seed in &t.seeds {
            for (attacker, _) in t.attackers() {
                for &defender in &defenders {
                    out.push(Match { index: out.len(), task, seed, attacker, defender, benign: benign.clone() });
                }
            }
        }
    }
    out
}

/// A deterministic part of the schedule: shard `index` of `count` plays every match whose
/// number is `index` modulo `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N` (0 <= I < N).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text.split_once('/').ok_or_else(|| format!("`{text}`: a shard is written I/N, e.g. 0/4"))?;
        let index: usize = i.trim().parse().map_err(|_| format!("`{text}`: `{i}` is not a number"))?;
        let count: usize = n.trim().parse().map_err(|_| format!("`{text}`: `{n}` is not a number"))?;
        if count == 0 || index >= count {
            return Err(format!("`{text}`: the shard index must be 0 to {}", count.saturating_sub(1)));
        }
        Ok(Shard { index, count })
    }

    pub fn contains(&self, m: &Match) -> bool {
        m.index % self.count == self.index
    }
}

/// What identifies a tournament's results: everything in the file that changes them (not
/// `parallel`). A store made from another tournament is refused.
pub fn fingerprint(t: &Tournament) -> String {
    #[derive(Serialize)]
    struct Canon<'a> {
        episodes: u64,
        seeds: &'a [i64],
        tasks: Vec<(&'a str, &'a str)>,
        limits: (f64, f64, f64),
        entrants: Vec<(&'a str, &'a str, String)>,
    }
    let canon = Canon {
        episodes: t.episodes,
        seeds: &t.seeds,
        tasks: t.tasks.iter().map(|x| (x.label.as_str(), x.task.configuration_hash.as_str())).collect(),
        limits: (t.limits.join.as_secs_f64(), t.limits.step.as_secs_f64(), t.limits.whole_match.as_secs_f64()),
        entrants: t
            .entrants
            .iter()
            .map(|e| {
                let how = match &e.kind {
                    EntrantKind::Builtin(b) => format!("builtin:{}", b.name()),
                    EntrantKind::Command { command, env, .. } => format!("command:{command} env:{env:?}"),
                };
                (e.name.as_str(), e.role.name(), how)
            })
            .collect(),
    };
    let text = serde_json::to_string(&canon).expect("serialisable");
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn t(yaml: &str) -> Tournament {
        Tournament::from_yaml(yaml, "t.yaml", Path::new(".")).unwrap()
    }

    #[test]
    fn round_robin_of_attackers_and_defenders_with_benign_everywhere() {
        let t = t("episodes: 1\nseeds: [1, 2]\nentrants:\n  - {name: a1, role: Attacker, builtin: random_attacker}\n  - {name: d1, role: Defender, builtin: log_defender}\n  - {name: a2, role: Attacker, builtin: scripted_attacker}\n  - {name: d2, role: Defender, builtin: random_defender}\n  - {name: b, role: Benign, builtin: benign}\n");
        let s = schedule(&t);
        assert_eq!(s.len(), 2 * 2 * 2);
        assert!(s.iter().all(|m| m.benign == vec![4]));
        assert_eq!((s[0].attacker, s[0].defender, s[0].seed), (0, Some(1), 1));
        assert_eq!((s[1].attacker, s[1].defender), (0, Some(3)));
        assert_eq!(s[4].seed, 2);
        assert!(s.iter().enumerate().all(|(i, m)| m.index == i));
    }

    #[test]
    fn attackers_alone_play_the_global_defender() {
        let t = t("episodes: 1\nentrants:\n  - {name: a1, role: Attacker, builtin: random_attacker}\n");
        assert_eq!(schedule(&t)[0].defender, None);
    }

    #[test]
    fn shards_split_the_schedule_exactly() {
        let t = t("episodes: 1\nseeds: [1, 2, 3, 4, 5]\nentrants:\n  - {name: a1, role: Attacker, builtin: random_attacker}\n");
        let all = schedule(&t);
        let mut seen = 0;
        for i in 0..3 {
            let shard = Shard::parse(&format!("{i}/3")).unwrap();
            seen += all.iter().filter(|m| shard.contains(m)).count();
        }
        assert_eq!(seen, all.len());
        assert!(Shard::parse("3/3").is_err() && Shard::parse("x").is_err() && Shard::parse("0/0").is_err());
    }

    #[test]
    fn the_fingerprint_follows_what_changes_results() {
        let a = t("episodes: 1\nentrants:\n  - {name: a1, role: Attacker, builtin: random_attacker}\n");
        let b = t("episodes: 2\nentrants:\n  - {name: a1, role: Attacker, builtin: random_attacker}\n");
        let c = t("episodes: 1\nparallel: 7\nentrants:\n  - {name: a1, role: Attacker, builtin: random_attacker}\n");
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a), fingerprint(&c), "parallelism does not change results");
    }
}

//! Results recomputed from the match log alone: per-role ratings, a leaderboard, and the
//! attacker x defender matrix.
//!
//! Ratings are Weng-Lin (the Bayesian online ranking behind OpenSkill, a TrueSkill relative,
//! from the `skillratings` crate): each entrant has a mean skill and an uncertainty, both
//! updated after every episode of an attacker against a defender (an attacker alone plays the
//! task's global defender, rated as a pseudo-entrant). We rank by the conservative estimate
//! mean - 3 x uncertainty, so an entrant seen in few episodes is not ranked above a proven
//! one, and we chose Weng-Lin over Elo and Glicko-2 because its uncertainty is part of the
//! estimate (as in TrueSkill) while it stays exact for two-player games and cheap. Episodes
//! are applied in match then episode order, so the same log gives the same ratings however
//! the matches were scheduled or sharded.
//!
//! A forfeited match is lost whole: the entrant that forfeited loses every one of the match's
//! episodes against its opponent, whose rating is left as it was (it is not penalised, nor
//! rewarded for the other's crash). Its episodes are kept in the log but left out of every
//! other result.
//! Benign entrants are unrated: their stats are reported, they have nobody to beat.

use super::store::{Contents, EpisodeRow};
use serde::Serialize;
use skillratings::weng_lin::{weng_lin, WengLinConfig, WengLinRating};
use skillratings::Outcomes;
use std::collections::{BTreeMap, BTreeSet};

/// The pseudo-entrant that defends in matches without a defender entrant.
pub const GLOBAL_DEFENDER: &str = "(global defender)";

/// One line of the leaderboard.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Standing {
    pub entrant: String,
    pub role: String,
    /// Conservative estimate: mean - 3 x uncertainty (None for benign entrants).
    pub rating: Option<f64>,
    pub mu: Option<f64>,
    pub sigma: Option<f64>,
    /// Rank within the role, 1 for the best (None for benign entrants).
    pub rank: Option<usize>,
    /// Matches played, forfeited ones included.
    pub matches: u64,
    /// Episodes completed in matches that were not forfeited.
    pub episodes: u64,
    pub wins: u64,
    pub losses: u64,
    pub forfeits: u64,
    pub win_rate: f64,
    /// 95% Wilson interval of the win rate.
    pub win_rate_low: f64,
    pub win_rate_high: f64,
    pub mean_return: f64,
    pub mean_steps: f64,
    /// Share of episodes in which the global defender detected it (attackers).
    pub detection_rate: f64,
}

/// One cell of the attacker x defender matrix (the attacker's view).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cell {
    pub attacker: String,
    pub defender: String,
    pub episodes: u64,
    pub win_rate: f64,
    pub win_rate_low: f64,
    pub win_rate_high: f64,
    pub mean_return: f64,
    pub mean_length: f64,
    pub detection_rate: f64,
}

/// Everything the reports show.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub standings: Vec<Standing>,
    pub matrix: Vec<Cell>,
    /// After each finished match (in match order): every rated entrant's conservative rating.
    pub history: Vec<(usize, BTreeMap<String, f64>)>,
    pub matches: usize,
    pub episodes: usize,
}

/// The 95% Wilson score interval of `wins` out of `n` ([`crate::stats::wilson_interval`]);
/// (0, 0) when nothing was played.
pub fn wilson(wins: u64, n: u64) -> (f64, f64) {
    crate::stats::wilson_interval(wins, n).unwrap_or((0.0, 0.0))
}

fn conservative(r: &WengLinRating) -> f64 {
    r.rating - 3.0 * r.uncertainty
}

#[derive(Default)]
struct Tally {
    matches: u64,
    episodes: u64,
    wins: u64,
    forfeits: u64,
    return_sum: f64,
    steps_sum: u64,
    detected: u64,
}

impl Tally {
    fn add(&mut self, e: &EpisodeRow) {
        self.episodes += 1;
        self.wins += u64::from(e.won);
        self.return_sum += e.episode_return;
        self.steps_sum += e.steps;
        self.detected += u64::from(e.detected);
    }

    fn mean(&self, x: f64) -> f64 {
        if self.episodes == 0 {
            0.0
        } else {
            x / self.episodes as f64
        }
    }
}

/// Recomputes every result from a store's contents.
pub fn compute(c: &Contents) -> Results {
    let config = WengLinConfig::new();
    let mut ratings: BTreeMap<String, WengLinRating> = BTreeMap::new();
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let roles: BTreeMap<&str, &str> = c.entrants.iter().map(|e| (e.name.as_str(), e.role.as_str())).collect();
    let rated = |name: &str| roles.get(name).is_some_and(|r| *r != "Benign");
    for e in c.entrants.iter().filter(|e| e.role != "Benign") {
        ratings.insert(e.name.clone(), WengLinRating::new());
    }
    let forfeits: BTreeMap<usize, BTreeSet<&str>> = c.forfeits.iter().fold(BTreeMap::new(), |mut m, f| {
        m.entry(f.match_id).or_default().insert(f.entrant.as_str());
        m
    });
    let mut by_match: BTreeMap<usize, Vec<&EpisodeRow>> = BTreeMap::new();
    for e in &c.episodes {
        by_match.entry(e.match_id).or_default().push(e);
    }
    let mut cells: BTreeMap<(String, String), Tally> = BTreeMap::new();
    let mut history = Vec::new();
    let mut played = 0;
    for m in &c.matches {
        let defender = m.defender.clone().unwrap_or_else(|| GLOBAL_DEFENDER.to_string());
        let mut members = vec![m.attacker.clone()];
        members.extend(m.defender.clone());
        members.extend(m.benign.split(',').filter(|b| !b.is_empty()).map(str::to_string));
        for name in &members {
            tallies.entry(name.clone()).or_default().matches += 1;
        }
        if let Some(quitters) = forfeits.get(&m.id) {
            for q in quitters {
                tallies.entry(q.to_string()).or_default().forfeits += 1;
            }
            // The match is lost whole by whoever forfeited; the other side's rating stays.
            let a_out = quitters.contains(m.attacker.as_str());
            let d_out = m.defender.as_deref().is_some_and(|d| quitters.contains(d));
            for _ in 0..m.episodes {
                if a_out {
                    rate_one(&mut ratings, &m.attacker, &defender, &Outcomes::LOSS, &config);
                }
                if d_out {
                    rate_one(&mut ratings, &defender, &m.attacker, &Outcomes::LOSS, &config);
                }
            }
        } else {
            let episodes = by_match.get(&m.id).map(Vec::as_slice).unwrap_or_default();
            let attacker_eps: BTreeMap<u64, &EpisodeRow> =
                episodes.iter().filter(|e| e.entrant == m.attacker).map(|e| (e.episode, *e)).collect();
            for e in episodes {
                tallies.entry(e.entrant.clone()).or_default().add(e);
            }
            for e in attacker_eps.values() {
                cells.entry((m.attacker.clone(), defender.clone())).or_default().add(e);
                let outcome = if e.won { Outcomes::WIN } else { Outcomes::LOSS };
                rate(&mut ratings, &m.attacker, &defender, &outcome, &config);
            }
        }
        played += 1;
        history.push((
            m.id,
            ratings.iter().filter(|(n, _)| rated(n)).map(|(n, r)| (n.clone(), conservative(r))).collect(),
        ));
    }
    let mut standings: Vec<Standing> = c
        .entrants
        .iter()
        .map(|e| {
            let t = tallies.remove(&e.name).unwrap_or_default();
            let r = ratings.get(&e.name).filter(|_| e.role != "Benign");
            let (low, high) = wilson(t.wins, t.episodes);
            Standing {
                entrant: e.name.clone(),
                role: e.role.clone(),
                rating: r.map(conservative),
                mu: r.map(|r| r.rating),
                sigma: r.map(|r| r.uncertainty),
                rank: None,
                matches: t.matches,
                episodes: t.episodes,
                wins: t.wins,
                losses: if e.role == "Benign" { 0 } else { t.episodes - t.wins },
                forfeits: t.forfeits,
                win_rate: t.mean(t.wins as f64),
                win_rate_low: low,
                win_rate_high: high,
                mean_return: t.mean(t.return_sum),
                mean_steps: t.mean(t.steps_sum as f64),
                detection_rate: t.mean(t.detected as f64),
            }
        })
        .collect();
    for role in ["Attacker", "Defender"] {
        let mut order: Vec<usize> = (0..standings.len()).filter(|&i| standings[i].role == role).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (standings[a].rating.unwrap_or(f64::MIN), standings[b].rating.unwrap_or(f64::MIN));
            y.total_cmp(&x).then_with(|| standings[a].entrant.cmp(&standings[b].entrant))
        });
        for (rank, i) in order.into_iter().enumerate() {
            standings[i].rank = Some(rank + 1);
        }
    }
    standings.sort_by(|a, b| a.role.cmp(&b.role).then(a.rank.cmp(&b.rank)).then(a.entrant.cmp(&b.entrant)));
    let matrix = cells
        .into_iter()
        .map(|((attacker, defender), t)| {
            let (low, high) = wilson(t.wins, t.episodes);
            Cell {
                attacker,
                defender,
                episodes: t.episodes,
                win_rate: t.mean(t.wins as f64),
                win_rate_low: low,
                win_rate_high: high,
                mean_return: t.mean(t.return_sum),
                mean_length: t.mean(t.steps_sum as f64),
                detection_rate: t.mean(t.detected as f64),
            }
        })
        .collect();
    let episodes = c.episodes.iter().filter(|e| !forfeits.contains_key(&e.match_id)).count();
    Results { standings, matrix, history, matches: played, episodes }
}

/// Updates only `who`'s rating after a game against `other` (`outcome` from `who`'s side).
fn rate_one(
    ratings: &mut BTreeMap<String, WengLinRating>,
    who: &str,
    other: &str,
    outcome: &Outcomes,
    config: &WengLinConfig,
) {
    let a = ratings.get(who).copied().unwrap_or_default();
    let b = ratings.get(other).copied().unwrap_or_default();
    let (a2, _) = weng_lin(&a, &b, outcome, config);
    ratings.insert(who.to_string(), a2);
}

fn rate(
    ratings: &mut BTreeMap<String, WengLinRating>,
    attacker: &str,
    defender: &str,
    outcome: &Outcomes,
    config: &WengLinConfig,
) {
    let a = ratings.get(attacker).copied().unwrap_or_default();
    let d = ratings.get(defender).copied().unwrap_or_default();
    let (a2, d2) = weng_lin(&a, &d, outcome, config);
    ratings.insert(attacker.to_string(), a2);
    ratings.insert(defender.to_string(), d2);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tournament::store::{EntrantRow, ForfeitRow, MatchRow};

    #[test]
    fn wilson_interval_matches_the_textbook() {
        let (lo, hi) = wilson(8, 10);
        assert!((lo - 0.4902).abs() < 1e-3 && (hi - 0.9433).abs() < 1e-3, "{lo} {hi}");
        assert_eq!(wilson(0, 0), (0.0, 0.0));
    }

    fn contents(forfeit: bool) -> Contents {
        let entrant = |n: &str, r: &str| EntrantRow { name: n.into(), role: r.into(), kind: "builtin:x".into() };
        let ep = |m: usize, who: &str, role: &str, i: u64, won: bool| EpisodeRow {
            match_id: m,
            entrant: who.into(),
            role: role.into(),
            episode: i,
            end_reason: if won { "Success".into() } else { "TimeoutReached".into() },
            won,
            steps: 10,
            episode_return: if won { 90.0 } else { -20.0 },
            detected: false,
            blocks: 0,
            false_positives: 0,
        };
        let m = |id: usize, a: &str| MatchRow {
            id,
            task: "t".into(),
            seed: 1,
            attacker: a.into(),
            defender: Some("d".into()),
            benign: String::new(),
            episodes: 4,
            seconds: 1.0,
        };
        let mut episodes = Vec::new();
        for i in 0..4 {
            episodes.push(ep(0, "strong", "Attacker", i, true));
            episodes.push(ep(0, "d", "Defender", i, false));
            episodes.push(ep(1, "weak", "Attacker", i, false));
            episodes.push(ep(1, "d", "Defender", i, true));
        }
        Contents {
            fingerprint: "f".into(),
            entrants: vec![entrant("strong", "Attacker"), entrant("weak", "Attacker"), entrant("d", "Defender")],
            matches: vec![m(0, "strong"), m(1, "weak")],
            episodes,
            forfeits: if forfeit {
                vec![ForfeitRow { match_id: 0, entrant: "strong".into(), reason: "crashed".into() }]
            } else {
                vec![]
            },
        }
    }

    #[test]
    fn the_stronger_attacker_ranks_first_and_a_forfeit_costs_it() {
        let r = compute(&contents(false));
        let get = |n: &str| r.standings.iter().find(|s| s.entrant == n).unwrap().clone();
        assert_eq!(get("strong").rank, Some(1));
        assert_eq!(get("weak").rank, Some(2));
        assert_eq!((get("strong").wins, get("strong").episodes), (4, 4));
        assert_eq!(r.matrix.len(), 2);
        let f = compute(&contents(true));
        let get = |n: &str| f.standings.iter().find(|s| s.entrant == n).unwrap().clone();
        assert_eq!((get("strong").forfeits, get("strong").matches, get("strong").episodes), (1, 1, 0));
        assert!(get("strong").rating < get("weak").rating, "a forfeit is worse than losing every episode");
        assert_eq!(f.episodes, 8, "the forfeited match's episodes are left out");
        let d_before = compute(&contents(false)).standings.iter().find(|s| s.entrant == "d").unwrap().clone();
        let d_after = get("d");
        assert!(d_after.rating > d_before.rating, "the opponent is not penalised for the other's forfeit");
    }
}

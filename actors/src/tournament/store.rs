//! The durable match log: an SQLite file to which every finished episode and match is
//! appended as it finishes. Ratings and reports are recomputed from it alone; a killed run
//! resumes from it (finished matches are kept, episodes of unfinished ones are discarded and
//! those matches played again); shards' stores merge into one.
//!
//! The file is in WAL mode with `synchronous=NORMAL`: a crash of the process loses nothing
//! committed, and a crash of the machine at most the last commits, which are then replayed.

use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeSet;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("store {path}: {source}")]
    Sqlite { path: String, source: rusqlite::Error },
    #[error("store {path} belongs to another tournament ({theirs}), not this one ({ours}): use another --store, or delete it to start over")]
    OtherTournament { path: String, theirs: String, ours: String },
    #[error("store {path} is not a tournament store (no fingerprint)")]
    NotAStore { path: String },
}

/// One agent's finished episode in a match.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeRow {
    pub match_id: usize,
    pub entrant: String,
    pub role: String,
    /// Episode number within the match, per entrant (0 for the first).
    pub episode: u64,
    /// `Success`, `Fail`, `TimeoutReached`, `Playing` (its episode ended with the attackers'),
    /// or `Reset` (it asked for a reset before the end).
    pub end_reason: String,
    pub won: bool,
    pub steps: u64,
    pub episode_return: f64,
    pub detected: bool,
    pub blocks: u32,
    pub false_positives: i64,
}

/// A finished match.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchRow {
    pub id: usize,
    pub task: String,
    pub seed: i64,
    pub attacker: String,
    pub defender: Option<String>,
    /// Benign entrants, comma-separated.
    pub benign: String,
    /// Episodes each entrant was to play.
    pub episodes: u64,
    pub seconds: f64,
}

/// An entrant's forfeit of a match.
#[derive(Debug, Clone, PartialEq)]
pub struct ForfeitRow {
    pub match_id: usize,
    pub entrant: String,
    pub reason: String,
}

/// An entrant, as the store remembers it (so reports need nothing else).
#[derive(Debug, Clone, PartialEq)]
pub struct EntrantRow {
    pub name: String,
    pub role: String,
    /// `builtin:<agent>` or `command`.
    pub kind: String,
}

/// Everything in a store.
#[derive(Debug, Clone, Default)]
pub struct Contents {
    pub fingerprint: String,
    pub entrants: Vec<EntrantRow>,
    pub matches: Vec<MatchRow>,
    /// Episodes of finished matches only.
    pub episodes: Vec<EpisodeRow>,
    pub forfeits: Vec<ForfeitRow>,
}

pub struct Store {
    conn: Connection,
    path: String,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entrants (name TEXT PRIMARY KEY, role TEXT NOT NULL, kind TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS matches (
  id INTEGER PRIMARY KEY, task TEXT NOT NULL, seed INTEGER NOT NULL, attacker TEXT NOT NULL,
  defender TEXT, benign TEXT NOT NULL, episodes INTEGER NOT NULL, seconds REAL NOT NULL,
  finished_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS episodes (
  match_id INTEGER NOT NULL, entrant TEXT NOT NULL, role TEXT NOT NULL, episode INTEGER NOT NULL,
  end_reason TEXT NOT NULL, won INTEGER NOT NULL, steps INTEGER NOT NULL, return REAL NOT NULL,
  detected INTEGER NOT NULL, blocks INTEGER NOT NULL, false_positives INTEGER NOT NULL,
  PRIMARY KEY (match_id, entrant, episode));
CREATE TABLE IF NOT EXISTS forfeits (
  match_id INTEGER NOT NULL, entrant TEXT NOT NULL, reason TEXT NOT NULL,
  PRIMARY KEY (match_id, entrant));
";

impl Store {
    /// Opens (or creates) the store of the tournament with this fingerprint; a store of
    /// another tournament is refused.
    pub fn open(path: &Path, fingerprint: &str, entrants: &[EntrantRow]) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let store = Store::connect(path)?;
        store.batch(SCHEMA)?;
        match store.meta("fingerprint")? {
            Some(theirs) if theirs != fingerprint => {
                return Err(StoreError::OtherTournament {
                    path: store.path.clone(),
                    theirs,
                    ours: fingerprint.to_string(),
                })
            }
            Some(_) => {}
            None => {
                store.set_meta("fingerprint", fingerprint)?;
                store.set_meta("created", &jiff::Timestamp::now().to_string())?;
            }
        }
        for e in entrants {
            store
                .conn
                .execute(
                    "INSERT OR REPLACE INTO entrants (name, role, kind) VALUES (?1, ?2, ?3)",
                    params![e.name, e.role, e.kind],
                )
                .map_err(|e| store.err(e))?;
        }
        Ok(store)
    }

    /// Opens an existing store read-only-in-spirit (for reports and merges).
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Sqlite {
                path: path.display().to_string(),
                source: rusqlite::Error::InvalidPath(path.to_path_buf()),
            });
        }
        let store = Store::connect(path)?;
        store.batch(SCHEMA)?;
        if store.meta("fingerprint")?.is_none() {
            return Err(StoreError::NotAStore { path: store.path.clone() });
        }
        Ok(store)
    }

    fn connect(path: &Path) -> Result<Store, StoreError> {
        let p = path.display().to_string();
        let conn = Connection::open(path).map_err(|source| StoreError::Sqlite { path: p.clone(), source })?;
        let store = Store { conn, path: p };
        store.batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;")?;
        Ok(store)
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite { path: self.path.clone(), source }
    }

    fn batch(&self, sql: &str) -> Result<(), StoreError> {
        self.conn.execute_batch(sql).map_err(|e| self.err(e))
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![key, value])
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Numbers of the finished matches.
    pub fn finished(&self) -> Result<BTreeSet<usize>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT id FROM matches").map_err(|e| self.err(e))?;
        let ids = stmt.query_map([], |r| r.get::<_, i64>(0)).map_err(|e| self.err(e))?;
        ids.map(|r| r.map(|i| i as usize).map_err(|e| self.err(e))).collect()
    }

    /// Deletes episodes and forfeits of matches that never finished (they are played again).
    /// Returns how many episode rows went.
    pub fn discard_unfinished(&self) -> Result<usize, StoreError> {
        let n = self
            .conn
            .execute("DELETE FROM episodes WHERE match_id NOT IN (SELECT id FROM matches)", [])
            .map_err(|e| self.err(e))?;
        self.conn
            .execute("DELETE FROM forfeits WHERE match_id NOT IN (SELECT id FROM matches)", [])
            .map_err(|e| self.err(e))?;
        Ok(n)
    }

    /// Appends episodes (in one transaction).
    pub fn add_episodes(&mut self, rows: &[EpisodeRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction().map_err(|e| StoreError::Sqlite { path: self.path.clone(), source: e })?;
        insert_episodes(&tx, rows).map_err(|e| StoreError::Sqlite { path: self.path.clone(), source: e })?;
        tx.commit().map_err(|e| StoreError::Sqlite { path: self.path.clone(), source: e })
    }

    /// Records a finished match with its forfeits (and any episodes not yet written), at once.
    pub fn finish_match(
        &mut self,
        m: &MatchRow,
        episodes: &[EpisodeRow],
        forfeits: &[ForfeitRow],
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let wrap = |source| StoreError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(wrap)?;
        insert_episodes(&tx, episodes).map_err(wrap)?;
        for f in forfeits {
            tx.execute(
                "INSERT OR REPLACE INTO forfeits (match_id, entrant, reason) VALUES (?1, ?2, ?3)",
                params![f.match_id as i64, f.entrant, f.reason],
            )
            .map_err(wrap)?;
        }
        tx.execute(
            "INSERT INTO matches (id, task, seed, attacker, defender, benign, episodes, seconds, finished_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                m.id as i64,
                m.task,
                m.seed,
                m.attacker,
                m.defender,
                m.benign,
                m.episodes as i64,
                m.seconds,
                jiff::Timestamp::now().to_string()
            ],
        )
        .map_err(wrap)?;
        tx.commit().map_err(wrap)
    }

    /// Everything, finished matches only, in match order.
    pub fn contents(&self) -> Result<Contents, StoreError> {
        let fingerprint = self.meta("fingerprint")?.unwrap_or_default();
        let q = |sql: &str| self.conn.prepare(sql).map_err(|e| self.err(e));
        let mut stmt = q("SELECT name, role, kind FROM entrants ORDER BY rowid")?;
        let entrants = stmt
            .query_map([], |r| Ok(EntrantRow { name: r.get(0)?, role: r.get(1)?, kind: r.get(2)? }))
            .and_then(Iterator::collect)
            .map_err(|e| self.err(e))?;
        let mut stmt =
            q("SELECT id, task, seed, attacker, defender, benign, episodes, seconds FROM matches ORDER BY id")?;
        let matches = stmt
            .query_map([], |r| {
                Ok(MatchRow {
                    id: r.get::<_, i64>(0)? as usize,
                    task: r.get(1)?,
                    seed: r.get(2)?,
                    attacker: r.get(3)?,
                    defender: r.get(4)?,
                    benign: r.get(5)?,
                    episodes: r.get::<_, i64>(6)? as u64,
                    seconds: r.get(7)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(|e| self.err(e))?;
        let mut stmt = q("SELECT e.match_id, e.entrant, e.role, e.episode, e.end_reason, e.won, e.steps, e.return,
                                 e.detected, e.blocks, e.false_positives
                          FROM episodes e JOIN matches m ON m.id = e.match_id
                          ORDER BY e.match_id, e.episode, e.entrant")?;
        let episodes = stmt
            .query_map([], |r| {
                Ok(EpisodeRow {
                    match_id: r.get::<_, i64>(0)? as usize,
                    entrant: r.get(1)?,
                    role: r.get(2)?,
                    episode: r.get::<_, i64>(3)? as u64,
                    end_reason: r.get(4)?,
                    won: r.get(5)?,
                    steps: r.get::<_, i64>(6)? as u64,
                    episode_return: r.get(7)?,
                    detected: r.get(8)?,
                    blocks: r.get::<_, i64>(9)? as u32,
                    false_positives: r.get(10)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(|e| self.err(e))?;
        let mut stmt = q("SELECT f.match_id, f.entrant, f.reason FROM forfeits f JOIN matches m ON m.id = f.match_id
                          ORDER BY f.match_id, f.entrant")?;
        let forfeits = stmt
            .query_map([], |r| {
                Ok(ForfeitRow { match_id: r.get::<_, i64>(0)? as usize, entrant: r.get(1)?, reason: r.get(2)? })
            })
            .and_then(Iterator::collect)
            .map_err(|e| self.err(e))?;
        Ok(Contents { fingerprint, entrants, matches, episodes, forfeits })
    }

    /// Copies another store's finished matches into this one. Both must be of the same
    /// tournament. A match already here is kept (shards never overlap; a repeat is ignored).
    /// Returns how many matches were added.
    pub fn merge_from(&mut self, other: &Contents) -> Result<usize, StoreError> {
        let ours = self.meta("fingerprint")?.unwrap_or_default();
        if ours != other.fingerprint {
            return Err(StoreError::OtherTournament {
                path: self.path.clone(),
                theirs: other.fingerprint.clone(),
                ours,
            });
        }
        for e in &other.entrants {
            self.conn
                .execute(
                    "INSERT OR IGNORE INTO entrants (name, role, kind) VALUES (?1, ?2, ?3)",
                    params![e.name, e.role, e.kind],
                )
                .map_err(|e| self.err(e))?;
        }
        let have = self.finished()?;
        let mut added = 0;
        for m in other.matches.iter().filter(|m| !have.contains(&m.id)) {
            let episodes: Vec<EpisodeRow> = other.episodes.iter().filter(|e| e.match_id == m.id).cloned().collect();
            let forfeits: Vec<ForfeitRow> = other.forfeits.iter().filter(|f| f.match_id == m.id).cloned().collect();
            self.finish_match(m, &episodes, &forfeits)?;
            added += 1;
        }
        Ok(added)
    }
}

fn insert_episodes(tx: &rusqlite::Transaction<'_>, rows: &[EpisodeRow]) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR REPLACE INTO episodes (match_id, entrant, role, episode, end_reason, won, steps, return,
                                          detected, blocks, false_positives)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for r in rows {
        stmt.execute(params![
            r.match_id as i64,
            r.entrant,
            r.role,
            r.episode as i64,
            r.end_reason,
            r.won,
            r.steps as i64,
            r.episode_return,
            r.detected,
            r.blocks,
            r.false_positives
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(match_id: usize, episode: u64) -> EpisodeRow {
        EpisodeRow {
            match_id,
            entrant: "a".into(),
            role: "Attacker".into(),
            episode,
            end_reason: "Success".into(),
            won: true,
            steps: 5,
            episode_return: 95.0,
            detected: false,
            blocks: 0,
            false_positives: 0,
        }
    }

    fn m(id: usize) -> MatchRow {
        MatchRow {
            id,
            task: "default".into(),
            seed: 1,
            attacker: "a".into(),
            defender: None,
            benign: String::new(),
            episodes: 2,
            seconds: 0.5,
        }
    }

    #[test]
    fn unfinished_matches_are_discarded_and_other_tournaments_refused() {
        let dir = std::env::temp_dir().join(format!("nsg-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("t.sqlite");
        let entrants =
            [EntrantRow { name: "a".into(), role: "Attacker".into(), kind: "builtin:random_attacker".into() }];
        let mut s = Store::open(&path, "fp1", &entrants).unwrap();
        s.add_episodes(&[row(0, 0), row(0, 1), row(1, 0)]).unwrap();
        s.finish_match(&m(0), &[], &[]).unwrap();
        drop(s);
        let s = Store::open(&path, "fp1", &entrants).unwrap();
        assert_eq!(s.finished().unwrap(), BTreeSet::from([0]));
        assert_eq!(s.discard_unfinished().unwrap(), 1, "match 1's episode goes");
        let c = s.contents().unwrap();
        assert_eq!((c.matches.len(), c.episodes.len()), (1, 2));
        let err = Store::open(&path, "fp2", &entrants).err().unwrap().to_string();
        assert!(err.contains("another tournament") && err.contains("t.sqlite"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

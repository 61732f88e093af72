//! Reading trajectory files line by line, in constant memory, and saying exactly what is
//! wrong with a line that is not a record.
//!
//! Lines come from [`super::pipeline`], which reads a file in chunks of whole lines, so memory
//! is bounded by the chunk size and the longest line (one episode), never by the file. Each
//! line is decoded straight from its bytes ([`super::record`]). A line that does not decode is diagnosed (a second, slow look at only
//! that line) and reported as a [`Problem`] naming the file and line; reading goes on with the
//! next line. Diagnoses:
//!
//! * the file ends inside a record (a writer stopped mid-line): "truncated record";
//! * a record of an older layout (upstream's early `[{"s", "a", "r", "s_next"}, ...]` steps);
//! * a JSON value that is not a trajectory record, or one whose parts do not fit together
//!   (states not one more than actions);
//! * a line that is not JSON, or not UTF-8;
//! * an empty file (no records at all).

use super::record::Record;
use serde_json::Value;
use std::fmt;
use std::path::PathBuf;
use thiserror::Error;

/// Why a line (or a whole file) could not be analysed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LineError {
    #[error("the file is empty: no trajectory records")]
    EmptyFile,
    #[error("truncated record: the file ends inside it (was the writer stopped?)")]
    Truncated,
    #[error("not valid UTF-8")]
    NotUtf8,
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error(
        "a record from another version: `trajectory` is a list of {{s, a, r, s_next}} steps; this reads the \
         {{\"states\", \"actions\", \"rewards\"}} layout both servers write today"
    )]
    OldLayout,
    #[error("not a trajectory record: {0}")]
    NotARecord(String),
    #[error("inconsistent record: {0}")]
    Inconsistent(String),
}

/// A problem found in an input, with where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based line number; `None` for the whole file.
    pub line: Option<u64>,
    pub error: LineError,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.error),
            None => write!(f, "{}: {}", self.file.display(), self.error),
        }
    }
}

/// One line: its number, its bytes (without the newline) and whether a newline ended it.
pub struct Line<'b> {
    pub number: u64,
    pub bytes: &'b [u8],
    pub complete: bool,
}

/// True for a line with nothing but whitespace (skipped, as `jsonlines` does).
pub fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// Decodes one line into a record, checking that its parts fit together.
pub fn decode<'b>(line: &Line<'b>) -> Result<Record<'b>, LineError> {
    let text = std::str::from_utf8(line.bytes).map_err(|_| LineError::NotUtf8)?;
    match serde_json::from_str::<Record<'_>>(text) {
        Ok(record) => {
            check(&record)?;
            Ok(record)
        }
        Err(e) => Err(diagnose(text, line.complete, &e)),
    }
}

fn check(record: &Record<'_>) -> Result<(), LineError> {
    let t = &record.trajectory;
    if t.states.len() != t.actions.len() + 1 {
        return Err(LineError::Inconsistent(format!(
            "{} states for {} actions (there must be one more state than actions)",
            t.states.len(),
            t.actions.len()
        )));
    }
    if t.rewards.len() != t.actions.len() {
        return Err(LineError::Inconsistent(format!("{} rewards for {} actions", t.rewards.len(), t.actions.len())));
    }
    Ok(())
}

/// Why `text` did not decode: the slow path, taken only for bad lines.
fn diagnose(text: &str, complete: bool, fast_error: &serde_json::Error) -> LineError {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) if e.is_eof() && !complete => return LineError::Truncated,
        Err(e) => return LineError::NotJson(e.to_string()),
    };
    let Some(obj) = value.as_object() else {
        return LineError::NotARecord(format!("a JSON {} rather than an object", kind(&value)));
    };
    let Some(trajectory) = obj.get("trajectory") else {
        let keys: Vec<&str> = obj.keys().map(String::as_str).take(6).collect();
        return LineError::NotARecord(format!("no `trajectory` key (keys: {})", keys.join(", ")));
    };
    if let Some(steps) = trajectory.as_array() {
        let old = steps.first().and_then(Value::as_object).is_some_and(|s| s.contains_key("s") || s.contains_key("a"));
        if old || steps.is_empty() {
            return LineError::OldLayout;
        }
    }
    if let Some(t) = trajectory.as_object() {
        for key in ["states", "actions", "rewards"] {
            if !t.contains_key(key) {
                return LineError::NotARecord(format!("`trajectory` has no `{key}`"));
            }
        }
    }
    // The record has the right shape but some part of it is off: serde's message names the
    // place (column) and what it expected there.
    LineError::NotARecord(fast_error.to_string())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(u64, Result<usize, LineError>)> {
        let mut out = Vec::new();
        let parts: Vec<&str> = text.split('\n').collect();
        for (i, part) in parts.iter().enumerate() {
            let line = Line { number: i as u64 + 1, bytes: part.as_bytes(), complete: i + 1 < parts.len() };
            if !is_blank(line.bytes) {
                out.push((line.number, decode(&line).map(|r| r.trajectory.actions.len())));
            }
        }
        out
    }

    const GOOD: &str = r#"{"trajectory": {"states": [{"known_networks": [], "known_hosts": [], "controlled_hosts": [], "known_services": {}, "known_data": {}, "known_blocks": {}}], "actions": [], "rewards": []}, "end_reason": null, "agent_role": "Attacker", "agent_name": "a"}"#;

    #[test]
    fn bad_lines_are_named_and_the_rest_is_read() {
        let text = format!(
            "{GOOD}\n\n[1, 2]\n{{\"trajectory\": [{{\"s\": {{}}, \"a\": {{}}, \"r\": 0, \"s_next\": {{}}}}]}}\n{{\"x\": 1}}\nnot json\n{GOOD}\n{}",
            &GOOD[..40]
        );
        let got = lines(&text);
        assert_eq!(got[0], (1, Ok(0)));
        assert!(matches!(&got[1], (3, Err(LineError::NotARecord(m))) if m.contains("list")));
        assert_eq!(got[2], (4, Err(LineError::OldLayout)));
        assert!(matches!(&got[3], (5, Err(LineError::NotARecord(m))) if m.contains("no `trajectory`")));
        assert!(matches!(&got[4], (6, Err(LineError::NotJson(_)))));
        assert_eq!(got[5], (7, Ok(0)));
        assert_eq!(got[6], (8, Err(LineError::Truncated)));
    }

    #[test]
    fn inconsistent_records_say_why() {
        let bad = GOOD.replace(r#""rewards": []"#, r#""rewards": [1]"#);
        assert!(matches!(&lines(&bad)[0].1, Err(LineError::Inconsistent(m)) if m.contains("1 rewards for 0 actions")));
        let bad = GOOD.replace(r#""actions": []"#, r#""actions": [{"action_type": "ActionType.ScanNetwork"}]"#);
        assert!(matches!(&lines(&bad)[0].1, Err(LineError::Inconsistent(m)) if m.contains("1 states for 1 actions")));
    }

    #[test]
    fn a_complete_line_that_ends_early_is_not_called_truncated() {
        let got = lines(&format!("{}\n", &GOOD[..40]));
        assert!(matches!(got[0].1, Err(LineError::NotJson(_))));
    }
}

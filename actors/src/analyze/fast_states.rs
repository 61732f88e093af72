//! The fast path for a record's `states`: most of a file's bytes, mostly repeats.
//!
//! A record's states make up most of its line (86% of the bytes on a random attacker's file:
//! a FindData state carries whole host logfiles), and a state is usually the text of the one
//! before it (an action that changed nothing: three states in four there). Finding where a
//! state ends takes a scan of all its text, strings included; finding that it is the same text
//! as the state before takes a byte comparison, several times faster. So the `states` array is
//! walked here: a state that starts with the previous state's whole text, followed by `,` or
//! `]`, is that text again (a JSON value cannot go on past its end); any other state is
//! scanned by `serde_json`. The rest of the record (actions, rewards, names) is decoded by serde
//! from the line with the states array cut out.
//!
//! The array is found as the text `"states": [`, which cannot occur inside a JSON string (its
//! quotes would be escaped). It is used only when it occurs exactly once in the line and the
//! record decoded without it has an empty `states`, which shows the cut array was the
//! trajectory's; anything else (another spacing, a second `states` key anywhere, a bad line)
//! returns `None` and the caller takes the plain path, which also diagnoses bad lines.

use super::record::{Digest, Record};
use memchr::memmem;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::ops::Range;
use std::sync::LazyLock;

static STATES_KEY: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(b"\"states\": ["));

/// The digest of a record line through the fast path, or `None` to take the plain one.
pub fn digest(text: &str) -> Option<Digest> {
    let bytes = text.as_bytes();
    let key = STATES_KEY.find(bytes)?;
    let open = key + STATES_KEY.needle().len() - 1; // the `[`
    if STATES_KEY.find(&bytes[open..]).is_some() {
        return None;
    }
    let (states, repeats, close) = walk_states(text, open + 1)?;
    // The line without the array's contents: `"states": []`.
    let removed = close - (open + 1);
    let mut rest = String::with_capacity(text.len() - removed);
    rest.push_str(&text[..=open]);
    rest.push_str(&text[close..]);
    let record: Record<'_> = serde_json::from_str(&rest).ok()?;
    let t = &record.trajectory;
    // Not the trajectory's array, or parts that do not fit together (the plain path says why).
    if !t.states.is_empty() || states.len() != t.actions.len() + 1 || t.rewards.len() != t.actions.len() {
        return None;
    }
    let mut digest = Digest::of(&record, rest.as_bytes());
    // Actions sit in `rest`; past the cut they sit `removed` bytes later in the line.
    for action in &mut digest.actions {
        if action.start > open {
            *action = action.start + removed..action.end + removed;
        }
    }
    digest.states = states;
    digest.repeats = repeats;
    Some(digest)
}

/// Walks the array's elements from `pos` (just past its `[`): their ranges in `text`, which
/// of them repeat the one before, and where the `]` is.
#[allow(clippy::type_complexity)]
fn walk_states(text: &str, mut pos: usize) -> Option<(Vec<Range<usize>>, Vec<bool>, usize)> {
    let bytes = text.as_bytes();
    let mut states: Vec<Range<usize>> = Vec::new();
    let mut repeated = Vec::new();
    pos = skip_space(bytes, pos);
    if bytes.get(pos) == Some(&b']') {
        return Some((states, repeated, pos));
    }
    loop {
        let again = states.last().is_some_and(|prev| repeats(bytes, pos, prev.clone()));
        repeated.push(again);
        let state = match states.last() {
            Some(prev) if again => pos..pos + prev.len(),
            _ => {
                let mut de = serde_json::Deserializer::from_str(&text[pos..]);
                let raw = <&RawValue>::deserialize(&mut de).ok()?;
                let start = raw.get().as_ptr() as usize - text.as_ptr() as usize;
                start..start + raw.get().len()
            }
        };
        pos = skip_space(bytes, state.end);
        states.push(state);
        match bytes.get(pos) {
            Some(b',') => pos = skip_space(bytes, pos + 1),
            Some(b']') => return Some((states, repeated, pos)),
            _ => return None,
        }
    }
}

/// The text at `pos` is the text of `prev` again, a whole value: what follows is `,` or `]`.
fn repeats(bytes: &[u8], pos: usize, prev: Range<usize>) -> bool {
    let end = pos + prev.len();
    end <= bytes.len()
        && bytes[pos..end] == bytes[prev]
        && matches!(bytes.get(skip_space(bytes, end)), Some(b',' | b']'))
}

fn skip_space(bytes: &[u8], mut pos: usize) -> usize {
    while bytes.get(pos).is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
        pos += 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::input::{decode, Line};

    fn plain(text: &str) -> Digest {
        let line = Line { number: 1, bytes: text.as_bytes(), complete: true };
        Digest::of(&decode(&line).unwrap(), text.as_bytes())
    }

    const S0: &str = r#"{"known_networks": [], "known_hosts": [], "controlled_hosts": [], "known_services": {}, "known_data": {}, "known_blocks": {}}"#;
    const S1: &str = r#"{"known_networks": [], "known_hosts": [{"ip": "1.1.1.1"}], "controlled_hosts": [], "known_services": {}, "known_data": {"1.1.1.1": [{"owner": "system", "id": "logfile", "size": 2, "type": "log", "content": "a \"quoted\" ] , line\n"}]}, "known_blocks": {}}"#;
    const A: &str = r#"{"action_type": "ActionType.ScanNetwork", "parameters": {}}"#;

    fn record(states: &[&str], actions: usize, tail: &str) -> String {
        let acts = vec![A; actions].join(", ");
        let rewards = vec!["-1"; actions].join(", ");
        format!(
            r#"{{"trajectory": {{"states": [{}], "actions": [{acts}], "rewards": [{rewards}]}}{tail}, "agent_role": "Attacker", "agent_name": "a"}}"#,
            states.join(", ")
        )
    }

    #[test]
    fn the_fast_path_finds_what_the_plain_one_does() {
        for text in [
            record(&[S0], 0, r#", "end_reason": null"#),
            record(&[S0, S0, S1, S1, S1, S0], 5, r#", "end_reason": "AgentStatus.Success""#),
            record(&[S1, S1], 1, r#", "end_reason": "AgentStatus.Fail", "truncated": true"#),
            // A state that begins with the one before it but goes on is not a repeat.
            record(&[S0, S1], 1, ""),
            // Actions before the states.
            format!(
                r#"{{"trajectory": {{"actions": [{A}], "rewards": [-1], "states": [{S0}, {S0}]}}, "agent_role": "Defender"}}"#
            ),
        ] {
            let fast = digest(&text).expect("the fast path applies");
            let slow = plain(&text);
            assert_eq!(Digest { repeats: slow.repeats.clone(), ..fast.clone() }, slow, "{text}");
            for (i, r) in fast.states.iter().enumerate() {
                let again = i > 0 && text[r.clone()] == text[fast.states[i - 1].clone()];
                assert_eq!(fast.repeats[i], again, "state {i} of {text}");
            }
        }
    }

    #[test]
    fn anything_unusual_takes_the_plain_path() {
        // Two `states` keys: which one is the trajectory's is not known without a full scan.
        let two = record(&[S0], 0, r#", "extra": {"states": [1]}"#);
        assert!(digest(&two).is_none());
        // Another spacing, a bad element, a truncated line, no states at all.
        assert!(digest(&record(&[S0], 0, "").replace("\"states\": [", "\"states\":[")).is_none());
        assert!(digest(&record(&[S0, "{nope"], 1, "")).is_none());
        let full = record(&[S0, S0], 1, "");
        assert!(digest(&full[..full.len() - 20]).is_none());
        assert!(digest(r#"{"trajectory": {"actions": [], "rewards": []}}"#).is_none());
        // A states array elsewhere, with the trajectory's written differently.
        let elsewhere = format!(
            r#"{{"x": {{"states": [{S0}]}}, "trajectory": {{"states":[{S0}], "actions": [], "rewards": []}}}}"#
        );
        assert!(digest(&elsewhere).is_none());
    }
}

//! The fast path for a record's `states`: most of a file's bytes, mostly repeats.
//!
//! A record's states make up most of its line (86% of the bytes on a random attacker's file:
//! a FindData state carries whole host logfiles), and a state is usually the text of the one
//! before it (an action that changed nothing: three states in four there). Finding where a
//! state ends takes a scan of all its text, strings included; finding that it is the same text
//! as the state before takes a byte comparison, several times faster. So the `states` array is
//! walked here: a state that starts with the previous state's whole text, followed by `,` or
//! `]`, is that text again (a JSON value cannot go on past its end); the end of any other
//! state is found by skipping its strings with `memchr` and counting brackets ([`value_end`]:
//! no validation here, the folding thread decodes every new state text with serde). The rest
//! of the record (actions, rewards, names) is decoded by serde from the line with the states
//! array cut out.
//!
//! The array is found as the text `"states": [`, which cannot occur inside a JSON string (its
//! quotes would be escaped). It is used only when it occurs exactly once in the line and the
//! record decoded without it has an empty `states`, which shows the cut array was the
//! trajectory's; anything else (another spacing, a second `states` key anywhere, a bad line)
//! returns `None` and the caller takes the plain path, which also diagnoses bad lines.

use super::record::{Digest, Record};
use memchr::memmem;
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
            _ => pos..value_end(bytes, pos)?,
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

/// Where the object or array that opens at `start` ends (just past its closing bracket), or
/// `None` if it does not end or is not an object or array.
///
/// This only finds the end of valid JSON; it does not check it. Strings are skipped with
/// `memchr` to their closing quote (most of a state's bytes are in its strings), brackets
/// outside strings are counted. Every state text is still decoded by serde on the folding
/// thread the first time it is met (a repeat is byte for byte a text already decoded), so a
/// malformed state is reported all the same, as that state's error.
fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
    if !matches!(bytes.get(start), Some(b'{' | b'[')) {
        return None;
    }
    let mut depth = 0usize;
    let mut i = start;
    loop {
        match *bytes.get(i)? {
            b'"' => {
                i += 1;
                loop {
                    i += memchr::memchr2(b'"', b'\\', bytes.get(i..)?)?;
                    if bytes[i] == b'"' {
                        break;
                    }
                    i += 2; // a backslash and the character it escapes
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
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
    use proptest::prelude::*;

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

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        // Strings full of what could fool a bracket counter: quotes, backslashes, brackets.
        let text = "[a-z \\[\\]{}\"\\\\\n\t/é\u{1}]{0,12}";
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(Value::from),
            text.prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map(text, inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// On any JSON object or array, compact or pretty, `value_end` stops where serde does.
        #[test]
        fn value_end_stops_where_serde_does(v in json_value(), pretty: bool) {
            let text = if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) }.unwrap();
            prop_assume!(text.starts_with(['{', '[']));
            let line = format!("{text}, {{\"next\": [1]}}]");
            prop_assert_eq!(value_end(line.as_bytes(), 0), Some(text.len()));
        }

        /// On any bytes at all (JSON's own characters, mostly, after an opening bracket) it
        /// returns, in bounds or `None`.
        #[test]
        fn value_end_survives_any_bytes(
            open in prop::sample::select(b"{[".to_vec()),
            rest in prop::collection::vec(prop_oneof![4 => prop::sample::select(b"{}[]\"\\ a".to_vec()), 1 => any::<u8>()], 0..64),
            start in 0usize..3,
        ) {
            let mut bytes = vec![b' '; start];
            bytes.push(open);
            bytes.extend_from_slice(&rest);
            if let Some(end) = value_end(&bytes, start) {
                prop_assert!(start < end && end <= bytes.len());
                let closes = matches!(bytes[end - 1], b'}' | b']');
                prop_assert!(closes, "ends after a closing bracket");
            }
            prop_assert_eq!(value_end(&bytes, bytes.len()), None);
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

//! When two states, or two actions, are the same: upstream's definitions, written out.
//!
//! Upstream's gameplay graph (`gameplay_graphs.py`) keys a state by
//! `utils.state_as_ordered_string(GameState.from_dict(s))` and an action by Python equality of
//! `Action.from_dict(a)`. We produce the very same state string, so node labels read as
//! upstream's and the partition of states into nodes is identical:
//!
//! * sets are sets: duplicates collapse (a Data item by `(owner, id, type)`, as its dataclass
//!   compares; the first one written wins, as in a Python set comprehension);
//! * IPs sort as strings, networks by address range (`netaddr`), services and data as their
//!   dataclasses order (`size` and `content` take no part);
//! * an element prints as its Python `str()`: `192.168.1.2`, `192.168.1.0/24`,
//!   `Service(name='ssh', type='passive', version='8.1', is_local=False)`,
//!   `Data(owner='User1', id='DataFromServer1', size=0, type='')` (`size` is in the repr, so it
//!   is part of a state's identity; `content` is not).
//!
//! An action's key is its type and its parameters sorted by name, each object printed with
//! its fields sorted, a Data parameter without `size` and `content` (they do not take part in
//! Data equality, hence not in Action equality).

use super::record::{Param, RawAction, Scalar, State};
use netsecgame::pyjson::{push_py_repr, py_repr};
use std::borrow::Cow;
use std::fmt::Write;
use std::net::Ipv4Addr;

/// Writes upstream's `state_as_ordered_string(state)` into `out` (cleared first).
pub fn state_string(state: &State<'_>, out: &mut String) {
    out.clear();

    // netsecgame orders networks by (first, last) address (`netaddr`), unparsable ones by text.
    // The text breaks ties so the order is total (upstream's is then set order, arbitrary).
    // (address range, address text, mask) per network.
    type NetKey<'s> = (Option<(u32, u32)>, &'s str, &'s Scalar<'s>);
    let mut nets: Vec<NetKey<'_>> =
        state.known_networks.iter().map(|n| (net_range(&n.ip, &n.mask), &*n.ip, &n.mask)).collect();
    nets.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| scalar_order(a.2, b.2)));
    nets.dedup_by(|a, b| a.1 == b.1 && a.2 == b.2);
    out.push_str("nets:[");
    for (i, (_, ip, mask)) in nets.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(ip);
        out.push('/');
        push_str(out, mask);
    }
    out.push_str("],hosts:[");
    join(out, sorted_unique(state.known_hosts.iter().map(|h| &*h.ip)).into_iter());
    out.push_str("],controlled:[");
    join(out, sorted_unique(state.controlled_hosts.iter().map(|h| &*h.ip)).into_iter());

    out.push_str("],services:{");
    for (host, services) in sorted_keys(&state.known_services.0) {
        let mut items: Vec<(&str, &str, &str, &Scalar<'_>)> =
            services.iter().map(|s| (&*s.name, &*s.service_type, &*s.version, &s.is_local)).collect();
        items.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)).then_with(|| scalar_order(a.3, b.3)));
        items.dedup();
        out.push_str(host);
        out.push_str(":[");
        for (i, (name, kind, version, local)) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("Service(name=");
            push_py_repr(out, name);
            out.push_str(", type=");
            push_py_repr(out, kind);
            out.push_str(", version=");
            push_py_repr(out, version);
            out.push_str(", is_local=");
            push_repr_scalar(out, local);
            out.push(')');
        }
        out.push(']');
    }

    out.push_str("},data:{");
    for (host, data) in sorted_keys(&state.known_data.0) {
        // A Python set keeps the first of equal items; a stable sort then dedup does too.
        let mut items: Vec<_> = data.iter().collect();
        items.sort_by(|a, b| (&a.owner, &a.id, &a.data_type).cmp(&(&b.owner, &b.id, &b.data_type)));
        items.dedup_by(|b, a| (&a.owner, &a.id, &a.data_type) == (&b.owner, &b.id, &b.data_type));
        out.push_str(host);
        out.push_str(":[");
        for (i, d) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("Data(owner=");
            push_py_repr(out, &d.owner);
            out.push_str(", id=");
            push_py_repr(out, &d.id);
            out.push_str(", size=");
            push_repr_scalar(out, &d.size);
            out.push_str(", type=");
            push_py_repr(out, &d.data_type);
            out.push(')');
        }
        out.push(']');
    }

    out.push_str("}, blocks:{");
    for (host, blocked) in sorted_keys(&state.known_blocks.0) {
        out.push_str(host);
        out.push_str(":[");
        join(out, sorted_unique(blocked.iter().map(|b| &*b.0)).into_iter());
        out.push(']');
    }
    out.push('}');
}

/// Writes an action's identity key into `out` (cleared first); see the module docs.
pub fn action_key(action: &RawAction<'_>, action_type: &str, out: &mut String) {
    out.clear();
    out.push_str(action_type);
    let mut params: Vec<&(Cow<'_, str>, Param<'_>)> = action.parameters.0.iter().collect();
    params.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, value) in params {
        let _ = write!(out, "|{name}=");
        match value {
            Param::Scalar(s) => out.push_str(&py_str(s)),
            Param::Object(fields) => {
                let mut fields: Vec<_> =
                    fields.iter().filter(|(k, _)| !(name == "data" && (k == "size" || k == "content"))).collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{k}:{}", py_repr_scalar(v));
                }
                out.push('}');
            }
        }
    }
}

/// A short, readable form of an action for chart labels and graph edges:
/// `ExploitService 213.47.23.195→192.168.2.2 ms-wbt-server`.
pub fn action_label(action: &RawAction<'_>, action_type: &str) -> String {
    let mut label = action_type.to_string();
    let field = |p: &Param<'_>, key: &str| match p {
        Param::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| py_str(v)),
        Param::Scalar(s) => Some(py_str(s)),
    };
    let get = |name: &str| action.parameters.0.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    if let Some(src) = get("source_host").and_then(|p| field(p, "ip")) {
        let _ = write!(label, " {src}");
    }
    let target = get("target_host").and_then(|p| field(p, "ip")).or_else(|| {
        get("target_network")
            .map(|p| format!("{}/{}", field(p, "ip").unwrap_or_default(), field(p, "mask").unwrap_or_default()))
    });
    if let Some(t) = target {
        let _ = write!(label, "→{t}");
    }
    if let Some(s) = get("target_service").and_then(|p| field(p, "name")) {
        let _ = write!(label, " {s}");
    }
    if let Some(d) = get("data").and_then(|p| field(p, "id")) {
        let _ = write!(label, " {d}");
    }
    for blocked in ["blocked_host", "blocked_ip"] {
        if let Some(b) = get(blocked).and_then(|p| field(p, "ip")) {
            let _ = write!(label, " block {b}");
        }
    }
    label
}

fn net_range(ip: &str, mask: &Scalar<'_>) -> Option<(u32, u32)> {
    let addr: Ipv4Addr = ip.trim().parse().ok()?;
    let prefix: u32 = match mask {
        Scalar::Int(m) => u32::try_from(*m).ok()?,
        Scalar::Str(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    if prefix > 32 {
        return None;
    }
    let host_bits = if prefix == 0 { u32::MAX } else { (1u32 << (32 - prefix)).wrapping_sub(1) };
    let first = u32::from(addr) & !host_bits;
    Some((first, first | host_bits))
}

fn join<'s>(out: &mut String, items: impl Iterator<Item = &'s str>) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
}

fn sorted_unique<'s>(items: impl Iterator<Item = &'s str>) -> Vec<&'s str> {
    let mut v: Vec<&str> = items.collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Host keys sorted as strings (upstream's IP ordering), with their lists.
fn sorted_keys<'v, 'a, T>(pairs: &'v [(Cow<'a, str>, Vec<T>)]) -> Vec<(&'v str, &'v [T])> {
    let mut v: Vec<(&str, &[T])> = pairs.iter().map(|(k, items)| (&**k, items.as_slice())).collect();
    // A key given twice in one JSON object: Python's json keeps the last value.
    v.sort_by(|a, b| a.0.cmp(b.0));
    let mut out: Vec<(&str, &[T])> = Vec::with_capacity(v.len());
    for item in v {
        match out.last_mut() {
            Some(last) if last.0 == item.0 => *last = item,
            _ => out.push(item),
        }
    }
    out
}

fn scalar_order(a: &Scalar<'_>, b: &Scalar<'_>) -> std::cmp::Ordering {
    match (a, b) {
        (Scalar::Str(x), Scalar::Str(y)) => x.cmp(y),
        (Scalar::Bool(x), Scalar::Bool(y)) => x.cmp(y),
        (Scalar::Int(x), Scalar::Int(y)) => x.cmp(y),
        _ => py_repr_scalar(a).cmp(&py_repr_scalar(b)),
    }
}

/// Appends Python's `str()` of a scalar.
fn push_str(out: &mut String, s: &Scalar<'_>) {
    match s {
        Scalar::Str(s) => out.push_str(s),
        Scalar::Int(i) => {
            let _ = write!(out, "{i}");
        }
        other => out.push_str(&py_str(other)),
    }
}

/// Appends Python's `repr()` of a scalar.
fn push_repr_scalar(out: &mut String, s: &Scalar<'_>) {
    match s {
        Scalar::Str(s) => push_py_repr(out, s),
        other => push_str(out, other),
    }
}

/// Python's `str()` of a decoded JSON scalar.
pub fn py_str(s: &Scalar<'_>) -> String {
    match s {
        Scalar::Null => "None".into(),
        Scalar::Bool(true) => "True".into(),
        Scalar::Bool(false) => "False".into(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => netsecgame::pyjson::py_float_repr(*f),
        Scalar::Str(s) => s.to_string(),
    }
}

/// Python's `repr()` of a decoded JSON scalar (strings quoted).
fn py_repr_scalar(s: &Scalar<'_>) -> String {
    match s {
        Scalar::Str(s) => py_repr(s),
        other => py_str(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(json: &str) -> String {
        let s: State<'_> = serde_json::from_str(json).unwrap();
        let mut out = String::new();
        state_string(&s, &mut out);
        out
    }

    #[test]
    fn state_string_is_upstreams() {
        // Checked against upstream's utils.state_as_ordered_string(GameState.from_dict(...)).
        let text = state(
            r#"{"known_networks": [{"ip": "192.168.2.0", "mask": 24}, {"ip": "192.168.1.0", "mask": 24}, {"ip": "10.0.0.0", "mask": 8}],
                "known_hosts": [{"ip": "192.168.2.2"}, {"ip": "192.168.10.1"}, {"ip": "192.168.2.2"}],
                "controlled_hosts": [{"ip": "213.47.23.195"}],
                "known_services": {"192.168.2.2": [{"name": "ssh", "type": "passive", "version": "8.1", "is_local": false},
                                                   {"name": "ftp", "type": "passive", "version": "1", "is_local": true}]},
                "known_data": {"213.47.23.195": [{"owner": "User1", "id": "D1", "size": 3, "type": "", "content": "x"},
                                                 {"owner": "User1", "id": "D1", "size": 9, "type": "", "content": "y"}]},
                "known_blocks": {"192.168.2.2": [{"ip": "1.1.1.1"}, {"ip": {"ip": "0.0.0.1"}}]}}"#,
        );
        assert_eq!(
            text,
            "nets:[10.0.0.0/8,192.168.1.0/24,192.168.2.0/24],hosts:[192.168.10.1,192.168.2.2],\
             controlled:[213.47.23.195],services:{192.168.2.2:[Service(name='ftp', type='passive', version='1', \
             is_local=True),Service(name='ssh', type='passive', version='8.1', is_local=False)]},\
             data:{213.47.23.195:[Data(owner='User1', id='D1', size=3, type='')]}, blocks:{192.168.2.2:[0.0.0.1,1.1.1.1]}"
        );
    }

    #[test]
    fn missing_blocks_and_string_masks_are_accepted() {
        let text = state(
            r#"{"known_networks": [{"ip": "192.168.1.0", "mask": "24"}], "known_hosts": [], "controlled_hosts": [],
                "known_services": {}, "known_data": {"1.1.1.1": []}}"#,
        );
        assert_eq!(text, "nets:[192.168.1.0/24],hosts:[],controlled:[],services:{},data:{1.1.1.1:[]}, blocks:{}");
    }

    #[test]
    fn action_keys_ignore_order_and_data_size() {
        let key = |json: &str| {
            let a: RawAction<'_> = serde_json::from_str(json).unwrap();
            let mut out = String::new();
            action_key(&a, "ExfiltrateData", &mut out);
            out
        };
        let a = key(r#"{"action_type": "ActionType.ExfiltrateData", "parameters": {"target_host": {"ip": "1.1.1.1"},
                "source_host": {"ip": "2.2.2.2"}, "data": {"owner": "o", "id": "d", "size": 1, "type": "", "content": "c"}}}"#);
        let b = key(r#"{"action_type": "ActionType.ExfiltrateData", "parameters": {"source_host": {"ip": "2.2.2.2"},
                "data": {"id": "d", "owner": "o", "type": "", "size": 99}, "target_host": {"ip": "1.1.1.1"}}}"#);
        assert_eq!(a, b);
        assert_eq!(
            a,
            "ExfiltrateData|data={id:'d',owner:'o',type:''}|source_host={ip:'2.2.2.2'}|target_host={ip:'1.1.1.1'}"
        );
    }

    #[test]
    fn python_reprs() {
        assert_eq!(py_repr("a'b"), "\"a'b\"");
        assert_eq!(py_repr("a'b\""), "'a\\'b\"'");
        assert_eq!(py_repr("x\ny"), "'x\\ny'");
    }
}

//! Property tests: codec round trips, framing under arbitrary splits and concatenations, the
//! JSON formatter's guarantees, and world invariants.

use netsecgame::action::{Action, BlockKey, Param};
use netsecgame::components::{ActionType, AgentRole, Data, Ip, Network, Service};
use netsecgame::framing::{Frame, FrameDecoder};
use netsecgame::pyjson::to_py_json;
use netsecgame::task::TaskConfig;
use netsecgame::world::World;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::Arc;

fn ip() -> impl Strategy<Value = Ip> {
    any::<[u8; 4]>().prop_map(|o| Ip::v4(o[0], o[1], o[2], o[3]))
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[a-zA-Z0-9 _.-]{0,12}", any::<String>(), Just("EOF".to_string()), Just("xEOFEOF\u{1F600}".to_string())]
}

fn param() -> impl Strategy<Value = Param> {
    prop_oneof![
        ip().prop_map(Param::SourceHost),
        ip().prop_map(Param::TargetHost),
        (ip(), any::<bool>())
            .prop_map(|(i, k)| Param::Blocked(if k { BlockKey::BlockedHost } else { BlockKey::BlockedIp }, i)),
        (any::<[u8; 4]>(), 0u8..=32)
            .prop_map(|(o, m)| Param::TargetNetwork(Network::new(std::net::Ipv4Addr::from(o), m).unwrap())),
        (text(), text(), text(), any::<bool>())
            .prop_map(|(n, t, v, l)| Param::TargetService(Service::new(&n, &t, &v, l))),
        (text(), text(), any::<i64>(), text(), text()).prop_map(|(o, i, s, t, c)| Param::Data(Data {
            owner: o.into(),
            id: i.into(),
            size: s,
            data_type: t.into(),
            content: c.into()
        })),
        any::<bool>().prop_map(Param::RequestTrajectory),
        proptest::option::of(any::<i64>()).prop_map(Param::Seed),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    (0usize..ActionType::ALL.len(), proptest::collection::vec(param(), 0..5)).prop_map(|(t, mut params)| {
        // A key appears once in a JSON object.
        let mut seen = BTreeSet::new();
        params.retain(|p| seen.insert(p.key()));
        Action::new(ActionType::ALL[t], params)
    })
}

proptest! {
    #[test]
    fn action_codec_round_trips(a in action()) {
        let text = to_py_json(&a);
        prop_assert!(text.is_ascii() && !text.contains("EOF"));
        let back = Action::from_json_bytes(text.as_bytes()).unwrap();
        prop_assert_eq!(&back, &a);
        prop_assert_eq!(to_py_json(&back), text);
    }

    /// Equal actions hash equally, whatever the order of their parameters (the global
    /// defender counts repeats in a hash map).
    #[test]
    fn action_hash_agrees_with_equality(a in action(), rotate in 0usize..5) {
        use std::hash::BuildHasher;
        let mut b = a.clone();
        if !b.params.is_empty() {
            let k = rotate % b.params.len();
            b.params.rotate_left(k);
        }
        prop_assert_eq!(&a, &b);
        let h = std::collections::hash_map::RandomState::new();
        prop_assert_eq!(h.hash_one(&a), h.hash_one(&b));
    }

    #[test]
    fn formatter_output_is_ascii_without_eof_and_lossless(s in any::<String>(), k in text()) {
        let v = serde_json::json!({ k.clone(): [s.clone(), 1.5, -3, null, true] });
        let out = to_py_json(&v);
        prop_assert!(out.is_ascii());
        prop_assert!(!out.contains("EOF"));
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        prop_assert_eq!(back, v);
    }

    #[test]
    fn framing_survives_any_split(
        actions in proptest::collection::vec(action(), 1..6),
        seps in proptest::collection::vec(prop_oneof![Just(""), Just(" "), Just("\n"), Just("EOF"), Just(" \r\n\tEOF ")], 6),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..20),
    ) {
        let texts: Vec<String> = actions.iter().map(to_py_json).collect();
        let mut stream = Vec::new();
        for (t, sep) in texts.iter().zip(seps.iter().cycle()) {
            stream.extend_from_slice(t.as_bytes());
            stream.extend_from_slice(sep.as_bytes());
        }
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
        points.push(0);
        points.push(stream.len());
        points.sort();
        let mut dec = FrameDecoder::default();
        let mut frames = Vec::new();
        for w in points.windows(2) {
            dec.push(&stream[w[0]..w[1]]);
            while let Some(f) = dec.next() {
                frames.push(f);
            }
        }
        let expected: Vec<Frame> = texts.iter().map(|t| Frame::Request(t.as_bytes().to_vec())).collect();
        prop_assert_eq!(frames, expected);
        prop_assert_eq!(dec.flush_partial(), None);
    }

    #[test]
    fn framing_never_holds_more_than_the_cap(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..40)) {
        let mut dec = FrameDecoder::new(256);
        for c in chunks {
            dec.push(&c);
            while dec.next().is_some() {}
            prop_assert!(dec.pending() <= 256 + 300);
        }
    }
}

fn world(seed: i64, dynamic: bool) -> World {
    let yaml = format!(
        "env:\n  scenario: three_net_scenario\n  use_dynamic_addresses: {dynamic}\ncoordinator:\n  agents:\n    Attacker:\n      start_position:\n        controlled_hosts: [random, 213.47.23.195]\n      goal:\n        description: reach 192.168.3.2 and 192.168.1.0/24 via 213.47.23.195\n        controlled_hosts: [192.168.3.2]\n"
    );
    World::new(Arc::new(TaskConfig::from_yaml(&yaml, "prop", None).unwrap()), seed)
}

/// A random but relevant action: sources and targets drawn from the world's IPs.
fn world_action(w: &World, pick: &[usize; 4]) -> Action {
    let ips = w.ips();
    let s = ips[pick[0] % ips.len()];
    let t = ips[pick[1] % ips.len()];
    let nets: Vec<Network> = w.networks().collect();
    match pick[2] % 6 {
        0 => Action::new(
            ActionType::ScanNetwork,
            vec![Param::SourceHost(s), Param::TargetNetwork(nets[pick[3] % nets.len()])],
        ),
        1 => Action::new(ActionType::FindServices, vec![Param::SourceHost(s), Param::TargetHost(t)]),
        2 => Action::new(ActionType::FindData, vec![Param::SourceHost(s), Param::TargetHost(t)]),
        3 => match w.services_of(t).get(pick[3] % 4) {
            Some(sv) => Action::new(
                ActionType::ExploitService,
                vec![Param::SourceHost(s), Param::TargetHost(t), Param::TargetService(sv.clone())],
            ),
            None => Action::new(ActionType::FindServices, vec![Param::SourceHost(s), Param::TargetHost(t)]),
        },
        4 => match w.data_of(s).nth(pick[3] % 3).cloned() {
            Some(d) => Action::new(
                ActionType::ExfiltrateData,
                vec![Param::SourceHost(s), Param::TargetHost(t), Param::Data(d)],
            ),
            None => Action::new(ActionType::FindData, vec![Param::SourceHost(s), Param::TargetHost(s)]),
        },
        _ => Action::new(
            ActionType::BlockIP,
            vec![
                Param::SourceHost(s),
                Param::TargetHost(t),
                Param::Blocked(BlockKey::BlockedHost, ips[pick[3] % ips.len()]),
            ],
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn attacker_knowledge_only_grows(seed in any::<i64>(), picks in proptest::collection::vec(any::<[usize; 4]>(), 1..80)) {
        let mut w = world(seed, false);
        w.add_agent(1, AgentRole::Attacker);
        for p in picks {
            let before = (*w.agent(1).unwrap().state).clone();
            let a = world_action(&w, &p);
            w.step(1, &a).unwrap();
            let after = &w.agent(1).unwrap().state;
            prop_assert!(before.known_networks.is_subset(&after.known_networks));
            prop_assert!(before.known_hosts.is_subset(&after.known_hosts));
            prop_assert!(before.controlled_hosts.is_subset(&after.controlled_hosts));
            for (k, v) in &before.known_data {
                prop_assert!(after.known_data.get(k).is_some_and(|n| v.is_subset(n)));
            }
            for (k, v) in &before.known_blocks {
                prop_assert!(after.known_blocks.get(k).is_some_and(|n| v.is_subset(n)));
            }
        }
    }

    #[test]
    fn same_seed_same_remap_and_the_shape_is_kept(seed in any::<i64>(), reset_seed in any::<i64>()) {
        let mut a = world(seed, true);
        let mut b = world(seed, true);
        let original = world(seed, true);
        a.add_agent(1, AgentRole::Attacker);
        b.add_agent(1, AgentRole::Attacker);
        a.reset(Some(reset_seed), true);
        b.reset(Some(reset_seed), true);
        prop_assert_eq!(a.ips(), b.ips());
        prop_assert_eq!(&a.agent(1).unwrap().state, &b.agent(1).unwrap().state);
        prop_assert_eq!(a.goal_description(AgentRole::Attacker), b.goal_description(AgentRole::Attacker));
        prop_assert_ne!(a.ips(), original.ips());
        // The allow-set has the same shape under the relabelling, and privacy is kept.
        let n = a.ips().len();
        for i in 0..n {
            prop_assert_eq!(a.ips()[i].is_private(), original.ips()[i].is_private());
            for j in 0..n {
                prop_assert_eq!(a.firewall_allows(a.ips()[i], a.ips()[j]), original.firewall_allows(original.ips()[i], original.ips()[j]));
            }
        }
        // Host offsets inside networks are kept, and networks are canonical.
        for (new_net, old_net) in a.networks().zip(original.networks()) {
            prop_assert_eq!(new_net.mask(), old_net.mask());
            prop_assert_eq!(new_net, new_net.canonical());
        }
        // The goal's addresses moved with the world, CIDRs included.
        let goal = a.goal_description(AgentRole::Attacker);
        prop_assert!(!goal.contains("192.168.3.2 ") && !goal.contains("213.47.23.195"), "{}", goal);
        prop_assert!(a.agent(1).unwrap().goal.state.controlled_hosts.iter().all(|h| a.ips().contains(h)));
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|i| serde_json::json!(i)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| serde_json::json!(f)),
        text().prop_map(serde_json::Value::String),
        prop_oneof![Just("ActionType.ScanNetwork"), Just("JoinGame"), Just("192.168.1.2"), Just("ip"), Just("mask")]
            .prop_map(|s| serde_json::Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        Just("action_type".to_string()),
                        Just("parameters".to_string()),
                        Just("source_host".to_string()),
                        Just("target_network".to_string()),
                        Just("data".to_string()),
                        Just("agent_info".to_string()),
                        Just("seed".to_string()),
                        text()
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Whatever a client sends, decoding answers Ok or a typed error; it never panics, and a
    /// decoded action always re-encodes to something that decodes to the same action.
    #[test]
    fn decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512), value in json_value()) {
        let _ = Action::from_json_bytes(&bytes);
        let text = serde_json::to_vec(&value).unwrap();
        if let Ok(a) = Action::from_json_bytes(&text) {
            let again = Action::from_json_bytes(to_py_json(&a).as_bytes()).unwrap();
            prop_assert_eq!(again, a);
        }
    }
}

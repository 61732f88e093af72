//! The world derived from each scenario YAML equals the world upstream builds
//! (`tests/reference/scenarios/<name>.json`): hosts, IPs, networks, services, data, start
//! candidates and the firewall allow-set.

use netsecgame::scenario::{embedded_names, Topology};
use serde_json::Value;
use std::path::PathBuf;

fn reference(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/reference/scenarios/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn strip_hosts(hosts: &Value) -> Vec<Value> {
    hosts
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let keep = ["name", "kind", "interfaces", "is_start_candidate", "services", "data"];
            Value::Object(keep.iter().map(|k| (k.to_string(), h[*k].clone())).collect())
        })
        .collect()
}

#[test]
fn all_eight_scenarios_match_the_reference_world() {
    assert_eq!(embedded_names().len(), 8);
    for name in embedded_names() {
        let ours = Topology::load(name, None).unwrap().dump(true);
        let theirs = reference(name);
        for (i, (a, b)) in
            ours["networks"].as_array().unwrap().iter().zip(theirs["networks"].as_array().unwrap()).enumerate()
        {
            for k in ["cidr", "ip", "mask", "is_private", "ips"] {
                assert_eq!(a[k], b[k], "{name}: networks[{i}].{k}");
            }
        }
        assert_eq!(ours["networks"].as_array().unwrap().len(), theirs["networks"].as_array().unwrap().len(), "{name}");
        assert_eq!(strip_hosts(&ours["hosts"]), strip_hosts(&theirs["hosts"]), "{name}: hosts");
        assert_eq!(ours["ip_to_host"], theirs["ip_to_host"], "{name}: ip_to_host");
        assert_eq!(ours["start_candidates"], theirs["start_candidates"], "{name}: start_candidates");
        assert_eq!(ours["firewall"]["allowed"], theirs["firewall"]["allowed"], "{name}: firewall.allowed");
        assert_eq!(
            ours["firewall"]["allowed_pairs_count"], theirs["summary"]["firewall_allowed_pairs"],
            "{name}: allowed pair count"
        );
    }
}

#[test]
fn firewall_off_is_all_to_all() {
    let t = Topology::load("two_networks", None).unwrap();
    let n = t.ips.len();
    assert_eq!(t.firewall(false).pair_count(), n * n);
}

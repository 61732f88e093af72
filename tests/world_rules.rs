//! Action preconditions and effects, goals and keywords, one rule at a
//! time on `two_networks_tiny` and `two_networks`.

use netsecgame::action::{Action, BlockKey, Param};
use netsecgame::components::{ActionType, AgentRole, Data, GameState, Ip, Network, Service};
use netsecgame::task::TaskConfig;
use netsecgame::world::World;
use std::sync::Arc;

const ROUTER: Ip = Ip::v4(192, 168, 1, 1);
const SMB: Ip = Ip::v4(192, 168, 1, 2);
const CLIENT: Ip = Ip::v4(192, 168, 2, 2);
const CC: Ip = Ip::v4(213, 47, 23, 195);

fn world_with(scenario: &str, attacker_start: &str, extra: &str) -> World {
    let yaml = format!(
        "env:\n  scenario: {scenario}\n{extra}coordinator:\n  agents:\n    Attacker:\n      start_position:\n        controlled_hosts: {attacker_start}\n      goal:\n        known_data: {{213.47.23.195: [[User1, DataFromServer1]]}}\n    Defender:\n      start_position:\n        controlled_hosts: [all_local]\n      goal:\n        known_blocks: {{192.168.1.2: all_attackers}}\n"
    );
    World::new(Arc::new(TaskConfig::from_yaml(&yaml, "rules", None).unwrap()), 42)
}

fn tiny() -> World {
    let mut w = world_with("two_networks_tiny", "[213.47.23.195, 192.168.2.2]", "");
    w.add_agent(1, AgentRole::Attacker);
    w
}

fn st(w: &World, id: u64) -> GameState {
    (*w.agent(id).unwrap().state).clone()
}

fn scan(src: Ip, net: &str) -> Action {
    Action::new(ActionType::ScanNetwork, vec![Param::SourceHost(src), Param::TargetNetwork(net.parse().unwrap())])
}
fn find_services(src: Ip, t: Ip) -> Action {
    Action::new(ActionType::FindServices, vec![Param::SourceHost(src), Param::TargetHost(t)])
}
fn find_data(src: Ip, t: Ip) -> Action {
    Action::new(ActionType::FindData, vec![Param::SourceHost(src), Param::TargetHost(t)])
}
fn exploit(src: Ip, t: Ip, s: Service) -> Action {
    Action::new(ActionType::ExploitService, vec![Param::SourceHost(src), Param::TargetHost(t), Param::TargetService(s)])
}
fn exfil(src: Ip, t: Ip, d: Data) -> Action {
    Action::new(ActionType::ExfiltrateData, vec![Param::SourceHost(src), Param::TargetHost(t), Param::Data(d)])
}
fn block(src: Ip, t: Ip, b: Ip) -> Action {
    Action::new(
        ActionType::BlockIP,
        vec![Param::SourceHost(src), Param::TargetHost(t), Param::Blocked(BlockKey::BlockedHost, b)],
    )
}
fn smb_ds() -> Service {
    Service::new("microsoft-ds", "passive", "10.0.19041", false)
}

/// Attacker 1 owns the Samba server (client -> scan -> services -> exploit).
fn owning_smb() -> World {
    let mut w = tiny();
    w.step(1, &find_services(CLIENT, SMB)).unwrap();
    w.step(1, &exploit(CLIENT, SMB, smb_ds())).unwrap();
    assert!(st(&w, 1).controlled_hosts.contains(&SMB));
    w
}

#[test]
fn start_state_has_neighbouring_networks() {
    let s = st(&tiny(), 1);
    let nets: Vec<String> = s.known_networks.iter().map(|n| n.to_string()).collect();
    assert_eq!(nets, ["192.168.1.0/24", "192.168.2.0/24", "192.168.3.0/24", "213.47.23.192/26"]);
    assert_eq!(s.known_hosts, s.controlled_hosts);
}

#[test]
fn scan_needs_a_controlled_source_and_respects_the_firewall() {
    let mut w = tiny();
    w.step(1, &scan(SMB, "192.168.1.0/24")).unwrap();
    assert_eq!(st(&w, 1), st(&tiny(), 1), "uncontrolled source: nothing changes");
    let before = st(&w, 1).known_networks;
    w.step(1, &scan(CLIENT, "192.168.1.0/24")).unwrap();
    let s = st(&w, 1);
    assert!(s.known_hosts.contains(&SMB));
    assert!(!s.known_hosts.contains(&ROUTER), "the client may not reach the router's 1.1 interface");
    assert_eq!(s.known_networks, before, "scans do not add networks");
}

#[test]
fn find_services_shows_local_services_only_on_controlled_hosts() {
    let mut w = tiny();
    w.step(1, &find_services(CLIENT, SMB)).unwrap();
    let s = st(&w, 1);
    assert_eq!(s.known_services[&SMB].len(), 2);
    assert!(s.known_services[&SMB].iter().all(|x| !x.is_local));
    let w = owning_smb();
    let mut w2 = w.clone();
    w2.step(1, &find_services(CLIENT, SMB)).unwrap();
    assert_eq!(st(&w2, 1).known_services[&SMB].len(), 4);
    // A target without services leaves earlier knowledge alone.
    w2.step(1, &find_services(CLIENT, Ip::v4(192, 168, 2, 1))).unwrap();
    assert!(!st(&w2, 1).known_services.contains_key(&Ip::v4(192, 168, 2, 1)));
}

#[test]
fn find_services_on_an_unknown_host_discovers_it_and_its_networks() {
    let mut w = world_with("two_networks_tiny", "[192.168.2.2]", "");
    w.add_agent(1, AgentRole::Attacker);
    assert!(!st(&w, 1).known_hosts.contains(&SMB));
    w.step(1, &find_services(CLIENT, SMB)).unwrap();
    let s = st(&w, 1);
    assert!(s.known_hosts.contains(&SMB));
    assert!(s.known_networks.contains(&"192.168.1.0/24".parse::<Network>().unwrap()));
}

#[test]
fn exploit_needs_the_exact_known_service() {
    let mut w = tiny();
    w.step(1, &exploit(CLIENT, SMB, smb_ds())).unwrap();
    assert!(!st(&w, 1).controlled_hosts.contains(&SMB), "service not known yet");
    w.step(1, &find_services(CLIENT, SMB)).unwrap();
    w.step(1, &exploit(CLIENT, SMB, Service::new("microsoft-ds", "tcp", "10.0.19041", false))).unwrap();
    assert!(!st(&w, 1).controlled_hosts.contains(&SMB), "all four fields must match");
    w.step(1, &exploit(CLIENT, SMB, smb_ds())).unwrap();
    let s = st(&w, 1);
    assert!(s.controlled_hosts.contains(&SMB));
}

#[test]
fn find_data_on_controlled_hosts_refreshes_the_log() {
    let mut w = owning_smb();
    w.step(1, &find_data(CLIENT, SMB)).unwrap();
    let log1 = st(&w, 1).known_data[&SMB].iter().find(|d| &*d.id == "logfile").unwrap().clone();
    assert_eq!(st(&w, 1).known_data[&SMB].len(), 4);
    assert!(log1.content.ends_with(r#"{"source_host": "192.168.2.2", "action_type": "ActionType.FindData"}]"#));
    w.step(1, &find_data(CLIENT, SMB)).unwrap();
    let log2 = st(&w, 1).known_data[&SMB].iter().find(|d| &*d.id == "logfile").unwrap().clone();
    assert!(log2.size > log1.size, "a repeated FindData returns the current log");
    assert_eq!(log2.size as usize, log2.content.len());
    // Uncontrolled target: only the log grows.
    let mut w = tiny();
    w.step(1, &find_data(CLIENT, SMB)).unwrap();
    assert!(st(&w, 1).known_data.is_empty());
}

#[test]
fn exfiltration_copies_the_worlds_data_and_reaches_the_goal() {
    let mut w = owning_smb();
    let fake = Data { size: 999, content: "FAKE".into(), ..Data::new("User1", "DataFromServer1") };
    w.step(1, &exfil(SMB, CC, fake.clone())).unwrap();
    assert!(!st(&w, 1).known_data.contains_key(&CC), "the data must be known at the source first");
    w.step(1, &find_data(SMB, SMB)).unwrap();
    let out = w.step(1, &exfil(SMB, CC, fake)).unwrap();
    assert!(out.goal_reached);
    let copy = st(&w, 1).known_data[&CC].iter().next().unwrap().clone();
    assert_eq!((copy.size, &*copy.content), (0, ""), "the world's copy, not the agent's");
    // Another agent controlling the C&C finds it there; a reset removes it.
    w.add_agent(2, AgentRole::Attacker);
    w.step(2, &find_data(CC, CC)).unwrap();
    assert!(st(&w, 2).known_data[&CC].iter().any(|d| &*d.id == "DataFromServer1"));
    w.reset(None, false);
    w.step(2, &find_data(CC, CC)).unwrap();
    assert!(!st(&w, 2).known_data[&CC].iter().any(|d| &*d.id == "DataFromServer1"));
}

#[test]
fn blocks_cut_both_directions_for_everyone_and_charge_false_positives() {
    let mut w = world_with("two_networks_tiny", "[213.47.23.195, 192.168.2.2]", "");
    w.add_agent(1, AgentRole::Attacker);
    w.add_agent(2, AgentRole::Defender);
    assert!(w.firewall_allows(CLIENT, SMB));
    let out = w.step(2, &block(SMB, SMB, CLIENT)).unwrap();
    assert!(out.false_positive_authors.is_empty());
    assert!(!w.firewall_allows(CLIENT, SMB) && !w.firewall_allows(SMB, CLIENT));
    let s = st(&w, 2);
    assert!(s.known_blocks[&SMB].contains(&CLIENT) && s.known_blocks[&CLIENT].contains(&SMB));
    // The attacker hitting the block is not a false positive; the defender hitting it is.
    assert!(w.step(1, &find_services(CLIENT, SMB)).unwrap().false_positive_authors.is_empty());
    assert_eq!(w.step(2, &find_services(CLIENT, SMB)).unwrap().false_positive_authors, vec![2]);
    // Blocking a host from itself changes nothing.
    w.step(2, &block(ROUTER, ROUTER, ROUTER)).unwrap();
    assert!(w.firewall_allows(ROUTER, ROUTER));
    // A reset restores the firewall.
    w.reset(None, false);
    assert!(w.firewall_allows(CLIENT, SMB));
}

#[test]
fn all_attackers_block_goal_is_evaluated() {
    let mut w = world_with("two_networks_tiny", "[192.168.2.2]", "");
    w.add_agent(1, AgentRole::Attacker);
    w.add_agent(2, AgentRole::Defender);
    assert!(!w.goal_reached(2), "the attacker's host is not blocked yet");
    w.step(2, &block(SMB, CLIENT, Ip::v4(192, 168, 2, 1))).unwrap();
    assert!(!w.goal_reached(2), "a block elsewhere does not count");
    w.step(2, &block(SMB, SMB, CLIENT)).unwrap();
    assert!(w.goal_reached(2), "the block itself makes it known");
    // When the attacker takes another host (the C&C, through its listener), the goal is no
    // longer met until that host is blocked too.
    let listener = Service::new("listener", "passive", "1.0.0", false);
    w.step(1, &find_services(CLIENT, CC)).unwrap();
    w.step(1, &exploit(CLIENT, CC, listener)).unwrap();
    assert!(st(&w, 1).controlled_hosts.contains(&CC));
    assert!(!w.goal_reached(2), "the new attacker host is not blocked yet");
    w.step(2, &block(SMB, SMB, CC)).unwrap();
    assert!(w.goal_reached(2));
}

#[test]
fn random_keywords_are_seeded() {
    let draw = |seed| {
        let mut w = world_with("two_networks", "[random, random, random]", "");
        w.reset(Some(seed), false);
        w.add_agent(1, AgentRole::Attacker);
        st(&w, 1).controlled_hosts
    };
    let starts: std::collections::BTreeSet<_> = (0..20).map(draw).collect();
    assert!(starts.len() > 1, "different seeds give different starts");
    assert_eq!(draw(3), draw(3));
    let candidates = [2, 3, 4, 5, 6].map(|d| Ip::v4(192, 168, 2, d));
    assert!(draw(4).iter().all(|h| candidates.contains(h)), "random starts come from start candidates");
}

#[test]
fn unknown_agents_and_non_game_actions_are_errors_not_panics() {
    let mut w = tiny();
    assert!(w.step(9, &scan(CLIENT, "192.168.1.0/24")).is_err());
    assert!(w.step(1, &Action::new(ActionType::JoinGame, vec![])).is_err());
    assert!(w.step(1, &Action::new(ActionType::FindData, vec![Param::SourceHost(CLIENT)])).is_err());
    // An out-of-world target is a no-op, not a crash.
    w.step(1, &exploit(CLIENT, Ip::v4(8, 8, 8, 8), smb_ds())).unwrap();
    w.step(1, &block(CLIENT, CLIENT, Ip::v4(8, 8, 8, 8))).unwrap();
    assert!(st(&w, 1).known_blocks[&CLIENT].contains(&Ip::v4(8, 8, 8, 8)));
}

/// The address layout a seed draws is part of the game's reproducibility (results published
/// with a seed must replay in later versions), so it is pinned here.
#[test]
fn a_seed_fixes_the_new_address_layout_exactly() {
    let mut w = world_with("two_networks_tiny", "[213.47.23.195, 192.168.2.2]", "  use_dynamic_addresses: true\n");
    w.add_agent(1, AgentRole::Attacker);
    w.reset(Some(11), true);
    let nets: Vec<String> = w.networks().map(|n| n.to_string()).collect();
    let ips: Vec<String> = w.ips().iter().map(|ip| ip.to_string()).collect();
    assert_eq!(nets, ["192.168.23.0/24", "192.168.24.0/24", "72.240.129.0/26"], "networks");
    assert_eq!(ips, ["192.168.23.2", "192.168.24.2", "72.240.129.3", "192.168.23.1", "192.168.24.1"], "addresses");
    // Goal texts follow: addresses and CIDRs, nothing else.
    let yaml = "env:\n  scenario: two_networks_tiny\n  use_dynamic_addresses: true\ncoordinator:\n  agents:\n    Attacker:\n      start_position:\n        controlled_hosts: [192.168.2.2]\n      goal:\n        description: \"Send data to 213.47.23.195, scan 192.168.1.0/24 first (not 10.0.0.1).\"\n        known_data: {213.47.23.195: [[User1, DataFromServer1]]}\n";
    let mut w = World::new(Arc::new(TaskConfig::from_yaml(yaml, "goal-text", None).unwrap()), 42);
    w.add_agent(1, AgentRole::Attacker);
    w.reset(Some(11), true);
    assert_eq!(
        w.goal_description(AgentRole::Attacker),
        "Send data to 72.240.129.3, scan 192.168.23.0/24 first (not 10.0.0.1)."
    );
}

//! The JSON the pages read: an agent's view of the world, actions as log text, games and
//! tasks. One shape for live games and replays, so the pages draw both with the same code.
//!
//! A view leaves out data contents: a logfile found by FindData can be tens of kilobytes and
//! is repeated in every later state, while the page shows which data an agent found, not
//! what is in it. Everything else an agent knows is there.

use crate::game::messages::{GameView, PlayerState};
use crate::registry::GameEntry;
use netsecgame::action::{Action, Param};
use netsecgame::components::{ActionType, AgentRole, Data, GameState, Service};
use serde_json::{json, Map, Value};

/// A service as the pages show it.
pub fn service_json(s: &Service) -> Value {
    json!({"name": &*s.name, "type": &*s.service_type, "version": &*s.version, "is_local": s.is_local})
}

/// A data item without its content (its size says how big the content is).
pub fn data_json(d: &Data) -> Value {
    json!({"owner": &*d.owner, "id": &*d.id, "type": &*d.data_type, "size": d.size})
}

/// What an agent knows: networks (CIDR), known and controlled hosts, services, data and
/// blocks by host address.
pub fn state_json(s: &GameState) -> Value {
    let keyed = |entries: Vec<(String, Vec<Value>)>| -> Value {
        Value::Object(entries.into_iter().map(|(k, v)| (k, Value::Array(v))).collect())
    };
    json!({
        "networks": s.known_networks.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "known_hosts": s.known_hosts.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "controlled_hosts": s.controlled_hosts.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "services": keyed(s.known_services.iter().map(|(ip, set)| (ip.to_string(), set.iter().map(service_json).collect())).collect()),
        "data": keyed(s.known_data.iter().map(|(ip, set)| (ip.to_string(), set.iter().map(data_json).collect())).collect()),
        "blocks": keyed(s.known_blocks.iter().map(|(ip, set)| (ip.to_string(), set.iter().map(|b| json!(b.to_string())).collect())).collect()),
    })
}

/// One joined agent: who it is, how its episode goes, and its view.
pub fn player_json(p: &PlayerState) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "role": p.role.name(),
        "status": p.status.name(),
        "steps": p.steps,
        "return": p.episode_return,
        "detected": p.detected,
        "ended": p.ended,
        "blocks": p.blocks,
        "false_positives": p.false_positives,
        "view": state_json(&p.state),
    })
}

fn role_key(role: AgentRole) -> &'static str {
    role.name()
}

/// The task a game plays: scenario, players needed, per-role step limits and goals, rules.
pub fn task_json(entry: &GameEntry) -> Value {
    let t = &entry.task;
    let mut roles = Map::new();
    for role in AgentRole::ALL {
        let r = t.role(role);
        roles.insert(role_key(role).into(), json!({"max_steps": r.max_steps, "goal": r.goal_description}));
    }
    json!({
        "origin": t.origin,
        "scenario": t.topology.name,
        "required_players": t.required_players,
        "global_defender": t.use_global_defender,
        "firewall": t.use_firewall,
        "dynamic_addresses": t.use_dynamic_addresses,
        "rewards": {"step": t.rewards.step, "success": t.rewards.success, "fail": t.rewards.fail, "false_positive": t.rewards.false_positive},
        "roles": roles,
    })
}

/// What a game is: id, label, scenario, port, start time and task.
pub fn game_info(entry: &GameEntry) -> Value {
    json!({
        "id": entry.id,
        "label": entry.label,
        "scenario": entry.scenario,
        "port": entry.port,
        "since": entry.since,
        "task": task_json(entry),
    })
}

/// A game as `/api/games` lists it: what it is, its episode, and every agent with its view.
pub fn game_json(entry: &GameEntry, view: Option<&GameView>) -> Value {
    let mut v = game_info(entry);
    match view {
        Some(view) => {
            v["episode"] = json!(view.episode);
            v["connections"] = json!(view.connections);
            v["agents"] = Value::Array(view.players.iter().map(player_json).collect());
        }
        None => {
            // The game did not answer in time (it is busy, or just ended).
            v["episode"] = Value::Null;
            v["connections"] = Value::Null;
            v["agents"] = json!([]);
            v["unavailable"] = json!(true);
        }
    }
    v
}

/// An action for the log: its type, its parameters by wire name, and a line of text.
pub fn action_json(a: &Action) -> Value {
    let mut params = Map::new();
    for p in &a.params {
        let value = match p {
            Param::SourceHost(ip) | Param::TargetHost(ip) | Param::Blocked(_, ip) => json!(ip.to_string()),
            Param::TargetNetwork(n) => json!(n.to_string()),
            Param::TargetService(s) => service_json(s),
            Param::Data(d) => data_json(d),
            Param::AgentInfo(i) => json!({"name": i.name, "role": i.role.name()}),
            Param::RequestTrajectory(b) | Param::RandomizeTopology(b) => json!(b),
            Param::Seed(s) => json!(s),
        };
        params.insert(p.key().into(), value);
    }
    json!({"type": a.action_type.name(), "params": params, "text": action_text(a)})
}

/// A short sentence for an action: "scan 192.168.1.0/24 from 192.168.2.2".
pub fn action_text(a: &Action) -> String {
    let mut src = None;
    let mut dst = None;
    let mut net = None;
    let mut service = None;
    let mut data = None;
    let mut blocked = None;
    for p in &a.params {
        match p {
            Param::SourceHost(ip) => src = Some(ip.to_string()),
            Param::TargetHost(ip) => dst = Some(ip.to_string()),
            Param::Blocked(_, ip) => blocked = Some(ip.to_string()),
            Param::TargetNetwork(n) => net = Some(n.to_string()),
            Param::TargetService(s) => service = Some(format!("{} {}", s.name, s.version).trim().to_string()),
            Param::Data(d) => data = Some(format!("{}/{}", d.owner, d.id)),
            _ => {}
        }
    }
    let or_q = |x: Option<String>| x.unwrap_or_else(|| "?".into());
    match a.action_type {
        ActionType::ScanNetwork => format!("scan {} from {}", or_q(net), or_q(src)),
        ActionType::FindServices => format!("find services on {} from {}", or_q(dst), or_q(src)),
        ActionType::ExploitService => format!("exploit {} on {} from {}", or_q(service), or_q(dst), or_q(src)),
        ActionType::FindData => format!("find data on {} from {}", or_q(dst), or_q(src)),
        ActionType::ExfiltrateData => format!("exfiltrate {} from {} to {}", or_q(data), or_q(src), or_q(dst)),
        ActionType::BlockIP => format!("block {} on {} from {}", or_q(blocked), or_q(dst), or_q(src)),
        other => other.name().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsecgame::components::Ip;

    #[test]
    fn actions_read_as_sentences() {
        let scan = Action::scan_network(Ip::v4(192, 168, 2, 2), "192.168.1.0/24".parse().unwrap());
        assert_eq!(action_text(&scan), "scan 192.168.1.0/24 from 192.168.2.2");
        let v = action_json(&scan);
        assert_eq!(v["type"], "ScanNetwork");
        assert_eq!(v["params"]["target_network"], "192.168.1.0/24");
        let exploit = Action::exploit_service(
            Ip::v4(192, 168, 2, 2),
            Ip::v4(192, 168, 1, 2),
            Service::new("microsoft-ds", "passive", "10.0.19041", false),
        );
        assert_eq!(action_text(&exploit), "exploit microsoft-ds 10.0.19041 on 192.168.1.2 from 192.168.2.2");
    }

    #[test]
    fn views_leave_data_contents_out() {
        let mut s = GameState::default();
        let ip = Ip::v4(192, 168, 1, 2);
        s.controlled_hosts.insert(ip);
        s.known_data.entry(ip).or_default().insert(Data::logfile(3, "x".repeat(10_000).into()));
        let v = state_json(&s);
        assert_eq!(v["controlled_hosts"], json!(["192.168.1.2"]));
        assert_eq!(v["data"]["192.168.1.2"][0]["id"], "logfile");
        assert!(v.to_string().len() < 500, "no content: {v}");
    }
}

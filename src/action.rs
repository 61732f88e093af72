//! Actions: the request side of the wire.
//!
//! Decoding accepts exactly what upstream `Action.from_dict` accepts: prefixed or
//! bare action names, case-insensitive roles, stringified booleans, seeds as int/null/"None",
//! `blocked_host` or `blocked_ip`. Everything else is an [`ActionError`] naming the field and
//! what was wrong, where upstream either answers "Malformed Action" or crashes later.

use crate::components::{ActionType, AgentRole, Data, Ip, Network, Service};
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use std::fmt;

/// Who an agent says it is at JoinGame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentInfo {
    pub name: String,
    pub role: AgentRole,
}

/// Which key a block parameter arrived under; kept so trajectories echo the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKey {
    BlockedHost,
    BlockedIp,
}

/// One decoded parameter. The variant fixes both the key and the value type.
#[derive(Debug, Clone)]
pub enum Param {
    SourceHost(Ip),
    TargetHost(Ip),
    Blocked(BlockKey, Ip),
    TargetNetwork(Network),
    TargetService(Service),
    Data(Data),
    AgentInfo(AgentInfo),
    RequestTrajectory(bool),
    RandomizeTopology(bool),
    Seed(Option<i64>),
}

impl Param {
    /// The wire key of this parameter.
    pub fn key(&self) -> &'static str {
        match self {
            Param::SourceHost(_) => "source_host",
            Param::TargetHost(_) => "target_host",
            Param::Blocked(BlockKey::BlockedHost, _) => "blocked_host",
            Param::Blocked(BlockKey::BlockedIp, _) => "blocked_ip",
            Param::TargetNetwork(_) => "target_network",
            Param::TargetService(_) => "target_service",
            Param::Data(_) => "data",
            Param::AgentInfo(_) => "agent_info",
            Param::RequestTrajectory(_) => "request_trajectory",
            Param::RandomizeTopology(_) => "randomize_topology",
            Param::Seed(_) => "seed",
        }
    }

    /// Python dict equality of the `as_dict` values (Data compares all five fields there).
    fn identical(&self, other: &Param) -> bool {
        match (self, other) {
            (Param::SourceHost(a), Param::SourceHost(b)) | (Param::TargetHost(a), Param::TargetHost(b)) => a == b,
            (Param::Blocked(ka, a), Param::Blocked(kb, b)) => ka == kb && a == b,
            (Param::TargetNetwork(a), Param::TargetNetwork(b)) => a == b,
            (Param::TargetService(a), Param::TargetService(b)) => a == b,
            (Param::Data(a), Param::Data(b)) => a.identical(b),
            (Param::AgentInfo(a), Param::AgentInfo(b)) => a == b,
            (Param::RequestTrajectory(a), Param::RequestTrajectory(b))
            | (Param::RandomizeTopology(a), Param::RandomizeTopology(b)) => a == b,
            (Param::Seed(a), Param::Seed(b)) => a == b,
            _ => false,
        }
    }
}

impl Serialize for Param {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Param::SourceHost(ip) | Param::TargetHost(ip) | Param::Blocked(_, ip) => ip.serialize(s),
            Param::TargetNetwork(n) => n.serialize(s),
            Param::TargetService(sv) => sv.serialize(s),
            Param::Data(d) => d.serialize(s),
            Param::AgentInfo(i) => i.serialize(s),
            Param::RequestTrajectory(b) | Param::RandomizeTopology(b) => s.serialize_bool(*b),
            Param::Seed(v) => v.serialize(s),
        }
    }
}

/// A decoded request. Parameters keep the order the client sent them in, because upstream
/// echoes that order in trajectories (`Action.as_dict`).
#[derive(Debug, Clone)]
pub struct Action {
    pub action_type: ActionType,
    pub params: Vec<Param>,
}

impl PartialEq for Action {
    /// Upstream equality: same type and the same parameters, in any order.
    fn eq(&self, other: &Self) -> bool {
        self.action_type == other.action_type
            && self.params.len() == other.params.len()
            && self.params.iter().all(|p| other.params.iter().any(|q| p.identical(q)))
    }
}

impl Eq for Action {}

impl std::hash::Hash for Action {
    /// Consistent with equality: the parameters' hashes are combined order-independently.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let build = BuildHasherDefault::<DefaultHasher>::default();
        let combined = self.params.iter().fold(0u64, |acc, p| acc.wrapping_add(build.hash_one(ParamKey(p))));
        self.action_type.hash(state);
        state.write_usize(self.params.len());
        state.write_u64(combined);
    }
}

/// A parameter hashed as [`Param::identical`] compares it (data by all five fields).
struct ParamKey<'a>(&'a Param);

impl std::hash::Hash for ParamKey<'_> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        std::mem::discriminant(self.0).hash(h);
        match self.0 {
            Param::SourceHost(ip) | Param::TargetHost(ip) => ip.hash(h),
            Param::Blocked(key, ip) => {
                (*key == BlockKey::BlockedHost).hash(h);
                ip.hash(h);
            }
            Param::TargetNetwork(n) => n.hash(h),
            Param::TargetService(s) => s.hash(h),
            Param::Data(d) => {
                d.hash(h);
                d.size.hash(h);
                d.content.hash(h);
            }
            Param::AgentInfo(i) => {
                i.name.hash(h);
                i.role.hash(h);
            }
            Param::RequestTrajectory(b) | Param::RandomizeTopology(b) => b.hash(h),
            Param::Seed(s) => s.hash(h),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", crate::pyjson::to_py_json(self))
    }
}

/// Generates a getter for a parameter variant that carries an `Ip`-like copy value.
macro_rules! getter {
    ($name:ident, $variant:ident, $ty:ty) => {
        pub fn $name(&self) -> Option<$ty> {
            self.params.iter().find_map(|p| match p {
                Param::$variant(v) => Some(v.clone()),
                _ => None,
            })
        }
    };
}

/// The parameters of a ResetGame request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResetOptions {
    /// Ask for the finished episode's trajectory in the reply (`last_trajectory`).
    pub request_trajectory: bool,
    /// Ask for new addresses (only honoured with an agreed seed and dynamic addresses on).
    pub randomize_topology: bool,
    /// Reseed the game; every agent must ask for the same seed, or none.
    pub seed: Option<i64>,
}

impl Action {
    pub fn new(action_type: ActionType, params: Vec<Param>) -> Self {
        Action { action_type, params }
    }

    /// ScanNetwork: discover the hosts of `network` reachable from `source`.
    pub fn scan_network(source: Ip, network: Network) -> Action {
        Action::new(ActionType::ScanNetwork, vec![Param::SourceHost(source), Param::TargetNetwork(network)])
    }

    /// FindServices: list the services of `target` as seen from `source`.
    pub fn find_services(source: Ip, target: Ip) -> Action {
        Action::new(ActionType::FindServices, vec![Param::SourceHost(source), Param::TargetHost(target)])
    }

    /// FindData: list the data (and logfile) of a controlled `target`.
    pub fn find_data(source: Ip, target: Ip) -> Action {
        Action::new(ActionType::FindData, vec![Param::SourceHost(source), Param::TargetHost(target)])
    }

    /// ExploitService: take control of `target` through one of its known services.
    pub fn exploit_service(source: Ip, target: Ip, service: Service) -> Action {
        Action::new(
            ActionType::ExploitService,
            vec![Param::SourceHost(source), Param::TargetHost(target), Param::TargetService(service)],
        )
    }

    /// ExfiltrateData: copy known `data` of `source` to the controlled `target`.
    pub fn exfiltrate_data(source: Ip, target: Ip, data: Data) -> Action {
        Action::new(
            ActionType::ExfiltrateData,
            vec![Param::SourceHost(source), Param::TargetHost(target), Param::Data(data)],
        )
    }

    /// BlockIP: on the controlled `target`, block traffic to and from `blocked`.
    pub fn block_ip(source: Ip, target: Ip, blocked: Ip) -> Action {
        Action::new(
            ActionType::BlockIP,
            vec![Param::SourceHost(source), Param::TargetHost(target), Param::Blocked(BlockKey::BlockedHost, blocked)],
        )
    }

    /// JoinGame as `name` in `role`.
    pub fn join_game(name: &str, role: AgentRole) -> Action {
        Action::new(ActionType::JoinGame, vec![Param::AgentInfo(AgentInfo { name: name.to_string(), role })])
    }

    /// QuitGame.
    pub fn quit_game() -> Action {
        Action::new(ActionType::QuitGame, vec![])
    }

    /// ResetGame with the given options (every parameter is sent, as upstream's client does).
    pub fn reset_game(options: ResetOptions) -> Action {
        Action::new(
            ActionType::ResetGame,
            vec![
                Param::RequestTrajectory(options.request_trajectory),
                Param::RandomizeTopology(options.randomize_topology),
                Param::Seed(options.seed),
            ],
        )
    }

    /// The options of a ResetGame request (absent parameters take their defaults).
    pub fn reset_options(&self) -> ResetOptions {
        ResetOptions {
            request_trajectory: self.request_trajectory(),
            randomize_topology: self.randomize_topology().unwrap_or(false),
            seed: self.seed(),
        }
    }

    getter!(source_host, SourceHost, Ip);
    getter!(target_host, TargetHost, Ip);
    getter!(target_network, TargetNetwork, Network);
    getter!(target_service, TargetService, Service);
    getter!(data, Data, Data);
    getter!(agent_info, AgentInfo, AgentInfo);

    /// The block target under either accepted key (`blocked_host`, or `blocked_ip` as upstream's
    /// WhiteBox list spells it).
    pub fn blocked_host(&self) -> Option<Ip> {
        self.params.iter().find_map(|p| match p {
            Param::Blocked(_, ip) => Some(*ip),
            _ => None,
        })
    }

    pub fn request_trajectory(&self) -> bool {
        self.params.iter().any(|p| matches!(p, Param::RequestTrajectory(true)))
    }

    /// `randomize_topology` if sent (None when absent, as upstream's `params.get`).
    pub fn randomize_topology(&self) -> Option<bool> {
        self.params.iter().find_map(|p| match p {
            Param::RandomizeTopology(b) => Some(*b),
            _ => None,
        })
    }

    /// The requested seed; None when absent or null.
    pub fn seed(&self) -> Option<i64> {
        self.params.iter().find_map(|p| match p {
            Param::Seed(s) => *s,
            _ => None,
        })
    }
}

impl Serialize for Action {
    /// Upstream `Action.as_dict`: `{"action_type": "ActionType.X", "parameters": {...}}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Params<'a>(&'a [Param]);
        impl Serialize for Params<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(self.0.len()))?;
                for p in self.0 {
                    m.serialize_entry(p.key(), p)?;
                }
                m.end()
            }
        }
        let mut st = s.serialize_struct("Action", 2)?;
        st.serialize_field("action_type", &self.action_type)?;
        st.serialize_field("parameters", &Params(&self.params))?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ip {
        s.parse().unwrap()
    }

    #[test]
    fn actions_are_equal_when_their_type_and_parameters_are_whatever_the_order() {
        let scan = Action::scan_network(ip("192.168.2.2"), "192.168.1.0/24".parse().unwrap());
        let reordered = Action::new(ActionType::ScanNetwork, scan.params.iter().rev().cloned().collect());
        assert_eq!(scan, reordered);
        let other_net = Action::scan_network(ip("192.168.2.2"), "192.168.3.0/24".parse().unwrap());
        assert_ne!(scan, other_net, "a different network");
        let other_source = Action::scan_network(ip("192.168.2.3"), "192.168.1.0/24".parse().unwrap());
        assert_ne!(scan, other_source, "a different source");
        // The same parameters under another type, and a parameter of another kind with the
        // same value, are different actions.
        assert_ne!(
            Action::find_services(ip("1.1.1.1"), ip("2.2.2.2")),
            Action::find_data(ip("1.1.1.1"), ip("2.2.2.2"))
        );
        let swapped =
            Action::new(ActionType::FindData, vec![Param::TargetHost(ip("1.1.1.1")), Param::SourceHost(ip("2.2.2.2"))]);
        assert_ne!(
            Action::find_data(ip("1.1.1.1"), ip("2.2.2.2")),
            swapped,
            "source and target are not interchangeable"
        );
        let block = |b: &str| Action::block_ip(ip("1.1.1.1"), ip("1.1.1.1"), ip(b));
        assert_eq!(block("3.3.3.3"), block("3.3.3.3"));
        assert_ne!(block("3.3.3.3"), block("4.4.4.4"));
        let join = |n: &str, r| Action::join_game(n, r);
        assert_eq!(join("a", AgentRole::Attacker), join("a", AgentRole::Attacker));
        assert_ne!(join("a", AgentRole::Attacker), join("b", AgentRole::Attacker));
        assert_ne!(join("a", AgentRole::Attacker), join("a", AgentRole::Defender));
        let reset =
            |seed| Action::reset_game(ResetOptions { request_trajectory: false, randomize_topology: false, seed });
        assert_eq!(reset(Some(1)), reset(Some(1)));
        assert_ne!(reset(Some(1)), reset(Some(2)));
        assert_ne!(reset(Some(1)), reset(None));
    }
}

//! The wire-level data model: value objects, enums, game state and observations.
//!
//! Everything here mirrors upstream `game_components.py` on the wire. Internally sets are
//! `BTreeSet`s, so states serialise in a stable sorted order (upstream's order is arbitrary
//! Python set order, which agents must not rely on). Strings shared between the world and
//! many agent states are `Arc<str>`, so copying knowledge into a state never copies text.

use ipnet::Ipv4Net;
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Deserialize, Serialize, Serializer};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::Ipv4Addr;
use std::ops::{Add, Mul};
use std::str::FromStr;
use std::sync::Arc;

/// A host address. Every world is IPv4 (scenarios, firewall and address remapping are IPv4
/// arithmetic), so an IPv6 address is rejected when decoded rather than accepted as a no-op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ip(pub Ipv4Addr);

impl Ip {
    /// Builds an address from its four octets; handy in tests and built-in agents.
    pub const fn v4(a: u8, b: u8, c: u8, d: u8) -> Self {
        Ip(Ipv4Addr::new(a, b, c, d))
    }

    /// "Private" as upstream's firewall decides it: netaddr 0.9 `is_private()`, which differs
    /// from the RFC list (it includes 100.64/10, 198.18/15, 239/8 and 169.254/16, not 127/8).
    pub fn is_private(self) -> bool {
        let o = self.0.octets();
        o[0] == 10
            || (o[0] == 100 && (64..128).contains(&o[1]))
            || (o[0] == 172 && (16..32).contains(&o[1]))
            || (o[0] == 192 && o[1] == 0 && o[2] == 0)
            || (o[0] == 192 && o[1] == 168)
            || (o[0] == 198 && (18..20).contains(&o[1]))
            || o[0] == 239
            || (o[0] == 169 && o[1] == 254)
    }
}

impl From<Ipv4Addr> for Ip {
    fn from(a: Ipv4Addr) -> Self {
        Ip(a)
    }
}

impl fmt::Display for Ip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Ip {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<Ipv4Addr>() {
            Ok(a) => Ok(Ip(a)),
            Err(_) if s.parse::<std::net::Ipv6Addr>().is_ok() => {
                Err(format!("`{s}` is an IPv6 address; game worlds are IPv4 only"))
            }
            Err(_) => Err(format!("`{s}` is not an IP address")),
        }
    }
}

impl Serialize for Ip {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("IP", 1)?;
        st.serialize_field("ip", &self.0.to_string())?;
        st.end()
    }
}

/// A network as agents name it: an address and a prefix length. Like upstream, the address may
/// be a host address inside the network (`192.168.1.7/24`); containment uses the prefix only.
/// Ordering is by (address as written, prefix), which fixes the order of states on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Network(pub Ipv4Net);

impl Network {
    /// Builds a network; None when the prefix is longer than 32.
    pub fn new(ip: Ipv4Addr, mask: u8) -> Option<Self> {
        Ipv4Net::new(ip, mask).ok().map(Network)
    }

    /// The address as written; not necessarily the canonical network address.
    pub fn ip(&self) -> Ipv4Addr {
        self.0.addr()
    }

    /// The prefix length.
    pub fn mask(&self) -> u8 {
        self.0.prefix_len()
    }

    /// True when `ip` lies inside this network.
    pub fn contains(&self, ip: Ip) -> bool {
        self.0.contains(&ip.0)
    }

    /// The canonical network address (host bits cleared).
    pub fn network_address(&self) -> Ip {
        Ip(self.0.network())
    }

    /// The same network with its address canonicalised.
    pub fn canonical(&self) -> Network {
        Network(self.0.trunc())
    }

    /// Private in upstream's sense (see [`Ip::is_private`]), judged by the network address.
    pub fn is_private(&self) -> bool {
        self.network_address().is_private()
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.ip(), self.mask())
    }
}

impl FromStr for Network {
    type Err = String;
    /// Parses `a.b.c.d/m`, keeping the address as written.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (ip, mask) = s.split_once('/').ok_or_else(|| format!("`{s}` is not in CIDR form ip/prefix"))?;
        let ip: Ip = ip.trim().parse().map_err(|e| format!("{e} (in `{s}`)"))?;
        let mask: u8 = mask.trim().parse().map_err(|_| format!("prefix `{mask}` in `{s}` is not a number"))?;
        Network::new(ip.0, mask).ok_or_else(|| format!("prefix /{mask} is too long for `{ip}`"))
    }
}

impl Serialize for Network {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Network", 2)?;
        st.serialize_field("ip", &self.ip().to_string())?;
        st.serialize_field("mask", &self.mask())?;
        st.end()
    }
}

/// A service on a host. Equality covers all four fields, as upstream.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Service {
    pub name: Arc<str>,
    #[serde(rename = "type")]
    pub service_type: Arc<str>,
    pub version: Arc<str>,
    pub is_local: bool,
}

impl Service {
    pub fn new(name: &str, service_type: &str, version: &str, is_local: bool) -> Self {
        Service { name: name.into(), service_type: service_type.into(), version: version.into(), is_local }
    }
}

/// A data item. Identity is `(owner, id, type)`: `size` and `content` do not take part in
/// equality, ordering or hashing (upstream `compare=False`), which decides how sets merge.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    pub owner: Arc<str>,
    pub id: Arc<str>,
    #[serde(default)]
    pub size: i64,
    #[serde(rename = "type", default = "empty_arc")]
    pub data_type: Arc<str>,
    #[serde(default = "empty_arc")]
    pub content: Arc<str>,
}

fn empty_arc() -> Arc<str> {
    Arc::from("")
}

impl Data {
    /// A regular data item as scenarios declare it (size 0, no type, no content).
    pub fn new(owner: &str, id: &str) -> Self {
        Data { owner: owner.into(), id: id.into(), size: 0, data_type: empty_arc(), content: empty_arc() }
    }

    /// The logfile data item every host carries: owner `system`, id `logfile`, type `log`.
    pub fn logfile(size: i64, content: Arc<str>) -> Self {
        Data { owner: "system".into(), id: "logfile".into(), size, data_type: "log".into(), content }
    }

    /// True for a host's logfile (whatever its size and content).
    pub fn is_logfile(&self) -> bool {
        &*self.owner == "system" && &*self.id == "logfile" && &*self.data_type == "log"
    }

    fn key(&self) -> (&str, &str, &str) {
        (&self.owner, &self.id, &self.data_type)
    }

    /// Equality including size and content (Python dict equality of `as_dict`).
    pub fn identical(&self, other: &Data) -> bool {
        self == other && self.size == other.size && self.content == other.content
    }
}

impl PartialEq for Data {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Data {}
impl Hash for Data {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}
impl PartialOrd for Data {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Data {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident, $prefix:literal, [$($variant:ident),+ $(,)?]) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every member in upstream declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The bare member name, e.g. `ScanNetwork`.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant)),+ }
            }

            /// The wire form, Python's `str(member)`, e.g. `ActionType.ScanNetwork`.
            pub fn wire(self) -> &'static str {
                match self { $($name::$variant => concat!($prefix, ".", stringify!($variant))),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.wire())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.wire())
            }
        }
    };
}

wire_enum!(
    /// The nine action types in upstream order (the order of the registration `actions` list).
    ActionType,
    "ActionType",
    [ScanNetwork, FindServices, FindData, ExploitService, ExfiltrateData, BlockIP, JoinGame, QuitGame, ResetGame]
);

impl ActionType {
    /// Upstream `from_string`: strips one `ActionType.` prefix, then matches the member name
    /// case-sensitively.
    pub fn parse(text: &str) -> Option<ActionType> {
        let bare = text.strip_prefix("ActionType.").unwrap_or(text);
        ActionType::ALL.iter().copied().find(|t| t.name() == bare)
    }

    /// The six actions that step the world (everything but Join/Quit/Reset).
    pub fn is_game_action(self) -> bool {
        !matches!(self, ActionType::JoinGame | ActionType::QuitGame | ActionType::ResetGame)
    }
}

wire_enum!(
    /// How an agent's episode stands.
    AgentStatus,
    "AgentStatus",
    [Playing, PlayingWithTimeout, TimeoutReached, ResetRequested, Success, Fail]
);

impl AgentStatus {
    /// Success, Fail and TimeoutReached end an agent's episode.
    pub fn is_terminal(self) -> bool {
        matches!(self, AgentStatus::Success | AgentStatus::Fail | AgentStatus::TimeoutReached)
    }

    pub fn parse(text: &str) -> Option<AgentStatus> {
        let bare = text.strip_prefix("AgentStatus.").unwrap_or(text);
        AgentStatus::ALL.iter().copied().find(|t| t.name() == bare)
    }
}

wire_enum!(
    /// Reply status codes. Only the string form ever reaches the wire, so the member names
    /// are upstream's, screaming case included.
    #[allow(non_camel_case_types)]
    GameStatus,
    "GameStatus",
    [OK, CREATED, RESET_DONE, BAD_REQUEST, FORBIDDEN]
);

impl GameStatus {
    pub fn parse(text: &str) -> Option<GameStatus> {
        let bare = text.strip_prefix("GameStatus.").unwrap_or(text);
        GameStatus::ALL.iter().copied().find(|t| t.name() == bare)
    }
}

/// The role an agent plays. On the wire (`json.dumps`) it is the bare value, `"Attacker"`;
/// in text (welcome message, file names) it is `AgentRole.Attacker`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
pub enum AgentRole {
    Attacker,
    Defender,
    Benign,
}

impl AgentRole {
    pub const ALL: [AgentRole; 3] = [AgentRole::Attacker, AgentRole::Defender, AgentRole::Benign];

    /// The bare value, e.g. `Attacker`.
    pub fn name(self) -> &'static str {
        match self {
            AgentRole::Attacker => "Attacker",
            AgentRole::Defender => "Defender",
            AgentRole::Benign => "Benign",
        }
    }

    /// Upstream `from_string`: the text after the last `.`, matched case-insensitively.
    pub fn parse(text: &str) -> Option<AgentRole> {
        let bare = text.rsplit('.').next().unwrap_or(text);
        AgentRole::ALL.into_iter().find(|r| r.name().eq_ignore_ascii_case(bare))
    }

    /// The status an agent of this role starts each episode with. Attackers are the agents
    /// that keep an episode going.
    pub fn initial_status(self) -> AgentStatus {
        match self {
            AgentRole::Attacker => AgentStatus::PlayingWithTimeout,
            _ => AgentStatus::Playing,
        }
    }
}

impl fmt::Display for AgentRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgentRole.{}", self.name())
    }
}

impl Serialize for AgentRole {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// A reward. Upstream rewards are Python ints unless the task file gives floats, and the wire
/// shows the difference (`99` vs `99.0`), so we keep it.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub enum Reward {
    Int(i64),
    Float(f64),
}

impl Default for Reward {
    fn default() -> Self {
        Reward::Int(0)
    }
}

impl Reward {
    pub fn as_f64(self) -> f64 {
        match self {
            Reward::Int(i) => i as f64,
            Reward::Float(f) => f,
        }
    }
}

impl Add for Reward {
    type Output = Reward;
    fn add(self, rhs: Reward) -> Reward {
        match (self, rhs) {
            (Reward::Int(a), Reward::Int(b)) => Reward::Int(a.saturating_add(b)),
            (a, b) => Reward::Float(a.as_f64() + b.as_f64()),
        }
    }
}

impl Mul<i64> for Reward {
    type Output = Reward;
    fn mul(self, rhs: i64) -> Reward {
        match self {
            Reward::Int(a) => Reward::Int(a.saturating_mul(rhs)),
            Reward::Float(a) => Reward::Float(a * rhs as f64),
        }
    }
}

impl fmt::Display for Reward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reward::Int(i) => write!(f, "{i}"),
            Reward::Float(x) => f.write_str(&crate::pyjson::py_float_repr(*x)),
        }
    }
}

impl Serialize for Reward {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Reward::Int(i) => s.serialize_i64(*i),
            Reward::Float(x) => s.serialize_f64(*x),
        }
    }
}

/// What an agent knows. Key order of the wire form is fixed by upstream `GameState.as_dict`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GameState {
    pub known_networks: BTreeSet<Network>,
    pub known_hosts: BTreeSet<Ip>,
    pub controlled_hosts: BTreeSet<Ip>,
    pub known_services: BTreeMap<Ip, BTreeSet<Service>>,
    pub known_data: BTreeMap<Ip, BTreeSet<Data>>,
    pub known_blocks: BTreeMap<Ip, BTreeSet<Ip>>,
}

impl GameState {
    /// An estimate of the length of this state's JSON form, in bytes, within a small factor;
    /// cheap enough to compute per step (one pass, no formatting).
    pub fn approx_json_len(&self) -> usize {
        const IP: usize = 20;
        let mut n = 120 + self.known_networks.len() * 34 + (self.known_hosts.len() + self.controlled_hosts.len()) * IP;
        for services in self.known_services.values() {
            n +=
                IP + services.iter().map(|s| 50 + s.name.len() + s.service_type.len() + s.version.len()).sum::<usize>();
        }
        for data in self.known_data.values() {
            n += IP
                + data
                    .iter()
                    .map(|d| 60 + d.owner.len() + d.id.len() + d.data_type.len() + d.content.len() * 11 / 10)
                    .sum::<usize>();
        }
        for blocks in self.known_blocks.values() {
            n += IP + blocks.len() * IP;
        }
        n
    }
}

/// Serialises a map keyed by IP with the bare address string as key.
struct IpKeyed<'a, V>(&'a BTreeMap<Ip, V>);

impl<V: Serialize> Serialize for IpKeyed<'_, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(&k.0.to_string(), v)?;
        }
        map.end()
    }
}

impl Serialize for GameState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("GameState", 6)?;
        st.serialize_field("known_networks", &self.known_networks)?;
        st.serialize_field("known_hosts", &self.known_hosts)?;
        st.serialize_field("controlled_hosts", &self.controlled_hosts)?;
        st.serialize_field("known_services", &IpKeyed(&self.known_services))?;
        st.serialize_field("known_data", &IpKeyed(&self.known_data))?;
        st.serialize_field("known_blocks", &IpKeyed(&self.known_blocks))?;
        st.end()
    }
}

/// The `info` object of an observation. Upstream puts at most two keys in it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepInfo {
    /// `AgentStatus.<X>` once the agent's status is terminal.
    pub end_reason: Option<AgentStatus>,
    /// The FORBIDDEN hint text.
    pub info: Option<&'static str>,
}

impl Serialize for StepInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = usize::from(self.end_reason.is_some()) + usize::from(self.info.is_some());
        let mut map = s.serialize_map(Some(n))?;
        if let Some(r) = self.end_reason {
            map.serialize_entry("end_reason", r.wire())?;
        }
        if let Some(i) = self.info {
            map.serialize_entry("info", i)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyjson::to_py_json;

    #[test]
    fn enum_wire_forms() {
        assert_eq!(ActionType::ScanNetwork.wire(), "ActionType.ScanNetwork");
        assert_eq!(ActionType::parse("ScanNetwork"), Some(ActionType::ScanNetwork));
        assert_eq!(ActionType::parse("ActionType.BlockIP"), Some(ActionType::BlockIP));
        assert_eq!(ActionType::parse("scannetwork"), None);
        assert_eq!(ActionType::parse("InvalidAction"), None);
        assert_eq!(GameStatus::RESET_DONE.wire(), "GameStatus.RESET_DONE");
        assert_eq!(AgentStatus::Success.wire(), "AgentStatus.Success");
        assert_eq!(AgentRole::parse("attacker"), Some(AgentRole::Attacker));
        assert_eq!(AgentRole::parse("AgentRole.DEFENDER"), Some(AgentRole::Defender));
        assert_eq!(AgentRole::parse("Hacker"), None);
        assert_eq!(AgentRole::Attacker.to_string(), "AgentRole.Attacker");
        assert_eq!(to_py_json(&serde_json::json!({"role": AgentRole::Attacker})), r#"{"role": "Attacker"}"#);
    }

    #[test]
    fn data_identity_ignores_size_and_content() {
        let mut a = Data::new("User", "Password");
        let b = Data { size: 42, content: "x".into(), ..Data::new("User", "Password") };
        assert_eq!(a, b);
        assert!(!a.identical(&b));
        a.data_type = "txt".into();
        assert_ne!(a, b);
    }

    #[test]
    fn private_addresses_are_upstreams() {
        let private = |s: &str| s.parse::<Ip>().unwrap().is_private();
        for ip in [
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.255",
            "172.16.0.1",
            "172.31.9.9",
            "192.0.0.5",
            "192.168.1.2",
            "198.18.0.1",
            "198.19.255.1",
            "239.1.1.1",
            "169.254.3.4",
        ] {
            assert!(private(ip), "{ip} is private");
        }
        // Each range's first octet alone is not enough, and 127/8 is not private there.
        for ip in [
            "100.63.0.1",
            "100.128.0.1",
            "172.15.0.1",
            "172.32.0.1",
            "192.0.1.5",
            "192.1.0.5",
            "192.169.1.2",
            "198.17.0.1",
            "198.20.0.1",
            "169.253.1.1",
            "8.8.8.8",
            "127.0.0.1",
            "213.47.23.195",
        ] {
            assert!(!private(ip), "{ip} is public");
        }
    }

    #[test]
    fn a_logfile_is_owned_by_system_named_logfile_of_type_log() {
        assert!(Data::logfile(3, "a\nb".into()).is_logfile());
        for (owner, id, data_type) in
            [("User", "logfile", "log"), ("system", "Password", "log"), ("system", "logfile", "txt")]
        {
            let d = Data { data_type: data_type.into(), ..Data::new(owner, id) };
            assert!(!d.is_logfile(), "{owner}/{id}/{data_type}");
        }
    }

    #[test]
    fn data_order_and_identity_in_each_field() {
        let a = Data { size: 1, content: "x".into(), ..Data::new("User", "A") };
        let b = Data { size: 1, content: "x".into(), ..Data::new("User", "B") };
        assert!(a < b, "ordered by id within an owner");
        assert_eq!(b.partial_cmp(&a), Some(Ordering::Greater));
        assert_eq!(a.partial_cmp(&a), Some(Ordering::Equal));
        assert!(Data::new("Admin", "Z") < Data::new("User", "A"), "by owner first");
        assert!(a.identical(&a.clone()));
        assert!(!a.identical(&Data { size: 2, ..a.clone() }), "size counts");
        assert!(!a.identical(&Data { content: "y".into(), ..a.clone() }), "content counts");
        assert!(!a.identical(&b), "key counts");
    }

    #[test]
    fn only_the_six_world_actions_are_game_actions() {
        let game: Vec<ActionType> = ActionType::ALL.iter().copied().filter(|t| t.is_game_action()).collect();
        assert_eq!(
            game,
            [
                ActionType::ScanNetwork,
                ActionType::FindServices,
                ActionType::FindData,
                ActionType::ExploitService,
                ActionType::ExfiltrateData,
                ActionType::BlockIP
            ]
        );
    }

    #[test]
    fn network_containment_and_canonical_form() {
        let n: Network = "192.168.1.7/24".parse().unwrap();
        assert!(n.contains("192.168.1.200".parse().unwrap()));
        assert!(!n.contains("192.168.2.1".parse().unwrap()));
        assert_eq!(n.canonical().to_string(), "192.168.1.0/24");
        assert_eq!(n.to_string(), "192.168.1.7/24");
        let all: Network = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        assert!("1.2.3.4/33".parse::<Network>().is_err());
    }

    #[test]
    fn game_state_wire_shape() {
        let mut s = GameState::default();
        s.known_hosts.insert(Ip::v4(192, 168, 1, 1));
        s.known_services
            .entry(Ip::v4(192, 168, 1, 1))
            .or_default()
            .insert(Service::new("rdp", "passive", "1.067", false));
        s.known_data.entry(Ip::v4(192, 168, 1, 1)).or_default().insert(Data {
            size: 42,
            data_type: "txt".into(),
            ..Data::new("User", "Password")
        });
        assert_eq!(
            to_py_json(&s),
            r#"{"known_networks": [], "known_hosts": [{"ip": "192.168.1.1"}], "controlled_hosts": [], "known_services": {"192.168.1.1": [{"name": "rdp", "type": "passive", "version": "1.067", "is_local": false}]}, "known_data": {"192.168.1.1": [{"owner": "User", "id": "Password", "size": 42, "type": "txt", "content": ""}]}, "known_blocks": {}}"#
        );
    }

    #[test]
    fn game_state_wire_round_trip() {
        let mut s = GameState::default();
        s.known_networks.insert("10.0.0.0/24".parse().unwrap());
        s.controlled_hosts.insert(Ip::v4(10, 0, 0, 1));
        s.known_blocks.entry(Ip::v4(10, 0, 0, 1)).or_default().insert(Ip::v4(10, 0, 0, 9));
        s.known_data.entry(Ip::v4(10, 0, 0, 1)).or_default().insert(Data::new("u", "d"));
        let v: serde_json::Value = serde_json::from_str(&to_py_json(&s)).unwrap();
        assert_eq!(GameState::from_wire(&v).unwrap(), s);
    }

    #[test]
    fn reward_arithmetic_keeps_int_or_float() {
        assert_eq!(Reward::Int(-1) + Reward::Int(100), Reward::Int(99));
        assert_eq!(Reward::Int(-1) + Reward::Float(100.0), Reward::Float(99.0));
        assert_eq!((Reward::Int(-5) * 3).to_string(), "-15");
        assert_eq!(Reward::Float(-2.5) * 3, Reward::Float(-7.5));
        assert_eq!(Reward::Float(99.0).to_string(), "99.0");
    }

    #[test]
    fn statuses_parse_with_or_without_their_prefix() {
        for s in AgentStatus::ALL {
            assert_eq!(AgentStatus::parse(s.wire()), Some(*s));
            assert_eq!(AgentStatus::parse(s.name()), Some(*s));
        }
        for s in GameStatus::ALL {
            assert_eq!(GameStatus::parse(s.wire()), Some(*s));
            assert_eq!(GameStatus::parse(s.name()), Some(*s));
        }
        assert_eq!(AgentStatus::parse("AgentStatus.Won"), None);
        assert_eq!(GameStatus::parse("GameStatus.TEAPOT"), None);
    }

    #[test]
    fn step_info_has_only_the_keys_it_holds() {
        let info = |end_reason, info| to_py_json(&StepInfo { end_reason, info });
        assert_eq!(info(None, None), "{}");
        assert_eq!(info(None, Some("hint")), r#"{"info": "hint"}"#);
        assert_eq!(info(Some(AgentStatus::Fail), None), r#"{"end_reason": "AgentStatus.Fail"}"#);
        assert_eq!(
            info(Some(AgentStatus::Success), Some("hint")),
            r#"{"end_reason": "AgentStatus.Success", "info": "hint"}"#
        );
    }
}

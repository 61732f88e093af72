//! Observation encodings of a [`GameState`] for learning code.
//!
//! * **vector** (the default): a fixed-size 0/1 vector over the world's items, in the
//!   WhiteBox catalogue's order ([`crate::whitebox::Catalogue`]), laid out as
//!   `[known networks | known hosts | controlled hosts | known (host, service) pairs |
//!   known data per host (host-major) | known blocks (host-major)]`. Items that are not in
//!   the world (a network only a task's start view names) have no position: use the JSON
//!   form when they matter.
//! * **graph**: the same items as nodes with type and knowledge features, and the agent's
//!   knowledge as typed edges ([`Graph`]).
//! * **json**: upstream's wire form of the state (`GameState.as_json()` of the client).
//! * **string**: the ordered state string tabular agents key their tables with
//!   (`state_as_ordered_string` of the official client, byte for byte).

use super::space::ActionSpace;
use crate::components::{Data, GameState, Ip, Network, Service};
use crate::pyjson::py_repr;
use std::fmt::Write;

/// Sizes of the vector encoding's sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VectorLayout {
    pub networks: usize,
    pub hosts: usize,
    pub services: usize,
    pub data: usize,
}

impl VectorLayout {
    pub fn of(space: &ActionSpace) -> VectorLayout {
        let c = space.catalogue();
        VectorLayout { networks: c.networks.len(), hosts: c.ips.len(), services: c.services.len(), data: c.data.len() }
    }

    /// The vector's length.
    pub fn len(&self) -> usize {
        self.networks + 2 * self.hosts + self.services + self.hosts * self.data + self.hosts * self.hosts
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where each section starts: known hosts, controlled hosts, services, data, blocks.
    fn starts(&self) -> [usize; 5] {
        let known = self.networks;
        let controlled = known + self.hosts;
        let services = controlled + self.hosts;
        let data = services + self.services;
        let blocks = data + self.hosts * self.data;
        [known, controlled, services, data, blocks]
    }
}

/// Writes the vector encoding of `state` into `out` (length [`VectorLayout::len`]).
pub fn encode_vector(space: &ActionSpace, state: &GameState, out: &mut [f32]) {
    let layout = VectorLayout::of(space);
    assert_eq!(out.len(), layout.len(), "observation length");
    out.fill(0.0);
    let [known, controlled, services, data, blocks] = layout.starts();
    for n in &state.known_networks {
        if let Some(i) = space.network(*n) {
            out[i] = 1.0;
        }
    }
    for h in &state.known_hosts {
        if let Some(i) = space.ip(*h) {
            out[known + i] = 1.0;
        }
    }
    for h in &state.controlled_hosts {
        if let Some(i) = space.ip(*h) {
            out[controlled + i] = 1.0;
        }
    }
    for (h, svs) in &state.known_services {
        let Some(h) = space.ip(*h) else { continue };
        for k in svs.iter().filter_map(|sv| space.service(h, sv)) {
            out[services + k] = 1.0;
        }
    }
    for (h, items) in &state.known_data {
        let Some(h) = space.ip(*h) else { continue };
        for d in items.iter().filter_map(|d| space.data(d)) {
            out[data + h * layout.data + d] = 1.0;
        }
    }
    for (h, blocked) in &state.known_blocks {
        let Some(h) = space.ip(*h) else { continue };
        for b in blocked.iter().filter_map(|b| space.ip(*b)) {
            out[blocks + h * layout.hosts + b] = 1.0;
        }
    }
}

/// Node types of the graph encoding (the first four node features are their one-hot).
pub const NODE_HOST: usize = 0;
pub const NODE_NETWORK: usize = 1;
pub const NODE_SERVICE: usize = 2;
pub const NODE_DATA: usize = 3;
/// Node features: the type one-hot, then `known`, then `controlled` (hosts only).
pub const NODE_FEATURES: usize = 6;

/// Edge types of the graph encoding.
pub const EDGE_IN_NETWORK: i64 = 0;
pub const EDGE_SERVICE: i64 = 1;
pub const EDGE_DATA: i64 = 2;
pub const EDGE_BLOCK: i64 = 3;
pub const EDGE_TYPES: usize = 4;

/// The graph encoding: a fixed node set (every host IP, network, `(host, service)` pair and
/// data item of the world, in that order and in catalogue order within each), and edges for
/// what the agent knows: a known host in a known network (host to network), a known service
/// (host to its service node), a known data item (host to the data node), a known block
/// (host to the blocked host).
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    /// `nodes x NODE_FEATURES`, row-major.
    pub nodes: Vec<f32>,
    /// One edge type per edge.
    pub edges: Vec<i64>,
    /// `edges x 2` (from, to), row-major.
    pub links: Vec<i64>,
}

impl Graph {
    pub fn node_count(space: &ActionSpace) -> usize {
        let c = space.catalogue();
        c.ips.len() + c.networks.len() + c.services.len() + c.data.len()
    }
}

/// The graph encoding of `state`.
pub fn encode_graph(space: &ActionSpace, state: &GameState) -> Graph {
    let c = space.catalogue();
    let (n_ip, n_net, n_svc) = (c.ips.len(), c.networks.len(), c.services.len());
    let (net0, svc0, data0) = (n_ip, n_ip + n_net, n_ip + n_net + n_svc);
    let n = Graph::node_count(space);
    let mut nodes = vec![0.0; n * NODE_FEATURES];
    for i in 0..n {
        let t = if i < net0 {
            NODE_HOST
        } else if i < svc0 {
            NODE_NETWORK
        } else if i < data0 {
            NODE_SERVICE
        } else {
            NODE_DATA
        };
        nodes[i * NODE_FEATURES + t] = 1.0;
    }
    let mut g = Graph { nodes, edges: Vec::new(), links: Vec::new() };
    let known = |g: &mut Graph, node: usize| g.nodes[node * NODE_FEATURES + 4] = 1.0;
    let edge = |g: &mut Graph, t: i64, a: usize, b: usize| {
        g.edges.push(t);
        g.links.extend([a as i64, b as i64]);
    };
    for n in &state.known_networks {
        if let Some(i) = space.network(*n) {
            known(&mut g, net0 + i);
        }
    }
    for h in &state.controlled_hosts {
        if let Some(i) = space.ip(*h) {
            g.nodes[i * NODE_FEATURES + 5] = 1.0;
        }
    }
    for h in &state.known_hosts {
        let Some(i) = space.ip(*h) else { continue };
        known(&mut g, i);
        for (j, net) in c.networks.iter().enumerate() {
            if net.contains(*h) && state.known_networks.contains(net) {
                edge(&mut g, EDGE_IN_NETWORK, i, net0 + j);
            }
        }
    }
    for (h, svs) in &state.known_services {
        let Some(h) = space.ip(*h) else { continue };
        for k in svs.iter().filter_map(|sv| space.service(h, sv)) {
            known(&mut g, svc0 + k);
            edge(&mut g, EDGE_SERVICE, h, svc0 + k);
        }
    }
    for (h, items) in &state.known_data {
        let Some(h) = space.ip(*h) else { continue };
        for d in items.iter().filter_map(|d| space.data(d)) {
            known(&mut g, data0 + d);
            edge(&mut g, EDGE_DATA, h, data0 + d);
        }
    }
    for (h, blocked) in &state.known_blocks {
        let Some(h) = space.ip(*h) else { continue };
        for b in blocked.iter().filter_map(|b| space.ip(*b)) {
            edge(&mut g, EDGE_BLOCK, h, b);
        }
    }
    g
}

/// Upstream's JSON form of the state.
pub fn encode_json(state: &GameState) -> String {
    crate::pyjson::to_py_json(state)
}

/// `state_as_ordered_string` of the official client: items sorted as Python sorts them
/// (IPs by their text, networks by netaddr's order, services and data by their dataclass
/// fields) and written with Python's `str`.
pub fn encode_state_string(state: &GameState) -> String {
    let ips = |set: &mut dyn Iterator<Item = Ip>| {
        let mut v: Vec<String> = set.map(|ip| ip.to_string()).collect();
        v.sort();
        v.join(",")
    };
    let mut out = String::with_capacity(256);
    let mut nets: Vec<&Network> = state.known_networks.iter().collect();
    // netaddr orders networks by (first address, last address).
    nets.sort_by_key(|n| (u32::from(n.network_address().0), u32::from(n.0.broadcast())));
    let nets: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
    let _ = write!(out, "nets:[{}],", nets.join(","));
    let _ = write!(out, "hosts:[{}],", ips(&mut state.known_hosts.iter().copied()));
    let _ = write!(out, "controlled:[{}],", ips(&mut state.controlled_hosts.iter().copied()));
    fn by_host<V>(m: &std::collections::BTreeMap<Ip, V>) -> Vec<(String, &V)> {
        let mut v: Vec<(String, &V)> = m.iter().map(|(k, v)| (k.to_string(), v)).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
    out.push_str("services:{");
    for (host, svs) in by_host(&state.known_services) {
        // BTreeSet<Service> is already in the dataclass order (name, type, version, is_local).
        let items: Vec<String> = svs.iter().map(service_str).collect();
        let _ = write!(out, "{host}:[{}]", items.join(","));
    }
    out.push_str("},data:{");
    for (host, items) in by_host(&state.known_data) {
        // Data's order is (owner, id, type), the dataclass order with size and content excluded.
        let items: Vec<String> = items.iter().map(data_str).collect();
        let _ = write!(out, "{host}:[{}]", items.join(","));
    }
    out.push_str("}, blocks:{");
    for (host, blocked) in by_host(&state.known_blocks) {
        let _ = write!(out, "{host}:[{}]", ips(&mut blocked.iter().copied()));
    }
    out.push('}');
    out
}

fn service_str(s: &Service) -> String {
    format!(
        "Service(name={}, type={}, version={}, is_local={})",
        py_repr(&s.name),
        py_repr(&s.service_type),
        py_repr(&s.version),
        if s.is_local { "True" } else { "False" }
    )
}

fn data_str(d: &Data) -> String {
    format!("Data(owner={}, id={}, size={}, type={})", py_repr(&d.owner), py_repr(&d.id), d.size, py_repr(&d.data_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_string_repr() {
        assert_eq!(py_repr("ssh"), "'ssh'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(py_repr("x\ny\\"), "'x\\ny\\\\'");
    }
}

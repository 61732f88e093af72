//! The fixed action list of an environment (upstream's WhiteBox list, in its order) and the
//! mask of the actions that are valid in a state.
//!
//! The list is [`crate::whitebox::all_actions`], so an index means the same action here and
//! in the `all_actions` a WhiteBox server sends at registration: a policy trained in-process
//! replays over TCP. An action is valid when [`crate::agents::valid_actions`] would propose it
//! (upstream's `generate_valid_actions`; blocks only for defenders), which is how
//! `NetSecGameAgents`' `ActionListAgent` builds its mask. Valid actions that name something
//! outside the world (a network from a task's start view that the topology does not have)
//! have no index and no mask bit.
//!
//! The list is laid out in blocks with a fixed stride per parameter, so the mask is computed
//! by index arithmetic from the state (no action is built, no list is searched).

use crate::action::Action;
use crate::components::{AgentRole, Data, GameState, Ip, Network, Service};
use crate::scenario::Topology;
use crate::whitebox::{all_actions_of, Catalogue};

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct ActionSpace {
    catalogue: Catalogue,
    actions: Vec<Action>,
    /// World IPs (as integers, sorted) with their catalogue index: a binary search over a few
    /// dozen entries beats hashing, and this lookup runs many times per step.
    ip_index: Vec<(u32, usize)>,
    /// Per IP index, the host's services with their catalogue index.
    services_of: Vec<Vec<(Service, usize)>>,
    /// First index of each block: scans, service scans, exploits, data searches,
    /// exfiltrations, blocks.
    offsets: [usize; 6],
}

impl ActionSpace {
    pub fn new(topo: &Topology) -> ActionSpace {
        let catalogue = Catalogue::new(topo);
        let actions = all_actions_of(&catalogue);
        let n_ip = catalogue.ips.len();
        let mut ip_index: Vec<(u32, usize)> =
            catalogue.ips.iter().enumerate().map(|(i, ip)| (u32::from(ip.0), i)).collect();
        ip_index.sort_unstable();
        let mut services_of = vec![Vec::new(); n_ip];
        for (k, (ip, sv)) in catalogue.services.iter().enumerate() {
            let host = catalogue.ips.iter().position(|x| x == ip).expect("a service's host is a world IP");
            services_of[host].push((sv.clone(), k));
        }
        let sizes = [
            n_ip * catalogue.networks.len(),
            n_ip * n_ip,
            n_ip * catalogue.services.len(),
            n_ip * n_ip,
            n_ip * n_ip * catalogue.data.len(),
            n_ip * n_ip * n_ip,
        ];
        let mut offsets = [0; 6];
        for i in 1..6 {
            offsets[i] = offsets[i - 1] + sizes[i - 1];
        }
        debug_assert_eq!(offsets[5] + sizes[5], actions.len());
        ActionSpace { catalogue, actions, ip_index, services_of, offsets }
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// The number of actions.
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    pub fn action(&self, index: usize) -> Option<&Action> {
        self.actions.get(index)
    }

    /// The catalogue index of a world IP.
    pub fn ip(&self, ip: Ip) -> Option<usize> {
        let key = u32::from(ip.0);
        self.ip_index.binary_search_by_key(&key, |(k, _)| *k).ok().map(|at| self.ip_index[at].1)
    }

    /// The catalogue index of a network.
    pub fn network(&self, net: Network) -> Option<usize> {
        self.catalogue.networks.iter().position(|n| *n == net)
    }

    /// The catalogue index of a service of the host with IP index `host`.
    pub fn service(&self, host: usize, sv: &Service) -> Option<usize> {
        self.services_of[host].iter().find(|(s, _)| s == sv).map(|(_, k)| *k)
    }

    /// The catalogue index of a data item (by identity: owner, id, type).
    pub fn data(&self, d: &Data) -> Option<usize> {
        self.catalogue.data.binary_search(d).ok()
    }

    /// Whether agents of `role` get BlockIP actions in their mask (defenders do).
    pub fn blocks_for(role: AgentRole) -> bool {
        role == AgentRole::Defender
    }

    /// Sets `mask[i]` to whether action `i` is valid in `state` (`mask.len()` must be
    /// [`ActionSpace::len`]); returns the number of valid actions.
    pub fn mask_into(&self, state: &GameState, with_blocks: bool, mask: &mut [bool]) -> usize {
        self.mask_with(state, with_blocks, mask, &mut MaskScratch::default())
    }

    /// [`ActionSpace::mask_into`] reusing `scratch` (no allocation once it has grown).
    pub fn mask_with(
        &self,
        state: &GameState,
        with_blocks: bool,
        mask: &mut [bool],
        scratch: &mut MaskScratch,
    ) -> usize {
        assert_eq!(mask.len(), self.actions.len(), "mask length");
        mask.fill(false);
        let mut count = 0;
        let mut set = |i: usize| {
            if !mask[i] {
                mask[i] = true;
                count += 1;
            }
        };
        let n_ip = self.catalogue.ips.len();
        let n_net = self.catalogue.networks.len();
        let n_svc = self.catalogue.services.len();
        let n_data = self.catalogue.data.len();
        let [scan, find_services, exploit, find_data, exfiltrate, block] = self.offsets;
        // The state's items as catalogue indices, computed once.
        let MaskScratch { nets, known, controlled, services } = scratch;
        nets.clear();
        nets.extend(state.known_networks.iter().filter_map(|n| self.network(*n)));
        known.clear();
        known.extend(state.known_hosts.iter().filter_map(|h| self.ip(*h)));
        controlled.clear();
        controlled.extend(state.controlled_hosts.iter().filter_map(|h| self.ip(*h)));
        services.clear();
        for (host, svs) in &state.known_services {
            if let Some(h) = self.ip(*host) {
                services.extend(svs.iter().filter_map(|sv| self.service(h, sv)));
            }
        }
        for &src in controlled.iter() {
            for &n in nets.iter() {
                set(scan + src * n_net + n);
            }
            for &t in known.iter() {
                set(find_services + src * n_ip + t);
            }
            for &k in services.iter() {
                set(exploit + src * n_svc + k);
            }
            for &t in controlled.iter() {
                set(find_data + src * n_ip + t);
            }
            if let Some(data) = state.known_data.get(&self.catalogue.ips[src]) {
                for d in data.iter().filter_map(|d| self.data(d)) {
                    for &t in controlled.iter() {
                        if t != src {
                            set(exfiltrate + (src * n_ip + t) * n_data + d);
                        }
                    }
                }
            }
            if with_blocks {
                for &t in controlled.iter() {
                    for &b in known.iter() {
                        if b != t {
                            set(block + (src * n_ip + t) * n_ip + b);
                        }
                    }
                }
            }
        }
        count
    }
}

/// Reusable buffers for [`ActionSpace::mask_with`].
#[derive(Debug, Clone, Default)]
pub struct MaskScratch {
    nets: Vec<usize>,
    known: Vec<usize>,
    controlled: Vec<usize>,
    services: Vec<usize>,
}

//! Start and goal states from the task's views, with the keywords `random` and `all_local`.
//!
//! Views are written in the scenario's original addresses; resolution maps them to the current
//! ones, so explicit hosts and networks keep working after a topology change (upstream's broke). Draws use
//! the world's generator in this documented order, per agent (agents in id order at a reset):
//! start `controlled_hosts`, start `known_hosts`, start `known_networks`, start
//! `known_services` (keys in file order), start `known_data`; then the same fields of the goal.
//! Candidates are always taken from ordered lists, so a seed fixes every choice (upstream drew from unordered sets).

use crate::components::{AgentRole, Data, GameState, Ip, Network, Service};
use crate::task::{BlockSpec, DataSpec, HostSpec, ItemSpec, NetSpec, ServiceSpec, View};
use crate::world::{Goal, World};
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// Where `random` hosts are drawn from.
#[derive(Debug, Clone, Copy)]
enum Pool {
    StartCandidates,
    AllIps,
}

impl World {
    /// Resolves the role's start state and goal.
    pub(crate) fn resolve_views(&mut self, role: AgentRole) -> (GameState, Goal) {
        let cfg = self.task.clone();
        let rc = cfg.role(role);
        let start = self.start_state(&rc.start);
        let goal = self.goal_state(&rc.goal);
        (start, goal)
    }

    /// Maps an address of the original scenario to its current address.
    pub(crate) fn current_ip(&self, ip: Ip) -> Ip {
        match self.topo.ip_index(ip) {
            Some(i) => self.ips[i],
            None => ip,
        }
    }

    /// Maps a network of the original scenario to its current form.
    pub(crate) fn current_network(&self, net: Network) -> Network {
        match self.topo.networks.iter().position(|(n, _)| *n == net.canonical()) {
            Some(k) => self.networks[k].0,
            None => net,
        }
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        if items.is_empty() {
            None
        } else {
            Some(items[self.rng.random_range(0..items.len())].clone())
        }
    }

    fn all_local_ips(&self) -> Vec<Ip> {
        let mut out: Vec<Ip> = self
            .networks
            .iter()
            .filter(|(n, _)| n.is_private())
            .flat_map(|(_, m)| m.iter().map(|&i| self.ips[i]))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// `hosts_from_view`: `random` draws from the start candidates (start views) or from
    /// every world IP (goal views), by index, so no list is built for it.
    fn hosts(&mut self, specs: &[HostSpec], pool: Pool) -> BTreeSet<Ip> {
        let mut out = BTreeSet::new();
        for spec in specs {
            match spec {
                HostSpec::Ip(ip) => {
                    out.insert(self.current_ip(*ip));
                }
                HostSpec::Random => {
                    let len = match pool {
                        Pool::StartCandidates => self.topo.start_candidates.len(),
                        Pool::AllIps => self.ips.len(),
                    };
                    if len > 0 {
                        let k = self.rng.random_range(0..len);
                        out.insert(match pool {
                            Pool::StartCandidates => self.ips[self.topo.start_candidates[k]],
                            Pool::AllIps => self.ips[k],
                        });
                    }
                }
                HostSpec::AllLocal => out.extend(self.all_local_ips()),
            }
        }
        out
    }

    fn nets(&mut self, specs: &[NetSpec]) -> BTreeSet<Network> {
        let mut out = BTreeSet::new();
        for spec in specs {
            match spec {
                NetSpec::Net(n) => {
                    out.insert(self.current_network(*n));
                }
                NetSpec::Random => {
                    let all: Vec<Network> = self.networks().collect();
                    out.extend(self.pick(&all));
                }
                NetSpec::AllLocal => out.extend(self.networks().filter(|n| n.is_private())),
            }
        }
        out
    }

    fn services(&mut self, view: &[(Ip, Vec<ServiceSpec>)]) -> BTreeMap<Ip, BTreeSet<Service>> {
        let mut out = BTreeMap::new();
        for (ip, specs) in view {
            let ip = self.current_ip(*ip);
            let host: Vec<Service> = self.services_of(ip).to_vec();
            let set = self.items(specs, &host, None);
            if !set.is_empty() {
                out.insert(ip, set);
            }
        }
        out
    }

    /// `data_from_view`. `random` in a start view draws from that host (no logs); in a goal
    /// view from every host, logfile included (upstream meant to exclude it, but tested the type "logs", which no item has).
    fn data(&mut self, view: &[(Ip, Vec<DataSpec>)], global_random: bool) -> BTreeMap<Ip, BTreeSet<Data>> {
        // The pool of every host's data is only built when a `random` asks for it.
        let needs_pool = global_random && view.iter().any(|(_, specs)| specs.contains(&ItemSpec::Random));
        let global: Option<Vec<Data>> = needs_pool.then(|| {
            let mut all: BTreeSet<Data> = self.topo.hosts.iter().flat_map(|h| h.data.iter().cloned()).collect();
            all.insert(Data::logfile(0, "".into()));
            all.into_iter().collect()
        });
        let mut out = BTreeMap::new();
        for (ip, specs) in view {
            let ip = self.current_ip(*ip);
            let host: Vec<Data> = self.data_of(ip).cloned().collect();
            let set = self.items(specs, &host, global.as_deref());
            if !set.is_empty() {
                out.insert(ip, set);
            }
        }
        out
    }

    /// Resolves one host's entries: listed items as they are, `all` as every item of the host,
    /// `random` as one draw from `random_pool` (or the host's items not listed).
    fn items<T: Clone + Ord>(&mut self, specs: &[ItemSpec<T>], host: &[T], random_pool: Option<&[T]>) -> BTreeSet<T> {
        let listed: Vec<&T> = specs
            .iter()
            .filter_map(|s| match s {
                ItemSpec::Item(x) => Some(x),
                _ => None,
            })
            .collect();
        let unlisted: Vec<T> = host.iter().filter(|x| !listed.contains(x)).cloned().collect();
        let mut set = BTreeSet::new();
        for spec in specs {
            match spec {
                ItemSpec::Item(x) => {
                    set.insert(x.clone());
                }
                ItemSpec::Random => set.extend(self.pick(random_pool.unwrap_or(&unlisted))),
                ItemSpec::All => set.extend(host.iter().cloned()),
            }
        }
        set
    }

    fn start_state(&mut self, view: &View) -> GameState {
        let controlled = self.hosts(&view.controlled_hosts, Pool::StartCandidates);
        let mut known_hosts = self.hosts(&view.known_hosts, Pool::StartCandidates);
        known_hosts.extend(controlled.iter().copied());
        let mut known_networks = self.nets(&view.known_networks);
        // Neighbouring networks, as upstream adds them: a controlled host's networks, and for a
        // private IPv4 network also the same-mask networks 256 addresses below and above.
        for ip in &controlled {
            let Some(&i) = self.ip_index.get(ip) else { continue };
            let net = self.networks[self.net_of[i]].0;
            known_networks.insert(net);
            if !net.is_private() {
                continue;
            }
            let base = u32::from(net.network_address().0);
            for neighbour in [base.checked_add(256), base.checked_sub(256)].into_iter().flatten() {
                let addr = Ipv4Addr::from(neighbour);
                if Ip(addr).is_private() {
                    known_networks.extend(Network::new(addr, net.mask()));
                }
            }
        }
        let known_services = self.services(&view.known_services);
        let known_data = self.data(&view.known_data, false);
        GameState {
            known_networks,
            known_hosts,
            controlled_hosts: controlled,
            known_services,
            known_data,
            known_blocks: Default::default(),
        }
    }

    fn goal_state(&mut self, view: &View) -> Goal {
        let controlled_hosts = self.hosts(&view.controlled_hosts, Pool::AllIps);
        let known_hosts = self.hosts(&view.known_hosts, Pool::AllIps);
        let known_services = self.services(&view.known_services);
        let known_data = self.data(&view.known_data, true);
        let known_networks = self.nets(&view.known_networks);
        let mut known_blocks = std::collections::BTreeMap::new();
        let mut block_all_attackers = Vec::new();
        for (ip, spec) in &view.known_blocks {
            let ip = self.current_ip(*ip);
            match spec {
                BlockSpec::Ips(ips) => {
                    let set: BTreeSet<Ip> = ips.iter().map(|b| self.current_ip(*b)).collect();
                    known_blocks.insert(ip, set);
                }
                BlockSpec::AllAttackers => block_all_attackers.push(ip),
            }
        }
        Goal {
            state: GameState {
                known_networks,
                known_hosts,
                controlled_hosts,
                known_services,
                known_data,
                known_blocks,
            },
            block_all_attackers,
        }
    }
}

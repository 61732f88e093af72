//! The simulated network and the six game actions, with upstream's semantics.
//!
//! The world is built once from a [`Topology`] and mutated by actions: per-host logfiles,
//! exfiltrated data, firewall blocks. It also keeps every agent's knowledge (its
//! [`GameState`]) and goal, because both are resolved against the world and changed by it.
//! World IPs are indexed densely; a topology change relabels addresses without touching the
//! structure. Agent states are `Arc`s so the runtime can hand a snapshot to a connection
//! without copying; a step copies only when that snapshot is still held (`Arc::make_mut`).

use crate::action::Action;
use crate::components::{ActionType, AgentRole, Data, GameState, Ip, Network, Service};
use crate::firewall::Firewall;
use crate::rng::{seeded_rng, GameRng, WORLD_STREAM};
use crate::scenario::Topology;
use crate::task::TaskConfig;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Identifies an agent within one game.
pub type AgentId = u64;

/// A resolved goal: a state to be covered, plus `all_attackers` block targets evaluated at
/// check time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Goal {
    pub state: GameState,
    /// Hosts whose `known_blocks` must include every attacker-controlled host.
    pub block_all_attackers: Vec<Ip>,
}

/// What the world keeps per agent.
#[derive(Debug, Clone)]
pub struct AgentKnowledge {
    pub role: AgentRole,
    pub state: Arc<GameState>,
    pub goal: Goal,
}

#[cfg(test)]
mod log_tests {
    use super::*;

    #[test]
    fn logs_stay_valid_json_and_bounded() {
        let mut log = LogFile::default();
        for i in 0..20_000u32 {
            log.append(Ip::v4(10, 0, (i / 256) as u8, (i % 256) as u8), ActionType::ScanNetwork);
        }
        let d = log.snapshot();
        assert!(d.content.len() <= MAX_LOG_BYTES + 100);
        let entries: serde_json::Value = serde_json::from_str(&d.content).unwrap();
        let entries = entries.as_array().unwrap();
        assert!(entries.len() > 500, "{}", entries.len());
        // The newest entry survives.
        assert_eq!(entries.last().unwrap()["source_host"], "10.0.78.31");
    }

    #[test]
    fn a_log_keeps_its_whole_budget_and_then_drops_the_oldest_quarter() {
        // Sources printed in 7 to 15 bytes: FindData entries of 66 to 74 bytes, ", " included,
        // so the log can be filled to exactly MAX_LOG_BYTES.
        let ips = [
            "1.1.1.1",
            "10.1.1.1",
            "10.10.1.1",
            "10.10.10.1",
            "10.10.10.10",
            "100.10.10.10",
            "100.100.10.10",
            "100.100.100.10",
            "100.100.100.100",
        ]
        .map(|s| s.parse::<Ip>().unwrap());
        let mut log = LogFile::default();
        log.append(Ip::v4(192, 168, 0, 1), ActionType::ScanNetwork);
        let first = log.text.clone();
        while log.text.len() < MAX_LOG_BYTES {
            let left = MAX_LOG_BYTES - log.text.len();
            let extra = left - 66 * (left / 66);
            log.append(ips[extra.min(8)], ActionType::FindData);
        }
        assert_eq!(log.text.len(), MAX_LOG_BYTES);
        assert!(log.text.starts_with(&first), "a log of exactly its budget is kept whole");
        let full: serde_json::Value = serde_json::from_str(&log.snapshot().content).unwrap();
        // One entry more: the oldest quarter of the budget goes at once, not one entry at a time.
        log.append(Ip::v4(10, 9, 9, 9), ActionType::ExploitService);
        let d = log.snapshot();
        let kept = MAX_LOG_BYTES * 3 / 4;
        assert!(d.content.len() <= kept + 1 && d.content.len() > kept - 80, "{}", d.content.len());
        let entries: serde_json::Value = serde_json::from_str(&d.content).unwrap();
        let (entries, full) = (entries.as_array().unwrap(), full.as_array().unwrap());
        assert_eq!(entries.last().unwrap()["source_host"], "10.9.9.9");
        assert_eq!(entries[..entries.len() - 1], full[full.len() + 1 - entries.len()..], "the newest entries are kept");
    }
}

/// What a step did besides changing the acting agent's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepOutcome {
    /// The acting agent reached its goal with this step.
    pub goal_reached: bool,
    /// Authors of blocks that a Defender's or Benign agent's action ran into: each gets one
    /// false positive (upstream charged the acting agent instead). An author may appear several times.
    pub false_positive_authors: Vec<AgentId>,
}

/// Why a step could not be applied at all (the action itself was fine or it would not have
/// decoded; these are runtime mix-ups).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StepError {
    #[error("agent {0} is not in the game")]
    UnknownAgent(AgentId),
    #[error("{0} is not a game action")]
    NotAGameAction(ActionType),
    #[error(transparent)]
    Malformed(#[from] crate::decode::ActionError),
}

/// Bytes a host's logfile may hold within an episode; older entries are dropped first. Far
/// beyond what normal episodes log (about 900 entries per host), it keeps a marathon episode from
/// growing logs, and every FindData snapshot of them, without bound.
pub const MAX_LOG_BYTES: usize = 64 * 1024;

/// A host's logfile: the JSON list upstream keeps, built incrementally.
#[derive(Debug, Clone, Default)]
struct LogFile {
    /// The JSON text without its closing `]`, or empty when there are no entries.
    text: String,
    /// Snapshot handed out by FindData, rebuilt only after the log changed.
    cached: Option<Arc<str>>,
}

impl LogFile {
    fn append(&mut self, source: Ip, action: ActionType) {
        use std::fmt::Write;
        self.text.push_str(if self.text.is_empty() { "[" } else { ", " });
        let _ = write!(self.text, "{{\"source_host\": \"{}\", \"action_type\": \"{}\"}}", source, action.wire());
        if self.text.len() > MAX_LOG_BYTES {
            // Drop the oldest entries (a quarter of the budget at a time, so this is rare).
            let cut = self.text.len() - MAX_LOG_BYTES * 3 / 4;
            if let Some(pos) = self.text[cut..].find(", {") {
                self.text.replace_range(1..cut + pos + 2, "");
            }
        }
        self.cached = None;
    }

    fn snapshot(&mut self) -> Data {
        let content = self
            .cached
            .get_or_insert_with(
                || if self.text.is_empty() { Arc::from("") } else { Arc::from(format!("{}]", self.text)) },
            )
            .clone();
        Data::logfile(content.len() as i64, content)
    }
}

/// The simulation of one game.
#[derive(Debug, Clone)]
pub struct World {
    pub(crate) task: Arc<TaskConfig>,
    pub(crate) topo: Arc<Topology>,
    /// Current address of each world IP index (original addresses until a topology change).
    pub(crate) ips: Vec<Ip>,
    /// Reverse of `ips`.
    pub(crate) ip_index: HashMap<Ip, usize>,
    /// Host index of each IP index.
    pub(crate) host_of: Vec<usize>,
    /// Current networks with member IP indices (same order as the topology's).
    pub(crate) networks: Vec<(Network, Vec<usize>)>,
    /// Who reaches whom; blocks cut pairs until the next reset (remapped topologies keep the
    /// same shape, so the firewall is by IP index and survives address changes).
    pub(crate) fw: Firewall,
    /// The network index of each IP index.
    pub(crate) net_of: Vec<usize>,
    /// Data per host, without the logfile (which lives in `logs`).
    data: Vec<BTreeSet<Data>>,
    /// Logfile per host.
    logs: Vec<LogFile>,
    /// Hosts whose data or logfile changed this episode: a reset restores only these, so it
    /// costs what the episode touched, not the size of the world.
    touched: Vec<usize>,
    /// `touched` as flags, by host index.
    is_touched: Vec<bool>,
    /// Blocks visible to agents through FindData, keyed by current IP (any IP, even unknown).
    fw_blocks: BTreeMap<Ip, BTreeSet<Ip>>,
    /// Who authored a block on each `(a, b)` pair, for false-positive charging.
    block_authors: HashMap<(Ip, Ip), Vec<AgentId>>,
    /// Registered agents' knowledge, by id (ordered, so resolution order is deterministic).
    pub(crate) agents: BTreeMap<AgentId, AgentKnowledge>,
    /// The game's generator for keyword resolution and address remapping.
    pub(crate) rng: GameRng,
    /// Per-role goal description, with addresses rewritten after topology changes.
    pub(crate) goal_descriptions: [String; 3],
}

fn role_slot(role: AgentRole) -> usize {
    match role {
        AgentRole::Attacker => 0,
        AgentRole::Defender => 1,
        AgentRole::Benign => 2,
    }
}

impl World {
    /// Builds the world of `task`'s scenario with the game seed.
    pub fn new(task: Arc<TaskConfig>, seed: i64) -> World {
        let topo = task.topology.clone();
        let fw = topo.firewall(task.use_firewall);
        let ips: Vec<Ip> = topo.ips.iter().map(|(ip, _)| *ip).collect();
        let mut net_of = vec![0; ips.len()];
        for (k, (_, members)) in topo.networks.iter().enumerate() {
            for &i in members {
                net_of[i] = k;
            }
        }
        World {
            net_of,
            ip_index: ips.iter().enumerate().map(|(i, ip)| (*ip, i)).collect(),
            host_of: topo.ips.iter().map(|(_, h)| *h).collect(),
            ips,
            networks: topo.networks.clone(),
            fw,
            data: topo.hosts.iter().map(|h| h.data.iter().cloned().collect()).collect(),
            logs: vec![LogFile::default(); topo.hosts.len()],
            touched: Vec::new(),
            is_touched: vec![false; topo.hosts.len()],
            fw_blocks: BTreeMap::new(),
            block_authors: HashMap::new(),
            agents: BTreeMap::new(),
            rng: seeded_rng(seed, WORLD_STREAM),
            goal_descriptions: [
                task.attacker.goal_description.clone(),
                task.defender.goal_description.clone(),
                task.benign.goal_description.clone(),
            ],
            topo,
            task,
        }
    }

    pub fn task(&self) -> &Arc<TaskConfig> {
        &self.task
    }

    /// The goal description agents of `role` are sent (rewritten after a topology change).
    pub fn goal_description(&self, role: AgentRole) -> &str {
        &self.goal_descriptions[role_slot(role)]
    }

    /// Current world IPs in upstream order.
    pub fn ips(&self) -> &[Ip] {
        &self.ips
    }

    /// Current networks in upstream order.
    pub fn networks(&self) -> impl Iterator<Item = Network> + '_ {
        self.networks.iter().map(|(n, _)| *n)
    }

    /// Host name behind a current IP.
    pub fn host_name(&self, ip: Ip) -> Option<&str> {
        self.ip_index.get(&ip).map(|&i| self.topo.hosts[self.host_of[i]].name.as_str())
    }

    /// Services of the host behind a current IP, in declaration order.
    pub fn services_of(&self, ip: Ip) -> &[Service] {
        match self.ip_index.get(&ip) {
            Some(&i) => &self.topo.hosts[self.host_of[i]].services,
            None => &[],
        }
    }

    /// Data of the host behind a current IP (without the logfile).
    pub fn data_of(&self, ip: Ip) -> impl Iterator<Item = &Data> {
        self.ip_index.get(&ip).map(|&i| &self.data[self.host_of[i]]).into_iter().flatten()
    }

    /// The allow-set check between two current addresses; unknown addresses are not allowed.
    pub fn firewall_allows(&self, src: Ip, dst: Ip) -> bool {
        match (self.ip_index.get(&src), self.ip_index.get(&dst)) {
            (Some(&s), Some(&d)) => self.fw.allows(s, d),
            _ => false,
        }
    }

    /// Registers an agent and resolves its start and goal. Returns its start state.
    pub fn add_agent(&mut self, id: AgentId, role: AgentRole) -> Arc<GameState> {
        let (state, goal) = self.resolve_views(role);
        let state = Arc::new(state);
        self.agents.insert(id, AgentKnowledge { role, state: state.clone(), goal });
        state
    }

    pub fn remove_agent(&mut self, id: AgentId) {
        self.agents.remove(&id);
    }

    /// Registered agents in id order.
    pub fn agents(&self) -> impl Iterator<Item = (AgentId, &AgentKnowledge)> {
        self.agents.iter().map(|(id, a)| (*id, a))
    }

    pub fn agent(&self, id: AgentId) -> Option<&AgentKnowledge> {
        self.agents.get(&id)
    }

    /// Resets the world for a new episode: reseeds when a seed is given, changes
    /// addresses when asked and allowed, restores data, logs and firewall, and resolves every
    /// agent's start and goal anew (in agent id order).
    pub fn reset(&mut self, seed: Option<i64>, topology_change: bool) {
        if let Some(seed) = seed {
            self.rng = seeded_rng(seed, WORLD_STREAM);
        }
        if topology_change && self.task.use_dynamic_addresses {
            self.change_addresses();
        }
        for h in self.touched.drain(..) {
            self.data[h] = self.topo.hosts[h].data.iter().cloned().collect();
            self.logs[h] = LogFile::default();
            self.is_touched[h] = false;
        }
        self.fw.clear_blocks();
        self.fw_blocks.clear();
        self.block_authors.clear();
        let ids: Vec<(AgentId, AgentRole)> = self.agents.iter().map(|(id, a)| (*id, a.role)).collect();
        for (id, role) in ids {
            let (state, goal) = self.resolve_views(role);
            self.agents.insert(id, AgentKnowledge { role, state: Arc::new(state), goal });
        }
    }

    /// Applies a game action for an agent and checks its goal.
    pub fn step(&mut self, id: AgentId, action: &Action) -> Result<StepOutcome, StepError> {
        if !action.action_type.is_game_action() {
            return Err(StepError::NotAGameAction(action.action_type));
        }
        action.check_required()?;
        let mut agent = self.agents.remove(&id).ok_or(StepError::UnknownAgent(id))?;
        let mut outcome = StepOutcome::default();
        {
            let state = Arc::make_mut(&mut agent.state);
            let charge = matches!(agent.role, AgentRole::Defender | AgentRole::Benign);
            let mut ctx = StepCtx { agent: id, charge, fps: &mut outcome.false_positive_authors };
            self.apply(state, action, &mut ctx);
        }
        self.agents.insert(id, agent);
        outcome.goal_reached = self.goal_reached(id);
        Ok(outcome)
    }

    /// Applies one action to the acting agent's state `s`. The source must be controlled;
    /// `check_required` guarantees the parameters each action reads are present.
    fn apply(&mut self, s: &mut GameState, action: &Action, ctx: &mut StepCtx<'_>) {
        let src = action.source_host().expect("checked");
        if !s.controlled_hosts.contains(&src) {
            return;
        }
        let target = || action.target_host().expect("checked");
        match action.action_type {
            ActionType::ScanNetwork => self.scan_network(s, src, action.target_network().expect("checked"), ctx),
            ActionType::FindServices => self.find_services(s, src, target(), ctx),
            ActionType::FindData => self.find_data(s, src, target(), ctx),
            ActionType::ExploitService => {
                self.exploit_service(s, src, target(), &action.target_service().expect("checked"), ctx);
            }
            ActionType::ExfiltrateData => self.exfiltrate_data(s, src, target(), &action.data().expect("checked"), ctx),
            ActionType::BlockIP => self.block_ip(s, src, target(), action.blocked_host().expect("checked"), ctx),
            ActionType::JoinGame | ActionType::QuitGame | ActionType::ResetGame => {}
        }
    }

    /// Every host of the network reachable from `src` becomes known (and logs the scan). Only
    /// the world networks that overlap the target are visited, so a scan costs what it finds,
    /// not the size of the world.
    fn scan_network(&mut self, s: &mut GameState, src: Ip, net: Network, ctx: &mut StepCtx<'_>) {
        let mut hits = Vec::new();
        for (world_net, members) in &self.networks {
            if net.0.contains(&world_net.0.trunc()) && net.mask() <= world_net.mask() {
                hits.extend_from_slice(members);
            } else if world_net.0.contains(&net.0.network()) {
                hits.extend(members.iter().copied().filter(|&i| net.contains(self.ips[i])));
            }
        }
        // Upstream visits IPs in index order; so do we (it orders each host's log).
        hits.sort_unstable();
        for i in hits {
            let ip = self.ips[i];
            if self.firewall_allows(src, ip) {
                s.known_hosts.insert(ip);
                self.log(ip, src, ActionType::ScanNetwork);
            } else {
                self.false_positive(src, ip, ctx);
            }
        }
    }

    /// The target's services become known (its local ones only when it is controlled); a host
    /// seen this way for the first time brings its networks.
    fn find_services(&mut self, s: &mut GameState, src: Ip, tgt: Ip, ctx: &mut StepCtx<'_>) {
        if !self.firewall_allows(src, tgt) {
            return self.false_positive(src, tgt, ctx);
        }
        let controlled = s.controlled_hosts.contains(&tgt);
        let found: BTreeSet<Service> =
            self.services_of(tgt).iter().filter(|sv| controlled || !sv.is_local).cloned().collect();
        if !found.is_empty() {
            s.known_services.insert(tgt, found);
            if s.known_hosts.insert(tgt) {
                self.add_networks_of(s, tgt);
            }
        }
        self.log(tgt, src, ActionType::FindServices);
    }

    /// On a controlled target: its data, its logfile and its blocks become known, each call a
    /// fresh snapshot (upstream kept the first one).
    fn find_data(&mut self, s: &mut GameState, src: Ip, tgt: Ip, ctx: &mut StepCtx<'_>) {
        if !self.firewall_allows(src, tgt) {
            return self.false_positive(src, tgt, ctx);
        }
        self.log(tgt, src, ActionType::FindData);
        if !s.controlled_hosts.contains(&tgt) {
            return;
        }
        let host = self.host_of[self.ip_index[&tgt]];
        let known = s.known_data.entry(tgt).or_default();
        for d in self.data[host].iter() {
            known.replace(d.clone());
        }
        known.replace(self.logs[host].snapshot());
        // Entries of `fw_blocks` are created by a block, so none is empty.
        if let Some(blocks) = self.fw_blocks.get(&tgt) {
            s.known_blocks.entry(tgt).or_default().extend(blocks.iter().copied());
        }
    }

    /// Control of the target through a service it runs and the agent knows.
    fn exploit_service(&mut self, s: &mut GameState, src: Ip, tgt: Ip, service: &Service, ctx: &mut StepCtx<'_>) {
        if !self.ip_index.contains_key(&tgt) {
            return;
        }
        if !self.firewall_allows(src, tgt) {
            return self.false_positive(src, tgt, ctx);
        }
        let exists = self.services_of(tgt).contains(service);
        let known = s.known_services.get(&tgt).is_some_and(|k| k.contains(service));
        if exists && known {
            s.controlled_hosts.insert(tgt);
            self.add_networks_of(s, tgt);
        }
        self.log(tgt, src, ActionType::ExploitService);
    }

    /// Known data of the source is copied to the controlled target: the world's copy, not
    /// whatever size or content the agent sent (upstream stored the agent's).
    fn exfiltrate_data(&mut self, s: &mut GameState, src: Ip, tgt: Ip, data: &Data, ctx: &mut StepCtx<'_>) {
        if !s.controlled_hosts.contains(&tgt) {
            return;
        }
        if !self.firewall_allows(src, tgt) {
            return self.false_positive(src, tgt, ctx);
        }
        if !s.known_data.get(&src).is_some_and(|k| k.contains(data)) {
            return;
        }
        self.log(tgt, src, ActionType::ExfiltrateData);
        let src_host = self.host_of[self.ip_index[&src]];
        let world_copy = if data.is_logfile() {
            Some(self.logs[src_host].snapshot())
        } else {
            self.data[src_host].get(data).cloned()
        };
        if let Some(copy) = world_copy {
            let tgt_host = self.host_of[self.ip_index[&tgt]];
            if !copy.is_logfile() {
                self.touch(tgt_host);
                self.data[tgt_host].insert(copy.clone());
            }
            s.known_data.entry(tgt).or_default().insert(copy);
        }
    }

    /// On a controlled target, traffic between it and `blocked` is cut both ways, for everyone.
    fn block_ip(&mut self, s: &mut GameState, src: Ip, tgt: Ip, blocked: Ip, ctx: &mut StepCtx<'_>) {
        if !s.controlled_hosts.contains(&tgt) {
            return;
        }
        if !self.firewall_allows(src, tgt) {
            return self.false_positive(src, tgt, ctx);
        }
        if tgt != blocked {
            for pair in [(tgt, blocked), (blocked, tgt)] {
                let authors = self.block_authors.entry(pair).or_default();
                if !authors.contains(&ctx.agent) {
                    authors.push(ctx.agent);
                }
            }
            if let (Some(&t), Some(&b)) = (self.ip_index.get(&tgt), self.ip_index.get(&blocked)) {
                self.fw.deny(t, b);
                self.fw.deny(b, t);
            }
            self.fw_blocks.entry(tgt).or_default().insert(blocked);
            self.fw_blocks.entry(blocked).or_default().insert(tgt);
            s.known_blocks.entry(tgt).or_default().insert(blocked);
            s.known_blocks.entry(blocked).or_default().insert(tgt);
        }
        self.log(tgt, src, ActionType::BlockIP);
    }

    /// Marks a host's data and log for restoring at the next reset.
    fn touch(&mut self, host: usize) {
        if !self.is_touched[host] {
            self.is_touched[host] = true;
            self.touched.push(host);
        }
    }

    /// Appends to the logfile of the host behind `target` (no-op for unknown addresses).
    fn log(&mut self, target: Ip, source: Ip, action: ActionType) {
        if let Some(&i) = self.ip_index.get(&target) {
            let host = self.host_of[i];
            self.touch(host);
            self.logs[host].append(source, action);
        }
    }

    /// Charges the authors of blocks on `(src, dst)` when the actor is a Defender or Benign.
    fn false_positive(&self, src: Ip, dst: Ip, ctx: &mut StepCtx<'_>) {
        if ctx.charge {
            if let Some(authors) = self.block_authors.get(&(src, dst)) {
                ctx.fps.extend(authors.iter().copied());
            }
        }
    }

    /// Adds the network `ip` is a member of.
    fn add_networks_of(&self, s: &mut GameState, ip: Ip) {
        if let Some(&i) = self.ip_index.get(&ip) {
            s.known_networks.insert(self.networks[self.net_of[i]].0);
        }
    }

    /// Hosts controlled by any attacker right now (for `all_attackers` goals).
    pub fn attacker_controlled(&self) -> BTreeSet<Ip> {
        self.agents
            .values()
            .filter(|a| a.role == AgentRole::Attacker)
            .flat_map(|a| a.state.controlled_hosts.iter().copied())
            .collect()
    }

    /// Whether the agent's state covers its goal: every goal set is a subset of the state's, and
    /// goal `known_blocks` is evaluated too (upstream ignored it), `all_attackers` meaning every
    /// host an attacker controls right now.
    pub fn goal_reached(&self, id: AgentId) -> bool {
        let Some(agent) = self.agents.get(&id) else { return false };
        let (g, s) = (&agent.goal.state, &*agent.state);
        fn dict_ok<T: Ord>(g: &BTreeMap<Ip, BTreeSet<T>>, k: &BTreeMap<Ip, BTreeSet<T>>) -> bool {
            g.iter().all(|(key, want)| k.get(key).is_some_and(|have| want.is_subset(have)))
        }
        let basic = g.known_networks.is_subset(&s.known_networks)
            && g.known_hosts.is_subset(&s.known_hosts)
            && g.controlled_hosts.is_subset(&s.controlled_hosts)
            && dict_ok(&g.known_services, &s.known_services)
            && dict_ok(&g.known_data, &s.known_data)
            && dict_ok(&g.known_blocks, &s.known_blocks);
        if !basic || agent.goal.block_all_attackers.is_empty() {
            return basic;
        }
        let attackers = self.attacker_controlled();
        agent.goal.block_all_attackers.iter().all(|host| {
            let have = s.known_blocks.get(host);
            attackers.iter().filter(|a| *a != host).all(|a| have.is_some_and(|h| h.contains(a)))
        })
    }
}

/// Per-step bookkeeping passed down to the action handlers.
struct StepCtx<'a> {
    agent: AgentId,
    /// Whether the actor's role makes it chargeable for false positives.
    charge: bool,
    fps: &'a mut Vec<AgentId>,
}

//! Pairwise reachability between world IPs, as upstream derives it from the scenario.
//!
//! Upstream has no routing: a connection `src -> dst` is allowed iff `dst` is in `src`'s allow
//! set, which it builds from a few rules. We keep the rules, not the set: whether a pair is
//! allowed is worked out from the two IPs' networks (a few array reads), the explicit allow
//! rules and the blocks agents added. So memory grows with the network count and the blocks,
//! not with the square of the IP count, and a reset only forgets the blocks.

use crate::components::Network;
use std::collections::HashSet;

/// Who may reach whom, indexed by world IP index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firewall {
    /// Number of IPs.
    n: usize,
    /// `use_firewall: false`: every IP reaches every IP (blocks still apply).
    open: bool,
    /// The network of each IP (an IP belongs to the network of its interface).
    net_of: Vec<u32>,
    /// Whether each network is private.
    private: Vec<bool>,
    /// Some network is private (public IPs reach themselves only then, as upstream).
    any_private: bool,
    /// Explicit allow rules: (sources, destinations), each sorted.
    rules: Vec<(Vec<u32>, Vec<u32>)>,
    /// Pairs cut by blocks, both directions stored.
    denied: HashSet<(u32, u32)>,
}

impl Firewall {
    /// Builds upstream's allow-set for `n` IPs.
    ///
    /// * `use_firewall == false`: every IP reaches every IP, itself included.
    /// * otherwise: members of each private network reach each other; every private IP reaches
    ///   every public IP, and public IPs reach themselves (only if some private network
    ///   exists); then each explicit allow rule `(sources, destinations)` adds its pairs.
    pub fn build(
        n: usize,
        networks: &[(Network, Vec<usize>)],
        allow_rules: &[(Vec<usize>, Vec<usize>)],
        use_firewall: bool,
    ) -> Self {
        // IPs outside every network (none in a valid topology) get a network of their own.
        let mut net_of = vec![networks.len() as u32; n];
        for (k, (_, members)) in networks.iter().enumerate() {
            for &i in members {
                if i < n {
                    net_of[i] = k as u32;
                }
            }
        }
        let mut private: Vec<bool> = networks.iter().map(|(net, _)| net.is_private()).collect();
        private.push(false);
        let sorted = |v: &[usize]| {
            let mut out: Vec<u32> = v.iter().filter(|&&i| i < n).map(|&i| i as u32).collect();
            out.sort_unstable();
            out.dedup();
            out
        };
        Firewall {
            n,
            open: !use_firewall,
            net_of,
            any_private: private.iter().any(|p| *p),
            private,
            rules: allow_rules.iter().map(|(s, d)| (sorted(s), sorted(d))).collect(),
            denied: HashSet::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Whether `src` may reach `dst`.
    #[inline]
    pub fn allows(&self, src: usize, dst: usize) -> bool {
        if src >= self.n || dst >= self.n {
            return false;
        }
        let (s, d) = (src as u32, dst as u32);
        if !self.denied.is_empty() && self.denied.contains(&(s, d)) {
            return false;
        }
        if self.open {
            return true;
        }
        let (ns, nd) = (self.net_of[src] as usize, self.net_of[dst] as usize);
        let implicit = if self.private[ns] { ns == nd || !self.private[nd] } else { src == dst && self.any_private };
        implicit || self.rules.iter().any(|(from, to)| from.binary_search(&s).is_ok() && to.binary_search(&d).is_ok())
    }

    /// Cuts `src -> dst` (a block); it stays cut until [`Firewall::clear_blocks`].
    pub fn deny(&mut self, src: usize, dst: usize) {
        if src < self.n && dst < self.n {
            self.denied.insert((src as u32, dst as u32));
        }
    }

    /// Forgets every block (a new episode).
    pub fn clear_blocks(&mut self) {
        self.denied.clear();
    }

    /// Destinations reachable from `src`, ascending by index (visits every IP: for dumps).
    pub fn destinations(&self, src: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.n).filter(move |&d| self.allows(src, d))
    }

    /// Number of allowed `(src, dst)` pairs (visits every pair: for dumps).
    pub fn pair_count(&self) -> usize {
        (0..self.n).map(|s| self.destinations(s).count()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::Ip;

    #[test]
    fn private_ranges_follow_netaddr() {
        for ip in [
            "10.1.2.3",
            "100.64.0.1",
            "172.31.0.1",
            "192.0.0.5",
            "192.168.9.9",
            "198.19.0.1",
            "239.1.1.1",
            "169.254.3.3",
        ] {
            assert!(ip.parse::<Ip>().unwrap().is_private(), "{ip}");
        }
        for ip in ["8.8.8.8", "213.47.23.195", "100.128.0.1", "172.32.0.1", "127.0.0.1", "198.20.0.1"] {
            assert!(!ip.parse::<Ip>().unwrap().is_private(), "{ip}");
        }
    }

    #[test]
    fn implicit_rules_and_blocks() {
        let private: Network = "192.168.1.0/24".parse().unwrap();
        let public: Network = "213.47.23.192/26".parse().unwrap();
        let fw = Firewall::build(3, &[(private, vec![0, 1]), (public, vec![2])], &[], true);
        assert!(fw.allows(0, 1) && fw.allows(1, 0) && fw.allows(0, 0));
        assert!(fw.allows(0, 2) && fw.allows(2, 2));
        assert!(!fw.allows(2, 0));
        assert_eq!(fw.pair_count(), 7);
        let mut fw2 = fw.clone();
        fw2.deny(0, 1);
        assert!(!fw2.allows(0, 1) && fw2.allows(1, 0), "a block is one direction here; the world blocks both");
        fw2.clear_blocks();
        assert_eq!(fw2, fw);
        assert!(!fw.allows(9, 0));
        let open = Firewall::build(3, &[], &[], false);
        assert_eq!(open.pair_count(), 9);
        let big = Firewall::build(130, &[], &[(vec![0], vec![129])], true);
        assert!(big.allows(0, 129) && !big.allows(129, 0));
        // Indices out of range are ignored everywhere (and never panic).
        let strays = Firewall::build(3, &[(private, vec![0, 1, 3]), (public, vec![2])], &[(vec![0, 3], vec![2])], true);
        assert_eq!(
            strays,
            Firewall::build(3, &[(private, vec![0, 1]), (public, vec![2])], &[(vec![0], vec![2])], true)
        );
        let mut fw3 = fw.clone();
        fw3.deny(3, 0);
        fw3.deny(0, 3);
        assert_eq!(fw3, fw);
        let no_private = Firewall::build(2, &[(public, vec![0, 1])], &[], true);
        assert!(!no_private.allows(0, 0), "public self-loops need some private network, as upstream");
    }
}

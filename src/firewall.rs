//! Pairwise reachability between world IPs, as upstream derives it from the scenario.
//!
//! Upstream has no routing: a connection `src -> dst` is allowed iff `dst` is in `src`'s allow
//! set. We index world IPs densely and keep one bit row per source, so a check is a shift and
//! a mask, and a reset is a copy of a few words.

use crate::components::Network;

/// A dense `n x n` bit matrix of allowed connections, indexed by world IP index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firewall {
    /// Number of IPs (rows and columns).
    n: usize,
    /// 64-bit words per row.
    words: usize,
    /// Row-major bits: bit `dst` of row `src` is set when `src` may reach `dst`.
    bits: Vec<u64>,
}

impl Firewall {
    /// An all-denied matrix for `n` IPs.
    pub fn empty(n: usize) -> Self {
        let words = n.div_ceil(64).max(1);
        Firewall { n, words, bits: vec![0; n * words] }
    }

    /// Builds upstream's allow-set.
    ///
    /// * `use_firewall == false`: every IP reaches every IP, itself included.
    /// * otherwise: members of each private network reach each other; every private IP reaches
    ///   every public IP, and public IPs get a self-loop (only if some private network exists);
    ///   then each explicit allow rule `(sources, destinations)` is added.
    pub fn build(
        n: usize,
        networks: &[(Network, Vec<usize>)],
        allow_rules: &[(Vec<usize>, Vec<usize>)],
        use_firewall: bool,
    ) -> Self {
        let mut fw = Firewall::empty(n);
        if !use_firewall {
            for s in 0..n {
                for d in 0..n {
                    fw.allow(s, d);
                }
            }
            return fw;
        }
        let (private, public): (Vec<_>, Vec<_>) = networks.iter().partition(|(net, _)| net.is_private());
        for (_, members) in &private {
            for &s in members {
                for &d in members {
                    fw.allow(s, d);
                }
            }
        }
        for (_, p_members) in &private {
            for (_, q_members) in &public {
                for &s in p_members {
                    for &d in q_members {
                        fw.allow(s, d);
                    }
                }
                for &q in q_members {
                    fw.allow(q, q);
                }
            }
        }
        for (srcs, dsts) in allow_rules {
            for &s in srcs {
                for &d in dsts {
                    fw.allow(s, d);
                }
            }
        }
        fw
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    #[inline]
    pub fn allows(&self, src: usize, dst: usize) -> bool {
        src < self.n && dst < self.n && self.bits[src * self.words + dst / 64] & (1 << (dst % 64)) != 0
    }

    pub fn allow(&mut self, src: usize, dst: usize) {
        if src < self.n && dst < self.n {
            self.bits[src * self.words + dst / 64] |= 1 << (dst % 64);
        }
    }

    pub fn deny(&mut self, src: usize, dst: usize) {
        if src < self.n && dst < self.n {
            self.bits[src * self.words + dst / 64] &= !(1 << (dst % 64));
        }
    }

    /// Destinations reachable from `src`, ascending by index.
    pub fn destinations(&self, src: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.n).filter(move |&d| self.allows(src, d))
    }

    /// Number of allowed `(src, dst)` pairs.
    pub fn pair_count(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
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
        assert!(!fw2.allows(0, 1));
        assert!(!fw.allows(9, 0));
        let open = Firewall::build(3, &[], &[], false);
        assert_eq!(open.pair_count(), 9);
        let big = Firewall::build(130, &[], &[(vec![0], vec![129])], true);
        assert!(big.allows(0, 129) && !big.allows(129, 0));
    }
}

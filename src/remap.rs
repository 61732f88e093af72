//! Dynamic addresses: a seeded relabelling of every world address.
//!
//! Private networks move together, keeping their distances, to a random private base aligned to
//! the largest of them (so every network keeps its prefix alignment and no addresses meet); public
//! networks are drawn anew, each at a canonical public network address (upstream could draw host bits). Hosts keep
//! their offsets inside their networks. The firewall, start candidates and views keep their
//! shape because they refer to IP indices or are mapped at resolution time; goal descriptions
//! are rewritten, CIDR tokens included (upstream left them stale). Retries are bounded and a failure leaves the
//! addresses unchanged, so a remap can never loop forever, exit or panic.

use crate::components::{Ip, Network};
use crate::world::World;
use rand::Rng;
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// How many times a private base is drawn before giving up on this reset.
const MAX_TRIES: usize = 64;

/// Private ranges we draw new bases from (the RFC 1918 blocks).
const PRIVATE_BLOCKS: [(u32, u8); 3] = [(0x0A00_0000, 8), (0xAC10_0000, 12), (0xC0A8_0000, 16)];

impl World {
    /// Draws a new address layout and applies it. Returns false (and changes nothing) when no
    /// valid layout was found within the bounded number of draws.
    pub fn change_addresses(&mut self) -> bool {
        let Some(net_map) = self.draw_network_map() else { return false };
        // Host IPs: same offset inside the new network.
        let mut new_ips = self.ips.clone();
        for (k, (old, members)) in self.networks.iter().enumerate() {
            let new = net_map[k];
            for &i in members {
                let offset = u32::from(self.ips[i].0).wrapping_sub(u32::from(old.network_address().0));
                new_ips[i] = Ip(Ipv4Addr::from(u32::from(new.network_address().0).wrapping_add(offset)));
            }
        }
        let ip_map: HashMap<Ip, Ip> = self.ips.iter().copied().zip(new_ips.iter().copied()).collect();
        let old_nets: Vec<Network> = self.networks.iter().map(|(n, _)| *n).collect();
        for (k, entry) in self.networks.iter_mut().enumerate() {
            entry.0 = net_map[k];
        }
        self.ips = new_ips;
        self.ip_index = self.ips.iter().enumerate().map(|(i, ip)| (*ip, i)).collect();
        for d in self.goal_descriptions.iter_mut() {
            *d = rewrite_addresses(d, &ip_map, &old_nets, &net_map);
        }
        true
    }

    fn draw_network_map(&mut self) -> Option<Vec<Network>> {
        let nets: Vec<Network> = self.networks.iter().map(|(n, _)| *n).collect();
        let v4 = |n: &Network| u64::from(u32::from(n.network_address().0));
        let size = |n: &Network| 1u64 << (32 - u32::from(n.mask()));
        let private: Vec<usize> = (0..nets.len()).filter(|&k| nets[k].is_private()).collect();
        let mut out = nets.clone();
        let mut drawn = Vec::new();
        for (k, n) in nets.iter().enumerate() {
            if n.is_private() {
                continue;
            }
            out[k] = self.draw_public(n.mask(), &drawn)?;
            drawn.push(out[k]);
        }
        let Some(lowest) = private.iter().map(|&k| v4(&nets[k])).min() else { return Some(out) };
        let end = private.iter().map(|&k| v4(&nets[k]) + size(&nets[k])).max()?;
        // The layout moves by a multiple of its largest network's size (at least 256, so /24
        // layouts stay on /24 boundaries): every network stays aligned to its prefix, so no two
        // networks (or addresses) can meet. `span` counts from that alignment below `lowest`.
        let align = private.iter().map(|&k| size(&nets[k])).max()?.max(256);
        let offset = lowest % align;
        let span = end - lowest + offset;
        for _ in 0..MAX_TRIES {
            let (block, len) = PRIVATE_BLOCKS[self.rng.random_range(0..PRIVATE_BLOCKS.len())];
            let room = 1u64 << (32 - len);
            if span > room {
                continue;
            }
            // Every base drawn keeps the whole layout inside the block, so it stays private.
            let slots = u32::try_from((room - span) / align).ok()?;
            let base = u64::from(block) + offset + align * u64::from(self.rng.random_range(0..=slots));
            if base == lowest {
                // A change should change something: draw again rather than stay in place.
                continue;
            }
            for &k in &private {
                let moved = u32::try_from(base + v4(&nets[k]) - lowest).ok()?;
                out[k] = Network::new(Ipv4Addr::from(moved), nets[k].mask())?;
            }
            return Some(out);
        }
        None
    }

    /// A public network of this prefix length that overlaps none of `taken`.
    fn draw_public(&mut self, mask: u8, taken: &[Network]) -> Option<Network> {
        for _ in 0..MAX_TRIES {
            // 1.0.0.0 up to the multicast range: canonicalising only clears bits, so no
            // multicast or reserved network can come out.
            let a: u32 = self.rng.random_range(0x0100_0000..0xE000_0000);
            let net = Network::new(Ipv4Addr::from(a), mask)?.canonical();
            let addr = net.network_address();
            let v = addr.0;
            let overlaps = |t: &Network| t.0.contains(&net.0) || net.0.contains(&t.0);
            // (0.0.0.0 can only come out of a prefix shorter than /8.)
            if !addr.is_private() && !v.is_loopback() && v.octets()[0] != 0 && !taken.iter().any(overlaps) {
                return Some(net);
            }
        }
        None
    }
}

/// Rewrites IPv4 addresses and CIDRs in free text through the maps; unknown tokens stay.
pub fn rewrite_addresses(text: &str, ips: &HashMap<Ip, Ip>, old_nets: &[Network], new_nets: &[Network]) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let at_boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'.');
        if at_boundary && bytes[i].is_ascii_digit() {
            let end = bytes[i..]
                .iter()
                .position(|b| !(b.is_ascii_digit() || *b == b'.' || *b == b'/'))
                .map_or(bytes.len(), |p| i + p);
            let token = text[i..end].trim_end_matches('.');
            let tend = i + token.len();
            if let Some(replacement) = rewrite_token(token, ips, old_nets, new_nets) {
                out.push_str(&replacement);
                i = tend;
                continue;
            }
            out.push_str(token);
            i = tend;
            continue;
        }
        let ch = text[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

fn rewrite_token(token: &str, ips: &HashMap<Ip, Ip>, old_nets: &[Network], new_nets: &[Network]) -> Option<String> {
    if token.contains('/') {
        let net: Network = token.parse().ok()?;
        let k = old_nets.iter().position(|n| *n == net.canonical())?;
        Some(new_nets[k].to_string())
    } else {
        let ip: Ip = token.parse().ok()?;
        ips.get(&ip).map(|n| n.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Topology;
    use crate::task::TaskConfig;
    use std::collections::{BTreeSet, HashSet};
    use std::sync::Arc;

    /// A world of the given hosts (scenario YAML host entries, one a line), with dynamic addresses.
    fn world_of(hosts: &[&str], seed: i64) -> World {
        let mut task = TaskConfig::from_yaml(
            "env:\n  scenario: two_networks_tiny\n  use_dynamic_addresses: true\n",
            "remap",
            None,
        )
        .unwrap();
        let yaml: String = hosts.iter().map(|h| format!("  - {h}\n")).collect();
        task.topology = Arc::new(Topology::from_yaml(&format!("name: t\nhosts:\n{yaml}"), "remap-test").unwrap());
        World::new(Arc::new(task), seed)
    }

    /// A /26 below a /24, a /16 beside a /24, and the tiny world's two /24s with a public /26.
    const SMALL_BELOW_LARGE: [&str; 2] =
        ["{name: a, interfaces: [192.168.1.194/26]}", "{name: b, interfaces: [192.168.2.2/24]}"];
    const SIXTEEN_AND_TWENTY_FOUR: [&str; 2] =
        ["{name: a, interfaces: [10.5.0.9/16]}", "{name: b, interfaces: [10.6.1.2/24, 10.5.7.7/16]}"];
    /// From 10.0.0.192 to 10.0.254.255: 192.168.0.0/16 has room for it at two bases only.
    const NEARLY_A_SIXTEEN: [&str; 2] =
        ["{name: a, interfaces: [10.0.0.194/26]}", "{name: b, interfaces: [10.0.254.2/24]}"];
    const TWO_PLUS_PUBLIC: [&str; 3] = [
        "{name: a, interfaces: [192.168.1.2/24]}",
        "{name: b, interfaces: [192.168.2.2/24, 192.168.1.1/24]}",
        "{name: c, interfaces: [213.47.23.195/26]}",
    ];

    fn v4(ip: Ip) -> i64 {
        i64::from(u32::from(ip.0))
    }

    /// Checks what every remap keeps: addresses distinct and in their networks at the same
    /// offsets, networks canonical and moved, privacy, and the distances between private networks.
    fn assert_shape_kept(before: &World, after: &World) {
        assert_eq!(
            after.ips.iter().collect::<HashSet<_>>().len(),
            after.ips.len(),
            "two addresses met: {:?}",
            after.ips
        );
        for ((old, members), (new, new_members)) in before.networks.iter().zip(&after.networks) {
            assert_eq!(members, new_members);
            assert_eq!(*new, new.canonical(), "{new}");
            assert_eq!(new.mask(), old.mask());
            assert_ne!(new, old, "every network moves");
            assert_eq!(new.is_private(), old.is_private(), "{old} -> {new}");
            for &i in members {
                assert!(new.contains(after.ips[i]), "{} outside {new}", after.ips[i]);
                assert_eq!(v4(after.ips[i]) - v4(new.network_address()), v4(before.ips[i]) - v4(old.network_address()));
            }
        }
        let private = |w: &World| -> Vec<i64> {
            w.networks.iter().filter(|(n, _)| n.is_private()).map(|(n, _)| v4(n.network_address())).collect()
        };
        let (old, new) = (private(before), private(after));
        for k in 1..old.len() {
            assert_eq!(new[k] - new[0], old[k] - old[0], "private networks keep their distances");
        }
    }

    #[test]
    fn a_remap_never_merges_addresses_whatever_the_prefixes() {
        for hosts in [&SMALL_BELOW_LARGE[..], &SIXTEEN_AND_TWENTY_FOUR[..], &NEARLY_A_SIXTEEN[..], &TWO_PLUS_PUBLIC[..]]
        {
            for seed in 0..80 {
                let before = world_of(hosts, seed);
                let mut after = before.clone();
                assert!(after.change_addresses(), "{hosts:?} seed {seed}");
                assert_shape_kept(&before, &after);
            }
        }
    }

    /// The world of `hosts` after one change of addresses, for seeds 0 to `seeds` - 1, each
    /// checked to keep the layout's shape.
    fn remapped(hosts: &[&str], seeds: i64) -> Vec<World> {
        (0..seeds)
            .map(|seed| {
                let before = world_of(hosts, seed);
                let mut after = before.clone();
                assert!(after.change_addresses());
                assert_shape_kept(&before, &after);
                after
            })
            .collect()
    }

    /// Which RFC 1918 block a private address is in.
    fn block_of(ip: Ip) -> u32 {
        PRIVATE_BLOCKS.iter().position(|(b, len)| u32::from(ip.0) >> (32 - len) == b >> (32 - len)).unwrap() as u32
    }

    #[test]
    fn a_layout_as_large_as_a_block_can_fill_it() {
        // A single private /16: the 192.168.0.0/16 block has exactly room for it.
        let hosts = ["{name: a, interfaces: [10.5.0.9/16]}", "{name: b, interfaces: [10.5.3.4/16]}"];
        let mut blocks = BTreeSet::new();
        for after in remapped(&hosts, 60) {
            let net = after.networks[0].0;
            blocks.insert(block_of(net.network_address()));
            if block_of(net.network_address()) == 2 {
                assert_eq!(net.to_string(), "192.168.0.0/16");
            }
        }
        assert_eq!(blocks.len(), 3, "every private block is used");
    }

    #[test]
    fn a_layout_wider_than_a_block_never_lands_in_it() {
        // 10.0.0.0/24 to 10.1.0.255 spans more than 192.168.0.0/16 holds.
        let hosts = ["{name: a, interfaces: [10.0.0.2/24]}", "{name: b, interfaces: [10.1.0.2/24]}"];
        let blocks: BTreeSet<u32> = remapped(&hosts, 60).iter().map(|after| block_of(after.ips[0])).collect();
        assert_eq!(blocks, BTreeSet::from([0, 1]));
        // A layout no block holds stays where it is.
        let hosts = ["{name: a, interfaces: [10.0.0.2/24]}", "{name: b, interfaces: [192.168.0.2/24]}"];
        let mut w = world_of(&hosts, 1);
        let before = w.ips.clone();
        assert!(!w.change_addresses());
        assert_eq!(w.ips, before);
    }

    #[test]
    fn dynamic_addresses_draw_from_many_layouts() {
        for hosts in [&SMALL_BELOW_LARGE[..], &SIXTEEN_AND_TWENTY_FOUR[..], &TWO_PLUS_PUBLIC[..]] {
            let layouts: HashSet<Vec<Ip>> = (0..40)
                .map(|seed| {
                    let mut w = world_of(hosts, seed);
                    w.change_addresses();
                    w.ips
                })
                .collect();
            assert!(layouts.len() >= 20, "{hosts:?}: {} layouts", layouts.len());
        }
    }

    #[test]
    fn public_networks_are_redrawn_public() {
        let mut w = world_of(&TWO_PLUS_PUBLIC, 5);
        for mask in [26, 24, 16, 8] {
            for _ in 0..3000 {
                let net = w.draw_public(mask, &[]).unwrap();
                let a = net.network_address();
                assert_eq!((net.mask(), net), (mask, net.canonical()));
                assert!(!a.is_private() && !a.0.is_loopback() && !a.0.is_multicast() && a.0.octets()[0] != 0, "{net}");
            }
        }
    }

    #[test]
    fn public_networks_are_redrawn_apart() {
        // 128.0.0.0/1 is the only public /1, so the /2 must leave it alone: 64.0.0.0/2.
        let hosts = ["{name: a, interfaces: [128.0.0.1/1]}", "{name: b, interfaces: [64.0.0.1/2]}"];
        for seed in 0..20 {
            let mut w = world_of(&hosts, seed);
            assert!(w.change_addresses());
            let nets: Vec<String> = w.networks().map(|n| n.to_string()).collect();
            assert_eq!(nets, ["128.0.0.0/1", "64.0.0.0/2"]);
        }
    }

    #[test]
    fn goal_texts_rewrite_whole_addresses_and_cidrs_only() {
        let ips: HashMap<Ip, Ip> =
            [(Ip::v4(192, 168, 1, 2), Ip::v4(10, 0, 0, 2)), (Ip::v4(1, 2, 3, 4), Ip::v4(5, 6, 7, 8))].into();
        let old: Vec<Network> = vec!["192.168.1.0/24".parse().unwrap()];
        let new: Vec<Network> = vec!["10.0.0.0/24".parse().unwrap()];
        let r = |t: &str| rewrite_addresses(t, &ips, &old, &new);
        assert_eq!(r("192.168.1.2"), "10.0.0.2");
        assert_eq!(r("Go to 192.168.1.2."), "Go to 10.0.0.2.", "a sentence's full stop is not part of the address");
        assert_eq!(r("(1.2.3.4,192.168.1.2)"), "(5.6.7.8,10.0.0.2)");
        assert_eq!(r("net 192.168.1.0/24 and 192.168.1.7/24"), "net 10.0.0.0/24 and 10.0.0.0/24");
        // Not addresses of the world, or not whole tokens: left as written.
        assert_eq!(
            r("192.168.9.9 192.168.9.0/24 192.168.1.0/33 1.2.3.4.5 x1.2.3.4 v.1.2.3.4"),
            "192.168.9.9 192.168.9.0/24 192.168.1.0/33 1.2.3.4.5 x1.2.3.4 v.1.2.3.4"
        );
        assert_eq!(r("host1.2.3.4 11.2.3.4 1.2.3.44"), "host1.2.3.4 11.2.3.4 1.2.3.44");
        assert_eq!(r("«1.2.3.4» → 192.168.1.2/24…"), "«5.6.7.8» → 10.0.0.0/24…");
        assert_eq!(r(""), "");
    }
}

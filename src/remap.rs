//! Dynamic addresses: a seeded relabelling of every world address.
//!
//! Private networks move together, keeping their distances, to a random private base; public
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
        let v4 = |n: &Network| u32::from(n.network_address().0);
        let private: Vec<usize> = (0..nets.len()).filter(|&k| nets[k].is_private()).collect();
        let mut out = nets.clone();
        for (k, n) in nets.iter().enumerate() {
            if n.is_private() {
                continue;
            }
            out[k] = self.draw_public(n.mask())?;
        }
        if private.is_empty() {
            return Some(out);
        }
        let lowest = private.iter().map(|&k| v4(&nets[k])).min().unwrap_or(0);
        let highest =
            private.iter().map(|&k| v4(&nets[k]).saturating_add(host_span(nets[k].mask()))).max().unwrap_or(0);
        let span = highest - lowest;
        for _ in 0..MAX_TRIES {
            let (block, len) = PRIVATE_BLOCKS[self.rng.random_range(0..PRIVATE_BLOCKS.len())];
            let room = host_span(len);
            if span > room {
                continue;
            }
            // Keep 256-alignment so /24 layouts stay on /24 boundaries.
            let slots = (room - span) / 256;
            let base = block + 256 * self.rng.random_range(0..=slots);
            if base == lowest {
                // A change should change something: draw again rather than stay in place.
                continue;
            }
            let moved: Vec<u32> = private.iter().map(|&k| base + (v4(&nets[k]) - lowest)).collect();
            if moved.iter().all(|a| Ip(Ipv4Addr::from(*a)).is_private()) {
                for (j, &k) in private.iter().enumerate() {
                    out[k] = Network::new(Ipv4Addr::from(moved[j]), nets[k].mask())?.canonical();
                }
                return Some(out);
            }
        }
        None
    }

    fn draw_public(&mut self, mask: u8) -> Option<Network> {
        for _ in 0..MAX_TRIES {
            let a: u32 = self.rng.random_range(0x0100_0000..0xE000_0000);
            let net = Network::new(Ipv4Addr::from(a), mask)?.canonical();
            let addr = net.network_address();
            let v = addr.0;
            if !addr.is_private() && !v.is_loopback() && !v.is_multicast() && v.octets()[0] != 0 {
                return Some(net);
            }
        }
        None
    }
}

/// Addresses spanned by a network of this prefix length, minus one.
fn host_span(mask: u8) -> u32 {
    if mask == 0 {
        u32::MAX
    } else {
        (1u32 << (32 - u32::from(mask.min(32)))).wrapping_sub(1)
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

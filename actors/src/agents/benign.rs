//! A benign user: looks around its own hosts (service and data searches, scans of its
//! networks), never exploits or exfiltrates. Its traffic is what a defender must not block.

use super::{find_data, find_services, scan, Policy};
use crate::client::Observation;
use netsecgame::action::Action;
use netsecgame::components::Ip;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

pub struct BenignUser;

impl Policy for BenignUser {
    fn act(&mut self, obs: &Observation, rng: &mut ChaCha8Rng) -> Action {
        let s = &obs.state;
        let hosts: Vec<Ip> = s.controlled_hosts.iter().copied().collect();
        if hosts.is_empty() {
            return find_data(Ip::v4(127, 0, 0, 1), Ip::v4(127, 0, 0, 1));
        }
        let src = hosts[rng.random_range(0..hosts.len())];
        let known: Vec<Ip> = s.known_hosts.iter().copied().collect();
        match rng.random_range(0..3) {
            0 if !s.known_networks.is_empty() => {
                let nets: Vec<_> = s.known_networks.iter().copied().collect();
                scan(src, nets[rng.random_range(0..nets.len())])
            }
            1 if !known.is_empty() => find_services(src, known[rng.random_range(0..known.len())]),
            _ => find_data(src, src),
        }
    }
}

//! Accepting connections: admission per address, then a session per connection spread over
//! the I/O arbiters.

use super::session::{SessionSettings, TcpSession};
use crate::game::coordinator::Coordinator;
use actix::prelude::*;
use dashmap::DashMap;
use netsecgame::protocol::{encode_reply, Reply, ToAgent};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// Admission limits of a listener.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Most simultaneous connections from one address (0: no limit). Keeps one host from
    /// taking every slot of a public server.
    pub max_per_ip: usize,
    /// Most simultaneous connections through this listener (0: no limit; the game's own
    /// `max_agents` still applies). A tournament gives each external entrant a listener of
    /// its own with a limit of one, so a connection is always its entrant's.
    pub max_connections: usize,
}

/// Default connections per address.
pub const DEFAULT_MAX_PER_IP: usize = 128;

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits { max_per_ip: DEFAULT_MAX_PER_IP, max_connections: 0 }
    }
}

/// Open connections per address, shared by the listener and its sessions.
type PerIp = Arc<DashMap<IpAddr, usize>>;

/// Held by a session; gives its address's place (and the listener's) back when dropped.
pub struct ConnectionGuard {
    counts: PerIp,
    ip: IpAddr,
    total: Arc<AtomicUsize>,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.total.fetch_sub(1, Ordering::SeqCst);
        if let dashmap::mapref::entry::Entry::Occupied(mut e) = self.counts.entry(self.ip) {
            *e.get_mut() -= 1;
            if *e.get() == 0 {
                e.remove();
            }
        }
    }
}

/// Admits a connection from `ip`, or says which limit it hits.
fn admit(
    counts: &PerIp,
    total: &Arc<AtomicUsize>,
    ip: IpAddr,
    limits: &ConnectionLimits,
) -> Result<ConnectionGuard, String> {
    if limits.max_connections > 0 && total.load(Ordering::SeqCst) >= limits.max_connections {
        return Err(format!(
            "This port takes {} connection(s) at a time and has them; close the other first.",
            limits.max_connections
        ));
    }
    let mut n = counts.entry(ip).or_insert(0);
    if limits.max_per_ip > 0 && *n >= limits.max_per_ip {
        return Err(format!(
            "Too many connections from {ip}: at most {} (limit set by --max_per_ip).",
            limits.max_per_ip
        ));
    }
    *n += 1;
    drop(n);
    total.fetch_add(1, Ordering::SeqCst);
    Ok(ConnectionGuard { counts: counts.clone(), ip, total: total.clone() })
}

/// Answers a refused connection with a BAD_REQUEST and closes it.
async fn refuse(mut stream: TcpStream, peer: SocketAddr, message: String) {
    let mut out = Vec::new();
    encode_reply(&mut out, ToAgent(&peer.ip().to_string(), peer.port()), &Reply::bad_request(message));
    let write = async {
        stream.write_all(&out).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), write).await;
}

/// Accepts connections forever, handing each to a session on one of the `io` arbiters (or
/// the current one when `io` is empty).
pub async fn accept_loop(
    listener: TcpListener,
    coordinator: Addr<Coordinator>,
    sessions: SessionSettings,
    limits: ConnectionLimits,
    io: Vec<ArbiterHandle>,
) {
    let next = AtomicUsize::new(0);
    let counts: PerIp = Arc::new(DashMap::new());
    let total = Arc::new(AtomicUsize::new(0));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!("accept failed: {e}");
                actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let guard = match admit(&counts, &total, peer.ip(), &limits) {
            Ok(g) => g,
            Err(message) => {
                tracing::warn!("refusing {peer}: {message}");
                actix_rt::spawn(refuse(stream, peer, message));
                continue;
            }
        };
        let coordinator = coordinator.clone();
        let settings = sessions.clone();
        if io.is_empty() {
            TcpSession::start(stream, peer, coordinator, settings, guard);
            continue;
        }
        let arbiter = &io[next.fetch_add(1, Ordering::Relaxed) % io.len()];
        let Ok(std_stream) = stream.into_std() else { continue };
        arbiter.spawn(async move {
            if let Ok(stream) = TcpStream::from_std(std_stream) {
                TcpSession::start(stream, peer, coordinator, settings, guard);
            }
        });
    }
}

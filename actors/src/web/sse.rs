//! Server-sent event streams: the game page's and the tournament page's live updates.
//!
//! A stream is pulled, not pushed: actix-web asks it for its next chunk only once the
//! connection has taken the previous ones, and each time the stream waits for its next tick
//! and then asks for everything that changed since what it last sent. So a viewer that
//! reads slowly is asked less often and gets fewer, bigger updates; nothing queues for it,
//! and the game never waits. A quiet stream sends a comment now and then, so proxies and
//! browsers keep the connection open.

use super::feed::{Feed, Since, Viewer};
use crate::tournament::live::LiveTournament;
use actix::Addr;
use bytes::Bytes;
use futures_util::Stream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::time::{interval, Interval, MissedTickBehavior};

/// A comment after this much silence keeps the connection open.
const KEEPALIVE: Duration = Duration::from_secs(15);

fn ticker(every: Duration) -> Interval {
    let mut t = interval(every);
    // A stream not polled for a while (a slow reader) takes one tick, not a burst.
    t.set_missed_tick_behavior(MissedTickBehavior::Delay);
    t
}

fn event(name: &str, json: &str) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {json}\n\n"))
}

/// Counts a viewer of a game's feed while its stream lives.
pub struct ViewerGuard {
    feed: Addr<Feed>,
    viewers: Arc<AtomicU64>,
}

impl ViewerGuard {
    pub fn new(feed: Addr<Feed>, viewers: Arc<AtomicU64>) -> Self {
        feed.do_send(Viewer(true));
        viewers.fetch_add(1, Ordering::Relaxed);
        ViewerGuard { feed, viewers }
    }
}

impl Drop for ViewerGuard {
    fn drop(&mut self) {
        self.feed.do_send(Viewer(false));
        self.viewers.fetch_sub(1, Ordering::Relaxed);
    }
}

struct GameStream {
    guard: ViewerGuard,
    tick: Interval,
    version: u64,
    seen_line: u64,
    last_write: Instant,
    done: bool,
}

/// A game page's stream: `update` events (the first one with everything), then `over` once
/// the game ended.
pub fn game(guard: ViewerGuard, every: Duration) -> impl Stream<Item = Result<Bytes, actix_web::Error>> {
    let state =
        GameStream { guard, tick: ticker(every), version: 0, seen_line: 0, last_write: Instant::now(), done: false };
    futures_util::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        loop {
            st.tick.tick().await;
            let asked = st.guard.feed.send(Since { version: st.version, seen_line: st.seen_line }).await;
            match asked {
                Err(_) => {
                    st.done = true;
                    return Some((Ok(event("over", "{}")), st));
                }
                Ok(Some((version, seen_line, over, json))) => {
                    st.version = version;
                    st.seen_line = seen_line;
                    st.last_write = Instant::now();
                    st.done = over;
                    return Some((Ok(event("update", &json)), st));
                }
                Ok(None) if st.last_write.elapsed() >= KEEPALIVE => {
                    st.last_write = Instant::now();
                    return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), st));
                }
                Ok(None) => {}
            }
        }
    })
}

struct TournamentStream {
    live: LiveTournament,
    tick: Interval,
    version: u64,
    last_write: Instant,
    _guard: Counted,
}

/// Counts a viewer (of the tournament) while its stream lives.
struct Counted(Arc<AtomicU64>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The tournament page's stream: the whole state as an `update` event whenever it changed.
pub fn tournament(
    live: LiveTournament,
    every: Duration,
    viewers: Arc<AtomicU64>,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>> {
    viewers.fetch_add(1, Ordering::Relaxed);
    // No version is `u64::MAX`: the first tick always sends the state.
    let state = TournamentStream {
        live,
        tick: ticker(every),
        version: u64::MAX,
        last_write: Instant::now(),
        _guard: Counted(viewers),
    };
    futures_util::stream::unfold(state, |mut st| async move {
        loop {
            st.tick.tick().await;
            if let Some(s) = st.live.newer_than(st.version) {
                st.version = s.version;
                st.last_write = Instant::now();
                let json = serde_json::to_string(&s).unwrap_or_else(|_| "{}".into());
                return Some((Ok(event("update", &json)), st));
            }
            if st.last_write.elapsed() >= KEEPALIVE {
                st.last_write = Instant::now();
                return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), st));
            }
        }
    })
}

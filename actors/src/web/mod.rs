//! The web view (`--http ADDR`): watch agents play in a browser, follow a tournament, replay
//! trajectory files, and scrape metrics. An actix-web server in the game server's process.
//!
//! Design:
//! * **Read-only.** The view reads the [`GameRegistry`] and asks games for snapshots and
//!   events ([`crate::game::messages::ViewSnapshot`], [`crate::game::messages::Watch`]); it
//!   never sends a game a request, so nothing a page does can change a game. Every route but
//!   the replay upload is a GET, and a replay lives only in the answer to its upload.
//! * **Nothing for nobody.** A game with no viewer builds no step events and copies no
//!   action; with `--http` it keeps counters (a clock read and a few relaxed atomic adds per
//!   step). The view runs on a thread of its own, not on a game's.
//! * **A slow browser never slows a game.** Games hand events to a per-game [`feed::Feed`]
//!   with `try_send` into a bounded mailbox (dropping, counted, when it is full); the feed
//!   keeps the latest state of each agent and a bounded log; each page's event stream
//!   ([`sse`]) pulls what changed at its own pace, so updates are coalesced, never queued.
//! * **Offline.** Pages, scripts and styles are compiled in ([`assets`]); no CDN.
//!
//! Routes (the JSON ones are documented in the README):
//!
//! | route | what |
//! |---|---|
//! | `GET /`, `/tournament`, `/replay` | the pages |
//! | `GET /api/games`, `/api/games/{id}` | games, their agents' views, the graph |
//! | `GET /api/games/{id}/events` | a game's live updates (server-sent events) |
//! | `GET /api/tournament`, `/api/tournament/events` | the tournament, and its live updates |
//! | `GET /api/scenarios`, `/api/scenarios/{name}` | embedded scenarios and their graphs |
//! | `POST /api/replay` | read an uploaded trajectory file (with its analysis) |
//! | `GET /metrics` | Prometheus text format |

pub mod api;
pub mod assets;
pub mod feed;
pub mod graph;
pub mod metrics;
pub mod replay;
pub mod sse;
pub mod views;

use crate::registry::GameRegistry;
use crate::tournament::live::LiveTournament;
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpResponse, HttpServer};
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

/// Default bound on an uploaded trajectory file: 256 MiB.
pub const DEFAULT_MAX_UPLOAD: usize = 256 << 20;
/// Default pace of live updates per page.
pub const DEFAULT_TICK: Duration = Duration::from_millis(200);

/// Settings of the view.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Largest trajectory file accepted for replay, in bytes.
    pub max_upload: usize,
    /// How often a page's event stream looks for changes (and so the most updates a page
    /// gets per second).
    pub tick: Duration,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig { max_upload: DEFAULT_MAX_UPLOAD, tick: DEFAULT_TICK }
    }
}

/// What the handlers share.
pub struct WebState {
    pub registry: GameRegistry,
    pub tournament: Option<LiveTournament>,
    pub feeds: feed::Feeds,
    pub config: WebConfig,
    /// Replay uploads being read (see [`replay::CONCURRENT`]).
    pub replays: Arc<tokio::sync::Semaphore>,
    /// Pages receiving live updates now.
    pub viewers: Arc<AtomicU64>,
}

impl WebState {
    pub fn new(registry: GameRegistry, tournament: Option<LiveTournament>, config: WebConfig) -> Self {
        WebState {
            registry,
            tournament,
            feeds: feed::Feeds::default(),
            config,
            replays: Arc::new(tokio::sync::Semaphore::new(replay::CONCURRENT)),
            viewers: Arc::default(),
        }
    }
}

/// Every route; the server and the handler tests build their app with this. A known path
/// asked with another method gets 405; an unknown path 404.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").get(|| async { assets::page(assets::GAME_PAGE) }))
        .service(web::resource("/tournament").get(|| async { assets::page(assets::TOURNAMENT_PAGE) }))
        .service(web::resource("/replay").get(|| async { assets::page(assets::REPLAY_PAGE) }))
        .service(web::resource("/assets/{name}").get(|name: web::Path<String>| async move {
            assets::asset(&name).unwrap_or_else(|| api::error(StatusCode::NOT_FOUND, "no such asset"))
        }))
        .service(
            web::resource("/favicon.ico")
                .get(|| async { assets::asset("favicon.svg").unwrap_or_else(|| HttpResponse::NotFound().finish()) }),
        )
        .service(web::resource("/api/games").get(api::games))
        .service(web::resource("/api/games/{id}").get(api::game))
        .service(web::resource("/api/games/{id}/events").get(api::game_events))
        .service(web::resource("/api/tournament").get(api::tournament))
        .service(web::resource("/api/tournament/events").get(api::tournament_events))
        .service(web::resource("/api/scenarios").get(api::scenarios))
        .service(web::resource("/api/scenarios/{name}").get(api::scenario))
        .service(web::resource("/api/replay").post(api::replay_upload))
        .service(web::resource("/metrics").get(api::prometheus))
        .default_service(web::to(api::not_found));
}

/// The address `--http` names: `PORT` and `:PORT` mean `127.0.0.1:PORT` (the view is
/// private unless asked otherwise), `HOST:PORT` as written.
pub fn parse_addr(text: &str) -> Result<String, String> {
    let text = text.trim();
    let port_only = text.strip_prefix(':').unwrap_or(text);
    if port_only.parse::<u16>().is_ok() {
        return Ok(format!("127.0.0.1:{port_only}"));
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(text.to_string()),
        _ => Err(format!("`{text}` is not an address: give PORT, :PORT or HOST:PORT (e.g. 127.0.0.1:8080)")),
    }
}

/// The running view.
pub struct WebServer {
    /// The address actually bound.
    pub addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
}

impl WebServer {
    /// Binds `addr` and serves the view on one thread of its own; must run inside an actix
    /// system. Signals are left to the caller.
    pub async fn start(addr: &str, state: WebState) -> std::io::Result<WebServer> {
        let state = web::Data::new(state);
        let server = HttpServer::new(move || App::new().app_data(state.clone()).configure(routes))
            .workers(1)
            .disable_signals()
            .shutdown_timeout(1)
            .bind(addr)?;
        let bound = server.addrs().first().copied().ok_or_else(|| std::io::Error::other("bound to no address"))?;
        let server = server.run();
        let handle = server.handle();
        actix_rt::spawn(server);
        Ok(WebServer { addr: bound, handle })
    }

    /// Stops serving (open event streams are cut).
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_default_to_loopback() {
        assert_eq!(parse_addr("8080").unwrap(), "127.0.0.1:8080");
        assert_eq!(parse_addr(":8080").unwrap(), "127.0.0.1:8080");
        assert_eq!(parse_addr("0.0.0.0:80").unwrap(), "0.0.0.0:80");
        assert_eq!(parse_addr("localhost:80").unwrap(), "localhost:80");
        assert!(parse_addr("eighty").unwrap_err().contains("HOST:PORT"));
        assert!(parse_addr("host:99999").is_err());
    }
}

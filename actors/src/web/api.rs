//! The JSON API the pages use (documented in the README). Every handler only reads: a game is
//! asked for snapshots ([`ViewSnapshot`]) and watched, never sent a request.
//!
//! Errors are JSON too, `{"error": "..."}`, with the status that fits: 400 for a malformed id,
//! 404 for an unknown game or scenario or when no tournament runs, 413 for an upload past the
//! limit, 422 for a file with no trajectory record, 503 when every replay slot is busy.

use super::feed::Feed;
use super::replay::{self, ReplayError, Scratch};
use super::{graph, metrics, sse, views, WebState};
use crate::game::messages::{GameView, ViewSnapshot};
use crate::registry::GameEntry;
use actix::Addr;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::io::Write;
use std::time::Duration;

/// How long a game may take to answer a snapshot before it is listed as unavailable.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(2);

pub fn error(status: StatusCode, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).json(json!({"error": message.into()}))
}

fn json_response(v: &Value) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(v)
}

async fn snapshot(entry: &GameEntry) -> Option<GameView> {
    tokio::time::timeout(SNAPSHOT_TIMEOUT, entry.coordinator.send(ViewSnapshot)).await.ok()?.ok()
}

/// A game by the id in the path, or the error to answer (boxed: a response is large).
fn game_of(state: &WebState, id: &str) -> Result<GameEntry, Box<HttpResponse>> {
    let id: u64 = id.parse().map_err(|_| {
        Box::new(error(StatusCode::BAD_REQUEST, format!("a game id is a number (see /api/games), not `{id}`")))
    })?;
    state.registry.get(id).ok_or_else(|| {
        Box::new(error(StatusCode::NOT_FOUND, format!("no game {id} runs here (see /api/games for the games that do)")))
    })
}

/// `GET /api/games`: every game with its task, episode and agents' views.
pub async fn games(state: web::Data<WebState>) -> HttpResponse {
    let entries = state.registry.list();
    let views = futures_util::future::join_all(entries.iter().map(snapshot)).await;
    let games: Vec<Value> = entries.iter().zip(&views).map(|(e, v)| views::game_json(e, v.as_ref())).collect();
    json_response(&json!({"games": games, "tournament": state.tournament.is_some()}))
}

/// `GET /api/games/{id}`: one game, with its graph and counters.
pub async fn game(state: web::Data<WebState>, id: web::Path<String>) -> HttpResponse {
    let entry = match game_of(&state, &id) {
        Ok(e) => e,
        Err(r) => return *r,
    };
    let view = snapshot(&entry).await;
    let mut v = views::game_json(&entry, view.as_ref());
    v["graph"] = graph::of_topology(&entry.task.topology, view.as_ref().and_then(|v| v.addresses.as_ref()));
    if let Some(m) = &entry.metrics {
        use crate::game::metrics::GameMetrics as M;
        v["counters"] = json!({
            "steps": M::get(&m.steps),
            "detections": M::get(&m.detections),
            "episodes": M::get(&m.agent_episodes),
            "bad_requests": M::get(&m.bad_requests),
            "connections": M::get(&m.connections),
        });
    }
    json_response(&v)
}

fn sse_response<S>(stream: S) -> HttpResponse
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, actix_web::Error>> + 'static,
{
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // Proxies such as nginx would otherwise hold the stream back.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream)
}

/// `GET /api/games/{id}/events`: the game's live updates (server-sent events).
pub async fn game_events(state: web::Data<WebState>, id: web::Path<String>) -> HttpResponse {
    let entry = match game_of(&state, &id) {
        Ok(e) => e,
        Err(r) => return *r,
    };
    let feed: Addr<Feed> = state.feeds.get_or_start(entry, &state.registry);
    let guard = sse::ViewerGuard::new(feed, state.viewers.clone());
    sse_response(sse::game(guard, state.config.tick))
}

/// `GET /api/tournament`: progress, running matches, leaderboard and matrix.
pub async fn tournament(state: web::Data<WebState>) -> HttpResponse {
    match &state.tournament {
        Some(t) => json_response(&serde_json::to_value(t.snapshot()).unwrap_or(Value::Null)),
        None => error(
            StatusCode::NOT_FOUND,
            "no tournament runs in this process (start one with `netsecgame tournament --http ...`)",
        ),
    }
}

/// `GET /api/tournament/events`: the tournament's live updates (server-sent events).
pub async fn tournament_events(state: web::Data<WebState>) -> HttpResponse {
    match &state.tournament {
        Some(t) => sse_response(sse::tournament(t.clone(), state.config.tick, state.viewers.clone())),
        None => error(StatusCode::NOT_FOUND, "no tournament runs in this process"),
    }
}

/// `GET /api/scenarios`: the embedded scenarios' names.
pub async fn scenarios() -> HttpResponse {
    let names: Vec<&str> = netsecgame::scenario::EMBEDDED.iter().map(|(n, _)| *n).collect();
    json_response(&json!({"scenarios": names}))
}

/// `GET /api/scenarios/{name}`: an embedded scenario's graph (names only: the view reads no
/// file from disk).
pub async fn scenario(name: web::Path<String>) -> HttpResponse {
    if !netsecgame::scenario::EMBEDDED.iter().any(|(n, _)| *n == name.as_str()) {
        return error(StatusCode::NOT_FOUND, format!("no embedded scenario `{name}` (see /api/scenarios)"));
    }
    match netsecgame::scenario::Topology::load(&name, None) {
        Ok(t) => json_response(&graph::of_topology(&t, None)),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn prometheus(state: web::Data<WebState>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(metrics::render(&state))
}

#[derive(serde::Deserialize)]
pub struct ReplayQuery {
    /// The file's name, for the summary.
    pub name: Option<String>,
}

/// `POST /api/replay?name=FILE`: the body is a trajectory file; the answer is its episodes,
/// the graph to draw them on, and its analysis.
pub async fn replay_upload(
    state: web::Data<WebState>,
    req: HttpRequest,
    query: web::Query<ReplayQuery>,
    mut body: web::Payload,
) -> HttpResponse {
    let limit = state.config.max_upload;
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return error(StatusCode::PAYLOAD_TOO_LARGE, ReplayError::TooLarge { limit }.to_string());
    }
    let Ok(_permit) = state.replays.clone().try_acquire_owned() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{} replays are being read; try again in a moment", replay::CONCURRENT),
        );
    };
    let scratch = match Scratch::new(query.name.as_deref()) {
        Ok(s) => s,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, ReplayError::Io(e).to_string()),
    };
    let mut file = match std::fs::File::create(&scratch.file) {
        Ok(f) => std::io::BufWriter::with_capacity(1 << 20, f),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, ReplayError::Io(e).to_string()),
    };
    let mut size = 0usize;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("the upload broke off: {e}")),
        };
        size += chunk.len();
        if size > limit {
            return error(StatusCode::PAYLOAD_TOO_LARGE, ReplayError::TooLarge { limit }.to_string());
        }
        // Small writes into the page cache (buffered): not worth a trip to the blocking pool.
        if let Err(e) = file.write_all(&chunk) {
            return error(StatusCode::INTERNAL_SERVER_ERROR, ReplayError::Io(e).to_string());
        }
    }
    if let Err(e) = file.flush() {
        return error(StatusCode::INTERNAL_SERVER_ERROR, ReplayError::Io(e).to_string());
    }
    drop(file);
    if size == 0 {
        return error(StatusCode::BAD_REQUEST, ReplayError::Empty.to_string());
    }
    let path = scratch.file.clone();
    // The worlds of the games here first, then the default task's.
    let mut preferred: Vec<String> = state.registry.list().into_iter().map(|e| e.scenario).collect();
    preferred.push(netsecgame::task::TaskConfig::default_task().topology.name.clone());
    // Reading and analysing is CPU work: off the thread that serves pages.
    let loaded = web::block(move || replay::load(&path, size as u64, &preferred)).await;
    drop(scratch);
    match loaded {
        Ok(Ok(v)) => json_response(&v),
        Ok(Err(ReplayError::NoRecords { problem, problems })) => HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY)
            .json(json!({"error": format!("no trajectory record in the file ({problem})"), "problems": problems})),
        Ok(Err(e @ ReplayError::Empty)) => error(StatusCode::BAD_REQUEST, e.to_string()),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("the replay could not be read: {e}")),
    }
}

/// Any other path: a JSON 404 under `/api/`, a short text elsewhere.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if req.path().starts_with("/api/") {
        error(StatusCode::NOT_FOUND, format!("no such endpoint: {} {}", req.method(), req.path()))
    } else {
        HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("Not found. The game view is at /.\n")
    }
}

//! The pages' files, compiled into the binary: the view works offline and needs nothing
//! next to the binary. Plain HTML, CSS and JavaScript, no build step and no third-party
//! library (the graph layout is ours), so there is nothing to vendor.

use actix_web::http::header;
use actix_web::HttpResponse;

/// (path under `/assets/`, content type, content)
const FILES: &[(&str, &str, &str)] = &[
    ("app.css", "text/css; charset=utf-8", include_str!("static/app.css")),
    ("common.js", "text/javascript; charset=utf-8", include_str!("static/common.js")),
    ("graph.js", "text/javascript; charset=utf-8", include_str!("static/graph.js")),
    ("game.js", "text/javascript; charset=utf-8", include_str!("static/game.js")),
    ("tournament.js", "text/javascript; charset=utf-8", include_str!("static/tournament.js")),
    ("replay.js", "text/javascript; charset=utf-8", include_str!("static/replay.js")),
    ("favicon.svg", "image/svg+xml", include_str!("static/favicon.svg")),
];

/// The pages, by route.
pub const GAME_PAGE: &str = include_str!("static/index.html");
pub const TOURNAMENT_PAGE: &str = include_str!("static/tournament.html");
pub const REPLAY_PAGE: &str = include_str!("static/replay.html");

/// A page. Pages are not cached, so a new binary's pages are seen at once.
pub fn page(html: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(html)
}

/// An asset by name, or None.
pub fn asset(name: &str) -> Option<HttpResponse> {
    let (_, kind, body) = FILES.iter().find(|(n, _, _)| *n == name)?;
    Some(
        HttpResponse::Ok()
            .content_type(*kind)
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(*body),
    )
}

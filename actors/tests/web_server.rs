//! The web view of the real binary: stalled viewers neither slow a game nor grow the
//! server, the view binds loopback unless told otherwise, and bad flags are refused.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn wait_for_web(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the web view did not listen on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A GET over a fresh connection: the whole answer as text.
fn get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn metric(port: u16, name: &str) -> f64 {
    let text = get(port, "/metrics");
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

/// Steps per second of one TCP agent playing for `secs`.
fn play(addr: std::net::SocketAddr, secs: f64) -> f64 {
    netsecgame_actors::bench::run_tcp(addr, 1, Duration::from_secs_f64(secs), 1).unwrap().steps_per_second()
}

#[test]
fn stalled_viewers_neither_slow_the_game_nor_grow_the_server() {
    let dir = scratch("web-stalled");
    let web = free_port();
    // Fast ticks, so the stalled streams fill their sockets within a second.
    let server = BinServer::start(
        &repo().join("tasks/default.yaml"),
        &dir,
        &["--http", &web.to_string(), "--http_tick_ms", "20"],
    );
    wait_for_web(web);
    let alone = play(server.addr(), 1.5);
    // Viewers that ask for the live stream and never read a byte of it.
    let stalled: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", web)).unwrap();
            s.write_all(b"GET /api/games/1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
            s
        })
        .collect();
    let rss_before = server.rss_kib();
    let addr = server.addr();
    let player = std::thread::spawn(move || play(addr, 4.0));
    std::thread::sleep(Duration::from_millis(2500));
    let updates_then = metric(web, "netsecgame_web_updates_total");
    std::thread::sleep(Duration::from_millis(1200));
    let updates_later = metric(web, "netsecgame_web_updates_total");
    let watched = player.join().unwrap();
    let rss_after = server.rss_kib();
    assert_eq!(metric(web, "netsecgame_web_viewers"), 8.0);
    // 8 streams at 50 updates a second would make 480 in 1.2 s; stalled ones are not asked.
    assert!(
        updates_later - updates_then < 48.0,
        "updates kept coming for stalled viewers: {updates_then} -> {updates_later}"
    );
    assert!(
        rss_after < rss_before + 48 * 1024,
        "the server grew from {rss_before} KiB to {rss_after} KiB with stalled viewers"
    );
    assert!(watched > alone * 0.4, "the game slowed down with stalled viewers: {alone:.0} -> {watched:.0} steps/s");
    // A viewer that reads gets the game as it is now.
    let mut s = TcpStream::connect(("127.0.0.1", web)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /api/games/1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 65536];
    while !String::from_utf8_lossy(&seen).contains("event: update") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the stream ended");
        seen.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&seen);
    assert!(head.starts_with("HTTP/1.1 200 OK") && head.contains("text/event-stream"), "{head}");
    drop(stalled);
}

#[test]
fn the_view_binds_loopback_by_default_and_bad_flags_are_refused() {
    let dir = scratch("web-flags");
    let web = free_port();
    let server = BinServer::start(&repo().join("tasks/default.yaml"), &dir, &["--http", &format!(":{web}")]);
    wait_for_web(web);
    let games = get(web, "/api/games");
    assert!(games.starts_with("HTTP/1.1 200 OK") && games.contains("\"games\""), "{games}");
    let log = std::fs::read_to_string(dir.join("logs").join(format!("netsecgame-{}.log", server.port))).unwrap();
    assert!(log.contains(&format!("web view on http://127.0.0.1:{web}/")), "{log}");
    drop(server);

    let out = bin().args(["--http", "eighty"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--http") && err.contains("HOST:PORT"), "{err}");
    // The view's port taken: the server says so and does not start.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = bin()
        .args(["--game_port", &free_port().to_string(), "--http", &port.to_string(), "--log_dir"])
        .arg(dir.join("logs2"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot serve the web view"), "{err}");
    let out = bin().args(["bench", "--http", "8080", "--agents", "1"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--in_process"));
}

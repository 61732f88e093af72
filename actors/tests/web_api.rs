//! The web view's handlers, on real games (the test kit's actors) and actix-web's test
//! server: the JSON API, the event stream, replays and `/metrics`, bad input included.

use actix_web::body::MessageBody;
use actix_web::http::StatusCode;
use actix_web::{test, web, App};
use netsecgame::action::Action;
use netsecgame::components::{ActionType, AgentRole, GameStatus, Ip, Service};
use netsecgame::game::GameSettings;
use netsecgame::task::TaskConfig;
use netsecgame_actors::registry::GameRegistry;
use netsecgame_actors::testkit::{TestAgent, TestGame};
use netsecgame_actors::tournament::live::LiveTournament;
use netsecgame_actors::web::{routes, WebConfig, WebState};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const ROUTER: Ip = Ip::v4(192, 168, 1, 1);
const SMB: Ip = Ip::v4(192, 168, 1, 2);

fn data_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/analyze").join(name)
}

/// The default task's game, keeping metrics, registered as game 1.
async fn game() -> (TestGame, GameRegistry) {
    let game = TestGame::with_metrics(GameSettings::new(Arc::new(TaskConfig::default_task())), 42).await;
    let registry = GameRegistry::new();
    assert_eq!(registry.register("test game".into(), Some(9000), &game.game), 1);
    (game, registry)
}

/// An attacker that scanned, found services and exploited the Samba server.
async fn attacker(game: &TestGame) -> TestAgent {
    let mut a = game.join("web_api", AgentRole::Attacker).await;
    assert_eq!(a.reply().await.unwrap().status(), GameStatus::CREATED);
    let service = Service::new("microsoft-ds", "passive", "10.0.19041", false);
    for action in [
        Action::scan_network(ROUTER, "192.168.1.0/24".parse().unwrap()),
        Action::find_services(ROUTER, SMB),
        Action::exploit_service(ROUTER, SMB, service),
    ] {
        assert_eq!(a.request(action).await.status(), GameStatus::OK);
    }
    a
}

fn state(registry: GameRegistry, tournament: Option<LiveTournament>, config: WebConfig) -> web::Data<WebState> {
    web::Data::new(WebState::new(registry, tournament, config))
}

macro_rules! app {
    ($state:expr) => {
        test::init_service(App::new().app_data($state.clone()).configure(routes)).await
    };
}

/// GET `path`: the status and the body as JSON (or as a JSON string when it is not JSON).
macro_rules! get_json {
    ($app:expr, $path:expr) => {{
        let resp = test::call_service(&$app, test::TestRequest::get().uri($path).to_request()).await;
        let status = resp.status();
        let body = test::read_body(resp).await;
        let v: Value =
            serde_json::from_slice(&body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
        (status, v)
    }};
}

#[actix_rt::test]
async fn games_are_listed_with_their_task_and_agents_views() {
    let (game, registry) = game().await;
    let _a = attacker(&game).await;
    let s = state(registry, None, WebConfig::default());
    let app = app!(s);
    let (status, v) = get_json!(app, "/api/games");
    assert_eq!(status, StatusCode::OK);
    let g = &v["games"][0];
    assert_eq!((g["id"].as_u64(), g["label"].as_str(), g["port"].as_u64()), (Some(1), Some("test game"), Some(9000)));
    assert_eq!(g["scenario"], "two_networks_tiny");
    assert_eq!(g["task"]["roles"]["Attacker"]["max_steps"], 50);
    assert_eq!(g["episode"], 0);
    let agent = &g["agents"][0];
    assert_eq!(
        (agent["name"].as_str(), agent["role"].as_str(), agent["steps"].as_u64()),
        (Some("web_api"), Some("Attacker"), Some(3))
    );
    let mut controlled: Vec<&str> =
        agent["view"]["controlled_hosts"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    controlled.sort_unstable();
    assert_eq!(controlled, ["192.168.1.1", "192.168.1.2", "213.47.23.195"]);
    assert_eq!(agent["view"]["services"]["192.168.1.2"].as_array().unwrap().len(), 2);

    let (status, one) = get_json!(app, "/api/games/1");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["agents"], g["agents"]);
    assert_eq!(one["graph"]["hosts"].as_array().unwrap().len(), 4);
    assert_eq!(one["graph"]["ips"]["192.168.1.2"], 0, "smb_server is host 0");
    assert_eq!(one["counters"]["steps"], 3);

    // Reading changed nothing in the game.
    let (_, again) = get_json!(app, "/api/games/1");
    assert_eq!(again["agents"], one["agents"]);
}

#[actix_rt::test]
async fn bad_requests_get_clear_json_errors() {
    let (_game, registry) = game().await;
    let s = state(registry, None, WebConfig::default());
    let app = app!(s);
    for (path, status, needle) in [
        ("/api/games/7", StatusCode::NOT_FOUND, "no game 7"),
        ("/api/games/seven", StatusCode::BAD_REQUEST, "is a number"),
        ("/api/games/99999999999999999999999", StatusCode::BAD_REQUEST, "is a number"),
        ("/api/games/7/events", StatusCode::NOT_FOUND, "no game 7"),
        ("/api/tournament", StatusCode::NOT_FOUND, "no tournament"),
        ("/api/tournament/events", StatusCode::NOT_FOUND, "no tournament"),
        ("/api/scenarios/nowhere", StatusCode::NOT_FOUND, "no embedded scenario"),
        ("/api/scenarios/..%2F..%2Fetc%2Fpasswd", StatusCode::NOT_FOUND, "no embedded scenario"),
        ("/api/nothing", StatusCode::NOT_FOUND, "no such endpoint"),
        ("/assets/../Cargo.toml", StatusCode::NOT_FOUND, ""),
    ] {
        let (got, v) = get_json!(app, path);
        assert_eq!(got, status, "{path}: {v}");
        assert!(v.to_string().contains(needle), "{path}: {v}");
    }
    // The view is read-only: no route takes a write but the replay upload.
    for path in ["/api/games", "/api/games/1", "/api/tournament", "/metrics"] {
        for req in [test::TestRequest::post(), test::TestRequest::put(), test::TestRequest::delete()] {
            let resp = test::call_service(&app, req.uri(path).to_request()).await;
            assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        }
    }
}

#[actix_rt::test]
async fn pages_and_assets_are_served_from_the_binary() {
    let s = state(GameRegistry::new(), None, WebConfig::default());
    let app = app!(s);
    for (path, kind, needle) in [
        ("/", "text/html", "/assets/game.js"),
        ("/tournament", "text/html", "/assets/tournament.js"),
        ("/replay", "text/html", "/assets/replay.js"),
        ("/assets/graph.js", "text/javascript", "NSG.Graph"),
        ("/assets/app.css", "text/css", "--attacker"),
    ] {
        let resp = test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert!(resp.headers().get("content-type").unwrap().to_str().unwrap().starts_with(kind), "{path}");
        let body = String::from_utf8(test::read_body(resp).await.to_vec()).unwrap();
        assert!(body.contains(needle), "{path}");
        // Offline: nothing is fetched from elsewhere (the SVG namespace is a name, not a fetch).
        let elsewhere = body.replace("http://www.w3.org/2000/svg", "");
        assert!(!elsewhere.contains("http://") && !elsewhere.contains("https://"), "{path} refers to another host");
    }
    let (_, v) = get_json!(app, "/api/scenarios");
    assert_eq!(v["scenarios"].as_array().unwrap().len(), netsecgame::scenario::EMBEDDED.len());
    let (status, g) = get_json!(app, "/api/scenarios/two_networks_tiny");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(g["networks"].as_array().unwrap().len(), 3);
}

/// The next chunk of a streaming body, within `timeout`.
async fn next_chunk(body: &mut actix_web::body::BoxBody, timeout: Duration) -> Option<String> {
    let chunk = tokio::time::timeout(timeout, std::future::poll_fn(|cx| std::pin::Pin::new(&mut *body).poll_next(cx)))
        .await
        .ok()??;
    Some(String::from_utf8(chunk.ok()?.to_vec()).unwrap())
}

fn event_data(chunk: &str) -> Value {
    let data = chunk.lines().find_map(|l| l.strip_prefix("data: ")).unwrap_or_else(|| panic!("no data: {chunk}"));
    serde_json::from_str(data).unwrap()
}

#[actix_rt::test]
async fn the_event_stream_pushes_the_game_as_it_is_played() {
    let (game, registry) = game().await;
    let mut a = attacker(&game).await;
    let config = WebConfig { tick: Duration::from_millis(20), ..WebConfig::default() };
    let s = state(registry, None, config);
    let app = app!(s);
    let resp = test::call_service(&app, test::TestRequest::get().uri("/api/games/1/events").to_request()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers().get("content-type").unwrap(), "text/event-stream");
    let mut body = resp.into_body();
    // The first update has everything: the game, its graph, its agents.
    let first = next_chunk(&mut body, Duration::from_secs(5)).await.expect("a first update");
    assert!(first.starts_with("event: update\n"), "{first}");
    let mut u = event_data(&first);
    assert_eq!(u["full"], true);
    assert_eq!(u["game"]["label"], "test game");
    assert_eq!(u["graph"]["hosts"].as_array().unwrap().len(), 4);
    // The agent's state may come with the feed's first snapshot, a tick later.
    while u["agents"].as_array().unwrap().is_empty() {
        u = event_data(&next_chunk(&mut body, Duration::from_secs(5)).await.expect("the snapshot"));
    }
    assert_eq!(u["agents"][0]["name"], "web_api");
    assert_eq!(s.viewers.load(std::sync::atomic::Ordering::Relaxed), 1);

    // A step now arrives as a log line with the agent's new state.
    let find_data = Action::new(
        ActionType::FindData,
        vec![netsecgame::action::Param::SourceHost(SMB), netsecgame::action::Param::TargetHost(SMB)],
    );
    assert_eq!(a.request(find_data).await.status(), GameStatus::OK);
    let step = loop {
        let u = event_data(&next_chunk(&mut body, Duration::from_secs(5)).await.expect("an update"));
        if let Some(line) = u["log"].as_array().unwrap().iter().find(|l| l["kind"] == "step") {
            break (u.clone(), line.clone());
        }
    };
    let (u, line) = step;
    assert_eq!(line["text"], "find data on 192.168.1.2 from 192.168.1.2");
    assert_eq!(
        (line["name"].as_str(), line["reward"].as_f64(), line["step"].as_u64()),
        (Some("web_api"), Some(-1.0), Some(4))
    );
    assert_eq!(line["action"]["params"]["target_host"], "192.168.1.2");
    assert_eq!(u["full"], false);
    assert!(u.get("graph").is_none(), "the graph is sent once");
    assert_eq!(u["game_steps"], 4);
    let data = &u["agents"][0]["view"]["data"]["192.168.1.2"];
    assert!(data.as_array().unwrap().iter().any(|d| d["id"] == "DataFromServer1"), "{data}");
    // A bad request shows in the log too.
    let bad = Action::new(ActionType::ExploitService, vec![]);
    assert_eq!(a.request(bad).await.status(), GameStatus::BAD_REQUEST);
    loop {
        let u = event_data(&next_chunk(&mut body, Duration::from_secs(5)).await.expect("an update"));
        if u["log"].as_array().unwrap().iter().any(|l| l["kind"] == "bad_request") {
            break;
        }
    }
    drop(body);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(s.viewers.load(std::sync::atomic::Ordering::Relaxed), 0, "the viewer is gone with its stream");
}

#[actix_rt::test]
async fn a_stream_that_falls_behind_gets_one_update_not_a_backlog() {
    let (game, registry) = game().await;
    let mut a = attacker(&game).await;
    let config = WebConfig { tick: Duration::from_millis(10), ..WebConfig::default() };
    let s = state(registry, None, config);
    let app = app!(s);
    let resp = test::call_service(&app, test::TestRequest::get().uri("/api/games/1/events").to_request()).await;
    let mut body = resp.into_body();
    let mut u = event_data(&next_chunk(&mut body, Duration::from_secs(5)).await.unwrap());
    while u["agents"].as_array().unwrap().is_empty() {
        u = event_data(&next_chunk(&mut body, Duration::from_secs(5)).await.unwrap());
    }
    // 600 steps while the viewer reads nothing (episodes of 50 steps, then resets).
    let scan = Action::scan_network(ROUTER, "192.168.1.0/24".parse().unwrap());
    let mut steps = 0;
    while steps < 600 {
        let reply = a.request(scan.clone()).await;
        steps += 1;
        if let netsecgame::protocol::Reply::Step { end: true, .. } = reply {
            a.request(Action::reset_game(Default::default())).await;
        }
    }
    game.settle().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // One update: the newest lines (at most a page of them) and how many were skipped.
    let u = event_data(&next_chunk(&mut body, Duration::from_secs(5)).await.unwrap());
    let lines = u["log"].as_array().unwrap();
    assert!(lines.len() <= netsecgame_actors::web::feed::LINES_PER_UPDATE, "{}", lines.len());
    assert!(u["skipped"].as_u64().unwrap() > 300, "{}", u["skipped"]);
    assert_eq!(u["game_steps"].as_u64(), Some(603));
    // And nothing older is waiting behind it.
    let next = next_chunk(&mut body, Duration::from_millis(300)).await;
    assert!(next.as_deref().is_none_or(|c| c.starts_with(':')), "{next:?}");
}

#[actix_rt::test]
async fn metrics_are_prometheus_text_with_every_series() {
    let (game, registry) = game().await;
    let mut a = attacker(&game).await;
    assert_eq!(a.request(Action::new(ActionType::ScanNetwork, vec![])).await.status(), GameStatus::BAD_REQUEST);
    let s = state(registry.clone(), None, WebConfig::default());
    let app = app!(s);
    let resp = test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get("content-type").unwrap().to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = String::from_utf8(test::read_body(resp).await.to_vec()).unwrap();
    let mut samples = std::collections::BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            assert!(rest.starts_with("HELP ") || rest.starts_with("TYPE "), "{line}");
            continue;
        }
        let (name, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number: {line}"));
        samples.insert(name.to_string(), value);
    }
    let labels = r#"game="1",label="test game",scenario="two_networks_tiny""#;
    for (name, want) in [
        ("netsecgame_games".to_string(), 1.0),
        ("netsecgame_steps_total".into(), 3.0),
        ("netsecgame_bad_requests_total".into(), 1.0),
        ("netsecgame_connected_agents".into(), 1.0),
        ("netsecgame_step_latency_seconds_count".into(), 3.0),
        (r#"netsecgame_step_latency_seconds_bucket{le="+Inf"}"#.into(), 3.0),
        (format!("netsecgame_game_steps_total{{{labels}}}"), 3.0),
        (format!("netsecgame_game_bad_requests_total{{{labels}}}"), 1.0),
        (format!("netsecgame_game_connected_agents{{{labels}}}"), 1.0),
        (format!("netsecgame_game_episode{{{labels}}}"), 0.0),
        (format!(r#"netsecgame_game_step_latency_seconds_bucket{{{labels},le="+Inf"}}"#), 3.0),
        ("netsecgame_web_viewers".into(), 0.0),
    ] {
        assert_eq!(samples.get(&name), Some(&want), "{name} in\n{text}");
    }
    // Buckets are cumulative.
    let buckets: Vec<f64> = samples
        .iter()
        .filter(|(k, _)| k.starts_with("netsecgame_step_latency_seconds_bucket"))
        .map(|(_, v)| *v)
        .collect();
    assert!(buckets.len() > 10);
    assert!(text.contains("# TYPE netsecgame_step_latency_seconds histogram"));

    // A game that ends leaves its counters in the totals.
    registry.remove(1);
    let resp = test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    let text = String::from_utf8(test::read_body(resp).await.to_vec()).unwrap();
    assert!(text.contains("\nnetsecgame_steps_total 3\n"), "{text}");
    assert!(text.contains("\nnetsecgame_games 0\n"));
    assert!(!text.contains("netsecgame_game_steps_total{"));
}

#[actix_rt::test]
async fn the_tournament_is_served_while_it_runs() {
    let live = LiveTournament::new(GameRegistry::new());
    let s = state(
        live.registry.clone(),
        Some(live.clone()),
        WebConfig { tick: Duration::from_millis(10), ..WebConfig::default() },
    );
    let app = app!(s);
    let (status, v) = get_json!(app, "/api/tournament");
    assert_eq!(status, StatusCode::OK);
    assert_eq!((v["played"].as_u64(), v["finished"].as_bool()), (Some(0), Some(false)));
    let resp = test::call_service(&app, test::TestRequest::get().uri("/api/tournament/events").to_request()).await;
    let mut body = resp.into_body();
    let first = event_data(&next_chunk(&mut body, Duration::from_secs(5)).await.unwrap());
    assert_eq!(first["version"], v["version"]);
    // A real (tiny) tournament run into the same live state: the stream follows it.
    let dir = std::env::temp_dir().join(format!("nsg-web-api-tournament-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = dir.join("t.yaml");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        &config,
        "episodes: 3\nseeds: [1]\nentrants:\n  - {name: scripted, role: Attacker, builtin: scripted_attacker}\n  - {name: random, role: Attacker, builtin: random_attacker}\n",
    )
    .unwrap();
    let t = netsecgame_actors::tournament::Tournament::load(&config).unwrap();
    let options = netsecgame_actors::tournament::RunOptions {
        store: dir.join("t.sqlite"),
        out: dir.join("out"),
        shard: netsecgame_actors::tournament::Shard::WHOLE,
        parallel: Some(1),
        quiet: true,
        live: Some(live.clone()),
    };
    let summary = netsecgame_actors::tournament::run(t, &options).await.unwrap();
    assert_eq!(summary.played, 2);
    let last = loop {
        let u = event_data(&next_chunk(&mut body, Duration::from_secs(5)).await.unwrap());
        if u["finished"] == true {
            break u;
        }
    };
    assert_eq!(
        (last["total"].as_u64(), last["played"].as_u64(), last["episodes"].as_u64()),
        (Some(2), Some(2), Some(6))
    );
    let standings = last["results"]["standings"].as_array().unwrap();
    assert_eq!(standings.len(), 2);
    assert_eq!(last["recent"].as_array().unwrap().len(), 2);
    assert!(live.registry.is_empty(), "each match's game left the registry when it ended");
    assert_eq!(live.registry.registered(), 2, "and each was registered while it ran");
    let _ = std::fs::remove_dir_all(&dir);
}

/// POST a file to `/api/replay`: the status and the JSON answer.
macro_rules! upload {
    ($app:expr, $name:expr, $body:expr) => {{
        let req = test::TestRequest::post().uri(&format!("/api/replay?name={}", $name)).set_payload($body).to_request();
        let resp = test::call_service(&$app, req).await;
        let status = resp.status();
        let v: Value = serde_json::from_slice(&test::read_body(resp).await).unwrap();
        (status, v)
    }};
}

#[actix_rt::test]
async fn replays_read_trajectory_files_and_refuse_bad_ones() {
    let s = state(GameRegistry::new(), None, WebConfig { max_upload: 2 << 20, ..WebConfig::default() });
    let app = app!(s);
    let upstream = std::fs::read(data_file("upstream_two_networks_tiny.jsonl")).unwrap();
    let (status, v) = upload!(app, "upstream.jsonl", upstream);
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(v["records"].as_u64().unwrap() > 0);
    assert_eq!(v["bad_lines"], 0, "upstream's file reads whole: {}", v["problems"]);
    let ours = std::fs::read(data_file("ours_two_networks_tiny.jsonl")).unwrap();
    let (status, v) = upload!(app, "ours.jsonl", ours.clone());
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["name"], "ours.jsonl");
    assert_eq!(v["graph"]["scenario"], "two_networks_tiny");
    let e = &v["episodes"][0];
    assert_eq!(e["states"].as_array().unwrap().len(), e["steps"].as_u64().unwrap() as usize + 1);
    assert!(v["analysis"]["text"].as_str().unwrap().contains("ours.jsonl"), "the summary names the file");
    assert_eq!(v["analysis"]["summary"]["records"], v["records"]);

    // Bad input: clear errors, never a crash.
    let (status, v) = upload!(app, "empty.jsonl", Vec::new());
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"].as_str().unwrap().contains("empty"));
    let (status, v) = upload!(app, "junk.bin", vec![0xff, 0xfe, b'\n', b'{', b'\n']);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["error"].as_str().unwrap().contains("no trajectory record"), "{v}");
    assert_eq!(v["problems"].as_array().unwrap().len(), 2);
    let (status, v) = upload!(app, "huge.jsonl", vec![b' '; (2 << 20) + 1]);
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert!(v["error"].as_str().unwrap().contains("--http_max_upload"), "{v}");
    // Every replay slot busy: come back later.
    let held: Vec<_> = (0..netsecgame_actors::web::replay::CONCURRENT)
        .map(|_| s.replays.clone().try_acquire_owned().unwrap())
        .collect();
    let (status, v) = upload!(app, "ours.jsonl", ours);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    drop(held);
}

#[actix_rt::test]
async fn a_world_that_moves_its_addresses_is_drawn_with_the_new_ones() {
    let mut task = TaskConfig::default_task();
    task.use_dynamic_addresses = true;
    let game = TestGame::with_metrics(GameSettings::new(Arc::new(task)), 42).await;
    let registry = GameRegistry::new();
    registry.register("moving".into(), None, &game.game);
    let mut a = game.join("mover", AgentRole::Attacker).await;
    assert_eq!(a.reply().await.unwrap().status(), GameStatus::CREATED);
    let s = state(registry, None, WebConfig { tick: Duration::from_millis(10), ..WebConfig::default() });
    let app = app!(s);
    let (_, before) = get_json!(app, "/api/games/1");
    assert_eq!(before["graph"]["ips"]["192.168.1.2"], 0, "the scenario's own addresses");
    let resp = test::call_service(&app, test::TestRequest::get().uri("/api/games/1/events").to_request()).await;
    let mut body = resp.into_body();
    let first = event_data(&next_chunk(&mut body, Duration::from_secs(5)).await.unwrap());
    assert!(first["graph"].is_object());
    // A reset with a seed and a topology change moves every address.
    let reset = Action::reset_game(netsecgame::action::ResetOptions {
        request_trajectory: false,
        randomize_topology: true,
        seed: Some(7),
    });
    assert_eq!(a.request(reset).await.status(), GameStatus::RESET_DONE);
    let (_, after) = get_json!(app, "/api/games/1");
    assert!(after["graph"]["ips"].get("192.168.1.2").is_none(), "{}", after["graph"]["ips"]);
    let controlled = after["agents"][0]["view"]["controlled_hosts"].as_array().unwrap().clone();
    for ip in &controlled {
        assert!(after["graph"]["ips"].get(ip.as_str().unwrap()).is_some(), "{ip} is on the graph");
    }
    // The page is sent the new graph.
    let graph = loop {
        let u = event_data(&next_chunk(&mut body, Duration::from_secs(5)).await.expect("an update"));
        if u["graph"].is_object() {
            break u["graph"].clone();
        }
    };
    assert_eq!(graph["ips"], after["graph"]["ips"]);
}

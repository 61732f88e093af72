//! One game's real actors, in-process agents and the test kit: no ports, no sleeps.

use netsecgame::action::{Action, ResetOptions};
use netsecgame::agents::{Agent, BuiltinAgent, EpisodeInfo, Observation, RandomAgent, ScriptedAttacker};
use netsecgame::components::{AgentRole, AgentStatus, GameStatus, Ip, Network};
use netsecgame::game::{EpisodeEnd, GameSettings};
use netsecgame::protocol::Reply;
use netsecgame::task::TaskConfig;
use netsecgame_actors::agents::{play_remote, PlayPlan, Reports};
use netsecgame_actors::game::messages::ToSession;
use netsecgame_actors::testkit::{AgentEvent, TestGame};
use std::sync::{Arc, Mutex};

fn task(required: usize, attacker_steps: u64, extra_env: &str) -> Arc<TaskConfig> {
    let yaml = format!(
        r#"env:
  scenario: two_networks_tiny
  required_players: {required}
  save_trajectories: true
  rewards: {{success: 100, step: -1, fail: -10, false_positive: -5}}
{extra_env}coordinator:
  agents:
    Attacker:
      max_steps: {attacker_steps}
      goal:
        description: "Exfiltrate DataFromServer1 to 213.47.23.195"
        known_data: {{213.47.23.195: [[User1, DataFromServer1]]}}
      start_position:
        controlled_hosts: [213.47.23.195, 192.168.2.2]
    Defender:
      goal:
        description: "Block all attackers"
        known_blocks: {{213.47.23.195: all_attackers}}
      start_position:
        controlled_hosts: [all_local]
"#
    );
    Arc::new(TaskConfig::from_yaml(&yaml, "actors-test.yaml", None).expect("valid task"))
}

fn scan() -> Action {
    Action::scan_network(Ip::v4(192, 168, 2, 2), "192.168.1.0/24".parse::<Network>().unwrap())
}

/// Waits until every agent spawned on `rx` stopped; returns (episodes seen, errors).
async fn wait_stopped(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<AgentEvent>,
    agents: usize,
) -> (Vec<netsecgame_actors::agents::EpisodeSeen>, Vec<String>) {
    let (mut seen, mut errors, mut stopped) = (vec![], vec![], 0);
    while stopped < agents {
        match rx.recv().await.expect("agents report") {
            AgentEvent::Episode(e) => seen.push(e),
            AgentEvent::Stopped(s) => {
                stopped += 1;
                errors.extend(s.error);
            }
        }
    }
    (seen, errors)
}

#[actix_rt::test]
async fn barriers_are_observable_without_timers() {
    let game = TestGame::start(task(2, 10, "")).await;
    let mut a = game.join("a", AgentRole::Attacker).await;
    assert!(a.reply().await.is_none(), "A waits at the start barrier");
    let mut b = game.join("b", AgentRole::Attacker).await;
    assert_eq!(b.reply().await.unwrap().status(), GameStatus::CREATED);
    assert_eq!(a.reply().await.unwrap().status(), GameStatus::CREATED);
    a.send(Action::reset_game(ResetOptions::default()));
    assert!(a.reply().await.is_none(), "A waits at the reset barrier");
    b.leave();
    assert!(matches!(b.message().await, Some(ToSession::Close)));
    // B's departure releases the reset barrier, but one player is not enough to start.
    assert!(a.reply().await.is_none(), "RESET_DONE waits at the start barrier");
    let mut c = game.join("c", AgentRole::Attacker).await;
    assert_eq!(c.reply().await.unwrap().status(), GameStatus::CREATED);
    assert_eq!(a.reply().await.unwrap().status(), GameStatus::RESET_DONE);
}

#[actix_rt::test]
async fn in_process_agents_play_through_the_same_rules() {
    let mut game = TestGame::start(task(2, 30, "")).await;
    let mut rx = game.spawn_agent(BuiltinAgent::ScriptedAttacker.create(1), PlayPlan::new("scripted", 5));
    let mut rx2 = game.spawn_agent(BuiltinAgent::LogDefender.create(2), PlayPlan::new("logdef", 5));
    let (seen, errors) = wait_stopped(&mut rx, 1).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(seen.len(), 5);
    let (seen2, errors2) = wait_stopped(&mut rx2, 1).await;
    assert!(errors2.is_empty(), "{errors2:?}");
    assert_eq!(seen2.len(), 5);
    // The referee's own records agree with what the agents saw.
    let records = game.records().await;
    let attacker: Vec<_> = records.iter().filter(|r| r.name == "scripted").collect();
    assert_eq!(attacker.len(), 5);
    for (r, s) in attacker.iter().zip(seen.iter()) {
        assert_eq!(r.steps, s.steps);
        assert_eq!(r.episode_return, s.episode_return);
        assert_eq!(r.end, EpisodeEnd::Finished(s.end_reason.expect("an end reason")));
    }
    assert!(records.iter().any(|r| r.name == "logdef" && r.blocks > 0), "the log defender blocks");
}

#[actix_rt::test]
async fn trajectories_reach_the_recorder_at_quit_disconnect_and_shutdown() {
    let game = TestGame::start(task(3, 2, "")).await;
    let mut a = game.join("a", AgentRole::Attacker).await;
    let mut b = game.join("b", AgentRole::Attacker).await;
    let mut c = game.join("c", AgentRole::Attacker).await;
    for x in [&mut a, &mut b, &mut c] {
        assert_eq!(x.reply().await.unwrap().status(), GameStatus::CREATED);
    }
    for x in [&mut a, &mut b, &mut c] {
        assert_eq!(x.request(scan()).await.status(), GameStatus::OK);
    }
    // A ends its episode and waits at the barrier with its final action.
    a.send(scan());
    assert!(a.reply().await.is_none());
    assert!(matches!(b.request(Action::quit_game()).await, Reply::QuitAck));
    c.leave();
    // C's departure ends nothing for A: A still waits for... nobody: it is released.
    assert!(a.reply().await.is_some(), "with B and C gone, A's final reply goes out");
    let lines = game.trajectories().await;
    let names: Vec<&str> = lines.iter().map(|l| l["agent_name"].as_str().unwrap()).collect();
    assert!(names.contains(&"b") && names.contains(&"c"), "{names:?}");
    // A's episode is still open (no reset yet): shutdown writes it, final action included.
    assert_eq!(game.shutdown().await, 1);
    let lines = game.trajectories().await;
    let a_line = lines.iter().find(|l| l["agent_name"] == "a").expect("A's trajectory is written at shutdown");
    assert_eq!(a_line["trajectory"]["actions"].as_array().unwrap().len(), 2);
    assert_eq!(a_line["end_reason"], "AgentStatus.TimeoutReached");
}

#[actix_rt::test]
async fn shutdown_writes_every_open_episode_of_every_agent() {
    let game = TestGame::start(task(2, 5, "")).await;
    let mut a = game.join("a", AgentRole::Attacker).await;
    let mut d = game.join("d", AgentRole::Defender).await;
    a.reply().await.unwrap();
    d.reply().await.unwrap();
    a.request(scan()).await;
    d.request(Action::find_data(Ip::v4(192, 168, 1, 2), Ip::v4(192, 168, 1, 2))).await;
    assert_eq!(game.shutdown().await, 2);
    let names: Vec<String> =
        game.trajectories().await.iter().map(|l| l["agent_name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[actix_rt::test]
async fn detections_by_the_global_defender_are_in_the_records() {
    let mut game = TestGame::start(task(1, 0, "  use_global_defender: true\n")).await;
    let mut a = game.join("spammer", AgentRole::Attacker).await;
    a.reply().await.unwrap();
    let mut steps = 0;
    loop {
        steps += 1;
        let Reply::Step { end, info, .. } = a.request(scan()).await else { panic!() };
        if end {
            assert_eq!(info.end_reason, Some(AgentStatus::Fail));
            break;
        }
        assert!(steps < 2000);
    }
    let r = game.records().await;
    assert_eq!(r.len(), 1);
    assert!(r[0].detected);
    assert_eq!(r[0].steps, steps);
}

/// Wraps an agent and keeps every observation it is given, in order.
struct Recording<A> {
    agent: A,
    seen: Arc<Mutex<Vec<String>>>,
}

impl<A: Agent> Agent for Recording<A> {
    fn role(&self) -> AgentRole {
        self.agent.role()
    }
    fn episode_start(&mut self, obs: &Observation, info: &EpisodeInfo) {
        self.seen.lock().unwrap().push(format!(
            "start {} {}",
            netsecgame::pyjson::to_py_json(&*obs.state),
            info.goal_description
        ));
        self.agent.episode_start(obs, info);
    }
    fn act(&mut self, obs: &Observation) -> netsecgame::action::Action {
        let action = self.agent.act(obs);
        self.seen.lock().unwrap().push(format!(
            "{} {} {} {:?} -> {}",
            netsecgame::pyjson::to_py_json(&*obs.state),
            obs.reward,
            obs.end,
            obs.end_reason,
            action
        ));
        action
    }
    fn episode_end(&mut self, obs: &Observation) {
        self.seen.lock().unwrap().push(format!(
            "end {} {} {:?}",
            netsecgame::pyjson::to_py_json(&*obs.state),
            obs.reward,
            obs.end_reason
        ));
    }
}

/// The same seeded agent against the same seeded game sees exactly the same observations
/// in-process and over TCP.
#[test]
fn in_process_and_tcp_episodes_are_identical() {
    let task = task(1, 40, "  use_global_defender: true\n");
    for (kind, seed) in [(BuiltinAgent::RandomAttacker, 3u64), (BuiltinAgent::ScriptedAttacker, 4)] {
        let in_process = Arc::new(Mutex::new(Vec::new()));
        {
            let seen = in_process.clone();
            let task = task.clone();
            actix_rt::System::new().block_on(async move {
                let game = TestGame::with_settings(GameSettings::new(task), 7).await;
                let agent = Recording { agent: kind.create(seed), seen };
                let mut rx = game.spawn_agent(agent, PlayPlan::new("twin", 6));
                let (_, errors) = wait_stopped(&mut rx, 1).await;
                assert!(errors.is_empty(), "{errors:?}");
            });
        }
        let over_tcp = Arc::new(Mutex::new(Vec::new()));
        {
            let mut settings = GameSettings::new(task.clone());
            settings.max_agents = 4;
            let config = netsecgame_actors::server::ServerConfig::new(
                "127.0.0.1:0",
                netsecgame_actors::game::GameConfig::new(settings, 7, std::env::temp_dir().join("nsg-twin")),
            );
            let server = netsecgame_actors::server::ServerHandle::spawn(config).unwrap();
            let mut agent = Recording { agent: kind.create(seed), seen: over_tcp.clone() };
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let played = rt
                .block_on(play_remote(&mut agent, server.addr, &PlayPlan::new("twin", 6), &Reports::default()))
                .unwrap();
            assert_eq!(played, 6);
        }
        let (a, b) = (in_process.lock().unwrap(), over_tcp.lock().unwrap());
        assert!(a.len() > 12, "{kind:?}: {} observations", a.len());
        assert_eq!(a.len(), b.len(), "{kind:?}");
        for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
            assert_eq!(x, y, "{kind:?}: observation {i} differs");
        }
    }
}

#[test]
fn hundreds_of_games_play_concurrently_on_all_cores() {
    actix_rt::System::new().block_on(async {
        let mut task = netsecgame_actors::bench::in_process_task("two_networks_tiny").unwrap();
        task.attacker.max_steps = Some(20);
        task.defender.max_steps = Some(20);
        let report =
            netsecgame_actors::bench::run_in_process(task, 300, 2, std::time::Duration::from_millis(1500), None).await;
        assert!(report.episodes >= 300, "{}", report.summary());
    });
}

#[actix_rt::test]
async fn a_random_attacker_plays_with_masks_it_computes_itself() {
    // A RandomAgent never sends an action outside its valid list: every step is OK.
    let game = TestGame::start(task(1, 50, "")).await;
    let mut probe = game.join("probe", AgentRole::Attacker).await;
    let Reply::Created { state, .. } = probe.reply().await.unwrap() else { panic!() };
    let mut agent = RandomAgent::attacker(9);
    let mut obs = Observation { state, reward: 0.0, end: false, end_reason: None };
    for _ in 0..50 {
        let action = agent.act(&obs);
        assert!(netsecgame::agents::valid_actions(&obs.state, false).contains(&action));
        let reply = probe.request(action).await;
        obs = Observation::of_reply(&reply).unwrap();
        if obs.end {
            break;
        }
    }
    let _ = ScriptedAttacker::new(0);
}

/// A watcher that takes a long time over each batch of events, on a thread of its own.
struct SlowWatcher {
    seqs: Arc<Mutex<Vec<u64>>>,
}

impl actix::Actor for SlowWatcher {
    type Context = actix::Context<Self>;
    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(1);
    }
}

impl actix::Handler<netsecgame_actors::game::messages::WatchBatch> for SlowWatcher {
    type Result = ();
    fn handle(&mut self, batch: netsecgame_actors::game::messages::WatchBatch, _: &mut Self::Context) {
        self.seqs.lock().unwrap().extend(batch.0.iter().map(|w| w.seq));
        std::thread::sleep(std::time::Duration::from_millis(150));
    }
}

#[actix_rt::test]
async fn a_slow_watcher_loses_events_but_never_holds_up_the_game() {
    use actix::Actor;
    let game = TestGame::with_metrics(GameSettings::new(task(1, 50, "")), 42).await;
    let seqs = Arc::new(Mutex::new(Vec::new()));
    let arbiter = actix::Arbiter::new();
    let s = seqs.clone();
    let watcher = SlowWatcher::start_in_arbiter(&arbiter.handle(), move |_| SlowWatcher { seqs: s });
    game.game.watch(watcher.recipient());
    let mut a = game.join("fast", AgentRole::Attacker).await;
    assert_eq!(a.reply().await.unwrap().status(), GameStatus::CREATED);
    let started = std::time::Instant::now();
    let scan = Action::scan_network(Ip::v4(192, 168, 2, 2), "192.168.1.0/24".parse::<Network>().unwrap());
    // For 1.5 s, as fast as the game answers: a batch every 20 ms, which the watcher would
    // take 150 ms over.
    let mut steps = 0;
    while started.elapsed() < std::time::Duration::from_millis(1500) {
        steps += 1;
        if let Reply::Step { end: true, .. } = a.request(scan.clone()).await {
            a.request(Action::reset_game(ResetOptions::default())).await;
        }
    }
    assert!(steps > 5000, "the game waited for its watcher: {steps} steps in 1.5 s");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let seqs = seqs.lock().unwrap().clone();
    let metrics = game.game.metrics.clone().unwrap();
    let dropped = netsecgame_actors::game::metrics::GameMetrics::get(&metrics.watch_dropped);
    assert!(dropped > 0, "a watcher this slow loses events");
    assert!(!seqs.is_empty(), "it got some");
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order, numbered: it can tell what it missed");
    let last = *seqs.last().unwrap();
    assert!(last - seqs.len() as u64 >= dropped / 2, "the gaps in the numbers account for the losses");
    arbiter.stop();
}

//! The multi-agent rules on the referee itself, with no runtime: barriers, consensus, leaving,
//! rewards, records and trajectories. "Held back" is "no reply in the output", checked on
//! the spot, with no timers.

use netsecgame::action::{Action, ResetOptions};
use netsecgame::components::{AgentRole, AgentStatus, GameStatus, Ip, Network, Reward};
use netsecgame::game::{Effect, EpisodeEnd, EpisodeRecord, GameSettings, LocalGame, StepRecord};
use netsecgame::protocol::Reply;
use netsecgame::task::TaskConfig;
use netsecgame::trajectory::Trajectory;
use netsecgame::world::AgentId;
use std::sync::Arc;

/// `two_networks_tiny`; attackers start on the C&C host and the client; defenders control every
/// private IP.
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
    Arc::new(TaskConfig::from_yaml(&yaml, "rules-test.yaml", None).expect("valid task"))
}

const CLIENT: Ip = Ip::v4(192, 168, 2, 2);
const SERVER: Ip = Ip::v4(192, 168, 1, 2);
const CC: Ip = Ip::v4(213, 47, 23, 195);

fn scan() -> Action {
    Action::scan_network(CLIENT, "192.168.1.0/24".parse::<Network>().unwrap())
}

fn reset(seed: Option<i64>, randomize_topology: bool, request_trajectory: bool) -> Action {
    Action::reset_game(ResetOptions { request_trajectory, randomize_topology, seed })
}

/// A game and everything it said so far that the test has not looked at yet.
struct Game {
    game: LocalGame,
    replies: Vec<(AgentId, Reply)>,
    closed: Vec<AgentId>,
    trajectories: Vec<Arc<Trajectory>>,
    records: Vec<EpisodeRecord>,
    steps: Vec<StepRecord>,
}

impl Game {
    fn new(task: Arc<TaskConfig>) -> Game {
        Game {
            game: LocalGame::new(GameSettings::new(task), 42),
            replies: vec![],
            closed: vec![],
            trajectories: vec![],
            records: vec![],
            steps: vec![],
        }
    }

    fn absorb(&mut self, effects: Vec<Effect>) {
        for e in effects {
            match e {
                Effect::Reply { to, reply } => self.replies.push((to, reply)),
                Effect::Close { id } => self.closed.push(id),
                Effect::Record(t) => self.trajectories.push(t),
                Effect::EpisodeEnded(r) => self.records.push(r),
                Effect::StepDone(s) => self.steps.push(s),
                Effect::AgentJoined { .. } | Effect::AgentLeft { .. } => {}
                Effect::World(_) | Effect::Defender(_) => unreachable!("LocalGame carries these out"),
            }
        }
    }

    fn connect(&mut self) -> AgentId {
        self.game.connect("test").unwrap()
    }

    fn send(&mut self, id: AgentId, action: Action) {
        let effects = self.game.request(id, action);
        self.absorb(effects);
    }

    fn leave(&mut self, id: AgentId) {
        let effects = self.game.leave(id);
        self.absorb(effects);
    }

    /// The pending reply to `id`, if any (taken).
    fn reply(&mut self, id: AgentId) -> Option<Reply> {
        let i = self.replies.iter().position(|(to, _)| *to == id)?;
        Some(self.replies.remove(i).1)
    }

    fn expect(&mut self, id: AgentId) -> Reply {
        self.reply(id).unwrap_or_else(|| panic!("agent {id} has no reply; pending: {:?}", self.replies))
    }

    /// Sends and expects an immediate reply.
    fn ask(&mut self, id: AgentId, action: Action) -> Reply {
        self.send(id, action);
        self.expect(id)
    }

    /// Connects and sends JoinGame; the CREATED reply may be held at the start barrier.
    fn join(&mut self, name: &str, role: AgentRole) -> AgentId {
        let id = self.connect();
        self.send(id, Action::join_game(name, role));
        id
    }

    /// Two agents joined and started (the first waits at the start barrier until the second).
    fn pair(&mut self, a: (&str, AgentRole), b: (&str, AgentRole)) -> (AgentId, AgentId) {
        let ia = self.join(a.0, a.1);
        let ib = self.join(b.0, b.1);
        assert_eq!(self.expect(ia).status(), GameStatus::CREATED);
        assert_eq!(self.expect(ib).status(), GameStatus::CREATED);
        (ia, ib)
    }
}

fn step_fields(r: &Reply) -> (GameStatus, f64, bool, Option<AgentStatus>) {
    match r {
        Reply::Step { status, reward, end, info, .. } => (*status, reward.as_f64(), *end, info.end_reason),
        other => panic!("not a step reply: {other:?}"),
    }
}

fn message(r: &Reply) -> &str {
    match r {
        Reply::BadRequest { message } => message,
        other => panic!("not a BAD_REQUEST: {other:?}"),
    }
}

#[test]
fn start_barrier_waits_for_required_players_of_any_role() {
    let mut g = Game::new(task(2, 10, ""));
    let a = g.join("att", AgentRole::Attacker);
    assert!(g.reply(a).is_none(), "the attacker waits for a second player");
    // A connection that leaves without joining does not count.
    let c = g.connect();
    g.leave(c);
    assert!(g.reply(a).is_none());
    let d = g.join("def", AgentRole::Defender);
    match g.expect(d) {
        Reply::Created { state, welcome } => {
            assert_eq!(welcome.agent_name, "def");
            assert_eq!(state.controlled_hosts.len(), 4, "all_local");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(g.expect(a).status(), GameStatus::CREATED);
}

#[test]
fn leaving_while_waiting_to_start_does_not_count() {
    let mut g = Game::new(task(2, 10, ""));
    let quitter = g.join("quitter", AgentRole::Attacker);
    g.leave(quitter);
    assert!(g.reply(quitter).is_none(), "the parked CREATED is dropped");
    let a = g.join("a", AgentRole::Attacker);
    assert!(g.reply(a).is_none(), "the quitter no longer counts towards the start");
    let b = g.join("b", AgentRole::Attacker);
    assert_eq!(g.expect(b).status(), GameStatus::CREATED);
    assert_eq!(g.expect(a).status(), GameStatus::CREATED);
}

#[test]
fn episode_end_barrier_holds_final_replies_and_forbids_further_actions() {
    let mut g = Game::new(task(2, 2, ""));
    let (a, b) = g.pair(("a", AgentRole::Attacker), ("b", AgentRole::Attacker));
    assert_eq!(step_fields(&g.ask(a, scan())), (GameStatus::OK, -1.0, false, None));
    g.send(a, scan());
    assert!(g.reply(a).is_none(), "A's final reply waits for B");
    assert!(!step_fields(&g.ask(b, scan())).2);
    g.send(b, scan());
    for id in [a, b] {
        let final_reply = step_fields(&g.expect(id));
        assert_eq!(
            final_reply,
            (GameStatus::OK, -11.0, true, Some(AgentStatus::TimeoutReached)),
            "step -1 + fail -10, applied once"
        );
    }
    let forbidden = g.ask(a, scan());
    assert_eq!(step_fields(&forbidden).0, GameStatus::FORBIDDEN);
    assert_eq!(step_fields(&forbidden).1, -11.0);
    // B leaving after the end must not pay rewards twice.
    g.leave(b);
    assert_eq!(step_fields(&g.ask(a, scan())).1, -11.0);
    // The referee's records: both timed out, 2 steps, return -1 + -11.
    assert_eq!(g.records.len(), 2, "{:?}", g.records);
    for r in &g.records {
        assert_eq!(r.end, EpisodeEnd::Finished(AgentStatus::TimeoutReached));
        assert_eq!(r.steps, 2);
        assert_eq!(r.episode_return, -12.0);
        assert!(!r.won());
    }
}

#[test]
fn reset_needs_everyone_and_agreeing_seeds() {
    let mut g = Game::new(task(2, 50, ""));
    let (a, b) = g.pair(("a", AgentRole::Attacker), ("b", AgentRole::Attacker));
    g.send(a, reset(Some(1), false, false));
    assert!(g.reply(a).is_none(), "A waits for B");
    g.send(b, reset(Some(2), false, false));
    for id in [a, b] {
        assert!(message(&g.expect(id)).contains("disagree on the seed"));
    }
    // Agreeing: both get RESET_DONE; only A asked for the trajectory.
    g.send(a, reset(Some(7), false, true));
    assert!(g.reply(a).is_none());
    g.send(b, reset(Some(7), false, false));
    match (g.expect(a), g.expect(b)) {
        (Reply::ResetDone { info: ia, .. }, Reply::ResetDone { info: ib, .. }) => {
            assert!(ia.last_trajectory.is_some());
            assert!(ib.last_trajectory.is_none());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(step_fields(&g.ask(a, scan())).0, GameStatus::OK);
    assert_eq!(g.game.referee().episode(), 1);
}

#[test]
fn reset_needs_agreement_on_the_topology_change_too() {
    let mut g = Game::new(task(2, 50, "  use_dynamic_addresses: true\n"));
    let (a, b) = g.pair(("a", AgentRole::Attacker), ("b", AgentRole::Attacker));
    g.send(a, reset(Some(5), true, false));
    g.send(b, reset(Some(5), false, false));
    for id in [a, b] {
        assert!(message(&g.expect(id)).contains("disagree on the topology change"));
    }
    // Agreeing on both: the addresses move.
    g.send(a, reset(Some(5), true, false));
    g.send(b, reset(Some(5), true, false));
    match g.expect(a) {
        Reply::ResetDone { state, .. } => assert!(!state.controlled_hosts.contains(&CC), "the C&C moved"),
        other => panic!("{other:?}"),
    }
    assert_eq!(g.expect(b).status(), GameStatus::RESET_DONE);
}

#[test]
fn topology_changes_only_with_an_agreed_seed_and_reproducibly() {
    let run = |seed: i64| {
        let mut g = Game::new(task(1, 0, "  use_dynamic_addresses: true\n"));
        let a = g.join("a", AgentRole::Attacker);
        let Reply::Created { state: first, .. } = g.expect(a) else { panic!() };
        let Reply::ResetDone { state: plain, .. } = g.ask(a, reset(None, true, false)) else { panic!() };
        assert_eq!(plain.controlled_hosts, first.controlled_hosts, "no seed, no topology change");
        let Reply::ResetDone { state: moved, info } = g.ask(a, reset(Some(seed), true, false)) else { panic!() };
        assert_ne!(moved.controlled_hosts, first.controlled_hosts, "addresses changed");
        assert!(!info.goal_description.contains("213.47.23.195"), "the goal text follows the C&C");
        (moved.controlled_hosts.clone(), info.goal_description)
    };
    assert_eq!(run(11), run(11), "the same seed gives the same addresses");
    assert_ne!(run(11).0, run(12).0);
}

#[test]
fn mid_episode_reset_releases_agents_waiting_at_the_episode_end() {
    let mut g = Game::new(task(2, 1, ""));
    let (a, b) = g.pair(("a", AgentRole::Attacker), ("b", AgentRole::Attacker));
    g.send(a, scan());
    assert!(g.reply(a).is_none());
    // B asks for a reset in mid-episode: A's episode end is released.
    g.send(b, reset(None, false, false));
    assert!(step_fields(&g.expect(a)).2);
    assert!(g.reply(b).is_none(), "B waits for A's reset request");
    g.send(a, reset(None, false, false));
    assert_eq!(g.expect(a).status(), GameStatus::RESET_DONE);
    assert_eq!(g.expect(b).status(), GameStatus::RESET_DONE);
    let b_record = g.records.iter().find(|r| r.agent == b).unwrap();
    assert_eq!(b_record.end, EpisodeEnd::Reset);
    assert_eq!(b_record.episode_return, 0.0, "no end reward reaches an agent that reset before the end");
}

#[test]
fn leaving_releases_the_episode_end_and_the_reset_barriers() {
    let mut g = Game::new(task(1, 1, ""));
    let (a, b) = g.pair(("a", AgentRole::Attacker), ("b", AgentRole::Attacker));
    g.send(a, scan());
    assert!(g.reply(a).is_none());
    g.leave(b);
    assert!(step_fields(&g.expect(a)).2, "A's final reply is released");
    let c = g.join("c", AgentRole::Attacker);
    assert_eq!(g.expect(c).status(), GameStatus::CREATED);
    g.send(a, reset(None, false, false));
    assert!(g.reply(a).is_none(), "A waits for C");
    // QuitGame is acknowledged, closes the connection and releases the reset.
    assert_eq!(g.ask(c, Action::quit_game()).status(), GameStatus::OK);
    assert!(g.closed.contains(&c));
    assert_eq!(g.expect(a).status(), GameStatus::RESET_DONE);
}

#[test]
fn defender_false_positives_and_end_rewards() {
    let mut g = Game::new(task(2, 2, ""));
    let (d, a) = g.pair(("def", AgentRole::Defender), ("att", AgentRole::Attacker));
    // A look at its own logs first (not a block).
    g.ask(d, Action::find_data(SERVER, SERVER));
    // The defender cuts the client off the server, then runs into its own block.
    let Reply::Step { state, .. } = g.ask(d, Action::block_ip(SERVER, SERVER, CLIENT)) else { panic!() };
    assert!(state.known_blocks[&SERVER].contains(&CLIENT));
    let Reply::Step { state, .. } = g.ask(a, scan()) else { panic!() };
    assert!(!state.known_hosts.contains(&SERVER), "the attacker no longer sees the server");
    g.send(a, scan());
    assert!(g.reply(a).is_none(), "the attacker's final reply waits for the defender");
    // No attacker is playing any more, so this action ends the defender's episode. It runs
    // into the defender's own block: one false positive.
    g.send(d, Action::find_services(CLIENT, SERVER));
    assert_eq!(step_fields(&g.expect(a)), (GameStatus::OK, -11.0, true, Some(AgentStatus::TimeoutReached)));
    assert_eq!(
        step_fields(&g.expect(d)),
        (GameStatus::OK, (-1 + 100 - 5) as f64, true, Some(AgentStatus::Success)),
        "step + success + one false positive"
    );
    let dr = g.records.iter().find(|r| r.agent == d).unwrap();
    assert_eq!((dr.blocks, dr.false_positives, dr.won(), dr.steps), (1, 1, true, 3), "only BlockIP counts as a block");
}

#[test]
fn the_global_defender_detects_repetitive_attackers_reproducibly() {
    let play = || {
        let mut g = Game::new(task(1, 0, "  use_global_defender: true\n"));
        let a = g.join("spammer", AgentRole::Attacker);
        g.expect(a);
        for n in 1..=2000 {
            let (_, reward, end, reason) = step_fields(&g.ask(a, scan()));
            if end {
                assert_eq!(reason, Some(AgentStatus::Fail));
                assert_eq!(reward, -11.0, "step -1 + fail -10");
                assert!(g.records[0].detected);
                return n;
            }
        }
        panic!("never detected");
    };
    let steps = play();
    assert!(steps >= 5, "the first four actions are never detected");
    assert_eq!(play(), steps, "the same seed gives the same detection step");
}

#[test]
fn winning_is_recorded_with_the_end_reward_in_the_return() {
    let mut g = Game::new(task(1, 50, ""));
    let a = g.join("a", AgentRole::Attacker);
    g.expect(a);
    // Straight to the goal: the client reaches the server, exploits it, finds and sends data.
    let smb = netsecgame::components::Service::new("microsoft-ds", "passive", "10.0.19041", false);
    for action in [scan(), Action::find_services(CLIENT, SERVER), Action::exploit_service(CLIENT, SERVER, smb)] {
        assert_eq!(step_fields(&g.ask(a, action)).0, GameStatus::OK);
    }
    g.ask(a, Action::find_data(SERVER, SERVER));
    let data = netsecgame::components::Data::new("User1", "DataFromServer1");
    let last = g.ask(a, Action::exfiltrate_data(SERVER, CC, data));
    assert_eq!(step_fields(&last), (GameStatus::OK, 99.0, true, Some(AgentStatus::Success)));
    let r = &g.records[0];
    assert!(r.won());
    assert_eq!((r.steps, r.episode_return), (5, -4.0 + 99.0));
}

#[test]
fn trajectories_are_recorded_at_reset_quit_and_disconnect() {
    let mut g = Game::new(task(3, 5, ""));
    let a = g.join("a", AgentRole::Attacker);
    let b = g.join("b", AgentRole::Attacker);
    let c = g.join("c", AgentRole::Attacker);
    for id in [a, b, c] {
        g.expect(id);
    }
    for id in [a, b, c] {
        g.ask(id, scan());
    }
    g.ask(b, Action::quit_game());
    g.leave(c);
    let names: Vec<&str> = g.trajectories.iter().map(|t| t.agent_name.as_str()).collect();
    assert_eq!(names, ["b", "c"], "a trajectory is written when an agent quits and when it disconnects");
    assert!(g.trajectories.iter().all(|t| t.actions.len() == 1));
    g.send(a, reset(None, false, false));
    assert!(g.reply(a).is_none(), "RESET_DONE waits at the start barrier: one player of three");
    assert_eq!(g.trajectories.last().unwrap().agent_name, "a", "a trajectory is written at a reset too");
    // Records of the agents that left in mid-episode.
    let ends: Vec<EpisodeEnd> = g.records.iter().map(|r| r.end).collect();
    assert_eq!(ends, [EpisodeEnd::Left, EpisodeEnd::Left, EpisodeEnd::Reset]);
}

#[test]
fn shutdown_writes_every_open_episode_including_a_parked_final_action() {
    let mut g = Game::new(task(2, 2, ""));
    let (a, b) = g.pair(("a", AgentRole::Attacker), ("b", AgentRole::Attacker));
    g.ask(a, scan());
    g.send(a, scan());
    assert!(g.reply(a).is_none(), "A is parked at the episode end");
    g.ask(b, scan());
    let open = g.game.open_trajectories();
    assert_eq!(open.len(), 2, "every open episode, not just the first");
    let ta = open.iter().find(|t| t.agent_name == "a").unwrap();
    assert_eq!(ta.actions.len(), 2, "A's final action is in its trajectory");
    assert_eq!(ta.end_reason, Some(AgentStatus::TimeoutReached));
    // Leaving while parked keeps the final action too.
    g.leave(a);
    let written = g.trajectories.iter().find(|t| t.agent_name == "a").unwrap();
    assert_eq!(written.actions.len(), 2);
}

#[test]
fn requests_before_joining_and_unknown_agents_get_an_answer_or_nothing() {
    let mut g = Game::new(task(1, 5, ""));
    let id = g.connect();
    assert!(message(&g.ask(id, scan())).contains("Join the game first"));
    assert!(message(&g.ask(id, reset(None, false, false))).contains("Join the game first"));
    // An id that never connected (or already left) gets nothing and changes nothing.
    g.send(999, scan());
    assert!(g.replies.is_empty());
    let a = g.join("a", AgentRole::Attacker);
    assert_eq!(g.expect(a).status(), GameStatus::CREATED);
    assert!(matches!(g.ask(a, Action::join_game("again", AgentRole::Attacker)), Reply::AlreadyJoined));
}

#[test]
fn the_connection_limit_is_separate_from_required_players() {
    let mut settings = GameSettings::new(task(1, 5, ""));
    settings.max_agents = 2;
    let mut game = LocalGame::new(settings, 1);
    let a = game.connect("a").unwrap();
    game.connect("b").unwrap();
    assert!(game.connect("c").unwrap_err().contains("Server full"));
    game.leave(a);
    assert!(game.connect("d").is_ok(), "a departure frees its slot");
}

#[test]
fn rewards_keep_the_integer_or_float_form_of_the_task() {
    let mut g = Game::new(task(1, 1, ""));
    let a = g.join("a", AgentRole::Attacker);
    g.expect(a);
    match g.ask(a, scan()) {
        Reply::Step { reward, .. } => assert_eq!(reward, Reward::Int(-11)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn step_records_only_when_asked_for() {
    let mut g = Game::new(task(2, 2, ""));
    let (a, b) = g.pair(("a", AgentRole::Attacker), ("b", AgentRole::Attacker));
    g.ask(a, scan());
    assert!(g.steps.is_empty(), "off by default: an unwatched game builds no records");
    g.game.set_step_events(true);
    g.ask(b, scan());
    // A bad action is a BAD_REQUEST, not a step.
    let bad = Action::new(netsecgame::components::ActionType::FindServices, vec![]);
    assert_eq!(g.ask(b, bad).status(), GameStatus::BAD_REQUEST);
    g.send(a, scan());
    assert_eq!(g.steps.len(), 2, "{:?}", g.steps);
    let (first, last) = (&g.steps[0], &g.steps[1]);
    assert_eq!((first.agent, first.steps, first.reward, first.ended, first.detected), (b, 1, -1.0, false, false));
    assert_eq!(first.status, AgentStatus::PlayingWithTimeout);
    assert!(first.state.known_hosts.contains(&SERVER), "the scan's result is in the record's state");
    assert_eq!((last.agent, last.steps, last.ended, last.episode), (a, 2, true, 0));
    assert_eq!(last.status, AgentStatus::TimeoutReached);
    g.game.set_step_events(false);
    g.send(b, scan());
    assert_eq!(g.steps.len(), 2);
}

#[test]
fn the_referee_answers_questions_about_its_game() {
    let mut g = Game::new(task(2, 5, ""));
    assert_eq!(g.game.referee().connections(), 0);
    let a = g.join("alice", AgentRole::Attacker);
    let lurker = g.connect();
    assert_eq!(g.game.referee().connections(), 2, "joined or not");
    let players: Vec<(AgentId, String, AgentRole)> =
        g.game.referee().players().map(|(id, n, r)| (id, n.to_string(), r)).collect();
    assert_eq!(players, vec![(a, "alice".to_string(), AgentRole::Attacker)]);
    assert!(g.game.referee().state_of(a).unwrap().controlled_hosts.contains(&CLIENT));
    assert!(g.game.referee().state_of(lurker).is_none(), "no state before joining");
    assert!(!g.game.referee().is_busy(), "LocalGame answers everything at once");
    assert_eq!(g.game.referee().episode(), 0);
    let b = g.join("bob", AgentRole::Attacker);
    g.expect(a);
    g.expect(b);
    for id in [a, b] {
        g.send(id, reset(None, false, false));
    }
    assert_eq!(g.game.referee().episode(), 1);
}

#[test]
fn an_agent_with_an_empty_name_gets_one_made_from_its_slot() {
    let mut g = Game::new(task(1, 5, ""));
    let id = g.join("!!!", AgentRole::Attacker);
    match g.expect(id) {
        Reply::Created { welcome, .. } => {
            assert_eq!(welcome.agent_name, format!("agent_{:08x}", (id ^ 0x9e37_79b9) as u32));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_action_the_world_cannot_apply_is_refused_and_not_counted() {
    let mut g = Game::new(task(1, 2, ""));
    let a = g.join("a", AgentRole::Attacker);
    g.expect(a);
    // A scan without its network: refused, and it is not one of the episode's two steps.
    let half = Action::new(
        netsecgame::components::ActionType::ScanNetwork,
        vec![netsecgame::action::Param::SourceHost(CLIENT)],
    );
    assert!(message(&g.ask(a, half)).contains("needs parameter `target_network`"));
    assert!(!step_fields(&g.ask(a, scan())).2, "the first real step does not end the episode");
    assert!(step_fields(&g.ask(a, scan())).2, "the second does");
}

#[test]
fn a_defender_that_resets_before_the_end_is_still_scored_at_the_end() {
    let mut g = Game::new(task(2, 2, ""));
    let (d, a) = g.pair(("def", AgentRole::Defender), ("att", AgentRole::Attacker));
    g.send(d, reset(None, false, false));
    g.ask(a, scan());
    g.send(a, scan());
    let dr = g.records.iter().find(|r| r.agent == d).unwrap();
    assert_eq!(dr.end, EpisodeEnd::Finished(AgentStatus::Success), "no attacker won: the defender did");
}

#[test]
fn leaving_before_any_step_leaves_no_episode_record() {
    let mut g = Game::new(task(1, 5, ""));
    let a = g.join("a", AgentRole::Attacker);
    g.expect(a);
    g.leave(a);
    assert!(g.records.is_empty(), "{:?}", g.records);
    let b = g.join("b", AgentRole::Attacker);
    g.expect(b);
    g.ask(b, scan());
    g.leave(b);
    assert_eq!(g.records.len(), 1);
    assert_eq!(g.records[0].end, EpisodeEnd::Left);
}

#[test]
fn an_agreed_reset_seed_reseeds_the_global_defender_too() {
    // Two games with different server seeds, the same agreed seed at the reset: the same
    // detection step afterwards.
    let detection_step = |server_seed: i64| {
        let mut g = Game {
            game: LocalGame::new(GameSettings::new(task(1, 0, "  use_global_defender: true\n")), server_seed),
            replies: vec![],
            closed: vec![],
            trajectories: vec![],
            records: vec![],
            steps: vec![],
        };
        let a = g.join("a", AgentRole::Attacker);
        g.expect(a);
        g.ask(a, reset(Some(99), false, false));
        (1..2000).find(|_| step_fields(&g.ask(a, scan())).2).unwrap()
    };
    assert_eq!(detection_step(1), detection_step(2));
}

#[test]
fn the_referee_is_busy_exactly_while_a_world_answer_is_awaited() {
    use netsecgame::game::{Input, Referee, WorldRequest};
    let mut referee = Referee::new(GameSettings::new(task(1, 5, "")));
    let id = referee.connect("probe").unwrap();
    let mut out = Vec::new();
    referee.handle(Input::Request { id, action: Action::join_game("a", AgentRole::Attacker) }, &mut out);
    assert!(matches!(out.as_slice(), [Effect::World(WorldRequest::Add { .. })]), "{out:?}");
    assert!(referee.is_busy(), "the join waits for the world");
    // Another request meanwhile waits in the backlog: no effect yet.
    out.clear();
    referee.handle(Input::Request { id, action: scan() }, &mut out);
    assert!(out.is_empty(), "{out:?}");
    let mut world = netsecgame::world::World::new(task(1, 5, ""), 42);
    let state = world.add_agent(id, AgentRole::Attacker);
    referee.handle(Input::Joined { id, state, goal_description: String::new() }, &mut out);
    assert!(out.iter().any(|e| matches!(e, Effect::Reply { reply: Reply::Created { .. }, .. })));
    assert!(out.iter().any(|e| matches!(e, Effect::World(WorldRequest::Step { .. }))), "then the backlog moves on");
    assert!(referee.is_busy());
}

//! `LocalAgent`: an in-process agent. It is its own transport: it joins a game through the
//! coordinator's typed messages, like a TCP session does, and goes through exactly the same
//! rules; replies arrive as values whose states are shared (`Arc`), never encoded or copied.

use super::{AgentStopped, EpisodeSeen, PlayPlan, Reports};
use crate::game::coordinator::Coordinator;
use crate::game::messages::{AgentRequest, Connect, Leave, LeaveReason, ToSession};
use actix::prelude::*;
use netsecgame::action::{Action, ResetOptions};
use netsecgame::agents::{Agent, EpisodeInfo, Observation};
use netsecgame::protocol::Reply;
use netsecgame::world::AgentId;

pub struct LocalAgent<A: Agent + Unpin + 'static> {
    agent: A,
    plan: PlayPlan,
    game: Addr<Coordinator>,
    reports: Reports,
    id: Option<AgentId>,
    played: u64,
    /// This episode so far: return and steps.
    episode_return: f64,
    steps: u64,
    error: Option<String>,
}

impl<A: Agent + Unpin + 'static> LocalAgent<A> {
    pub fn new(agent: A, plan: PlayPlan, game: Addr<Coordinator>, reports: Reports) -> Self {
        LocalAgent { agent, plan, game, reports, id: None, played: 0, episode_return: 0.0, steps: 0, error: None }
    }

    fn request(&self, action: Action) {
        if let Some(id) = self.id {
            self.game.do_send(AgentRequest { id, action });
        }
    }

    fn fail(&mut self, message: String, ctx: &mut Context<Self>) {
        tracing::warn!("agent {}: {message}", self.plan.name);
        self.error = Some(message);
        ctx.stop();
    }

    fn on_reply(&mut self, reply: Reply, ctx: &mut Context<Self>) {
        match &reply {
            Reply::Created { .. } | Reply::ResetDone { .. } => {
                let (Some(obs), Some(info)) = (Observation::of_reply(&reply), EpisodeInfo::of_reply(&reply)) else {
                    return;
                };
                self.episode_return = 0.0;
                self.steps = 0;
                self.agent.episode_start(&obs, &info);
                let action = self.agent.act(&obs);
                self.request(action);
            }
            Reply::Step { .. } => {
                let Some(obs) = Observation::of_reply(&reply) else { return };
                self.episode_return += obs.reward;
                self.steps += 1;
                if !obs.end {
                    let action = self.agent.act(&obs);
                    return self.request(action);
                }
                self.agent.episode_end(&obs);
                self.played += 1;
                if let Some(to) = &self.reports.episodes {
                    to.do_send(EpisodeSeen {
                        name: self.plan.name.clone(),
                        end_reason: obs.end_reason,
                        episode_return: self.episode_return,
                        steps: self.steps,
                    });
                }
                if self.plan.should_stop(self.played) {
                    self.request(Action::quit_game());
                } else {
                    self.request(Action::reset_game(ResetOptions::default()));
                }
            }
            Reply::QuitAck => {}
            Reply::BadRequest { message } => {
                let message = format!("the game refused a request: {message}");
                self.fail(message, ctx);
            }
            Reply::AlreadyJoined => self.fail("joined twice".into(), ctx),
        }
    }
}

impl<A: Agent + Unpin + 'static> Actor for LocalAgent<A> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let connect = Connect { session: ctx.address().recipient(), peer: format!("local:{}", self.plan.name) };
        self.game
            .send(connect)
            .into_actor(self)
            .map(|res, act, ctx| match res {
                Ok(Ok(id)) => {
                    act.id = Some(id);
                    let role = act.agent.role();
                    act.request(Action::join_game(&act.plan.name, role));
                }
                Ok(Err(refusal)) => act.fail(refusal, ctx),
                Err(e) => act.fail(format!("the game is gone: {e}"), ctx),
            })
            .wait(ctx);
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        if let Some(id) = self.id.take() {
            self.game.do_send(Leave { id, reason: LeaveReason::Stopped });
        }
        if let Some(to) = &self.reports.stopped {
            to.do_send(AgentStopped { name: self.plan.name.clone(), episodes: self.played, error: self.error.take() });
        }
    }
}

impl<A: Agent + Unpin + 'static> Handler<ToSession> for LocalAgent<A> {
    type Result = ();
    fn handle(&mut self, msg: ToSession, ctx: &mut Context<Self>) {
        match msg {
            ToSession::Reply(reply) => self.on_reply(reply, ctx),
            ToSession::Close => {
                self.id = None;
                ctx.stop();
            }
        }
    }
}

"""The PettingZoo ParallelEnv: attacker, defender and benign agent in one game."""
from __future__ import annotations

import functools

import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded
from pettingzoo import ParallelEnv

from . import _core
from ._common import OBSERVATION_MODES, action_index, graph_instance, observation_space, seed_argument, task_argument

__all__ = ["NetSecGameParallelEnv"]


class NetSecGameParallelEnv(ParallelEnv):
    """Every role's learning agent in one game. Agents are named "attacker", "defender",
    "benign".

    Simultaneous moves are applied in that order: the attacker's action first, then the
    defender's, then the benign agent's, each seeing the world as the ones before it left it.
    An episode ends for everyone in the round the attacker's ends (goal or detection:
    terminated; step limit: truncated), with the task's end rewards. An agent whose own step
    limit comes earlier waits: it stays in `agents`, its actions are ignored, its mask is
    empty, its reward 0 and `info["waiting"]` True, until the final reply (its last step
    reward plus its end reward) arrives with everyone's. Actions outside an agent's mask are
    no-ops that cost a step.
    """

    metadata = {"name": "netsecgame_rs_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, task_or_scenario="two_networks_tiny", seed=None, roles=("Attacker", "Defender", "Benign"),
                 observation="vector", render_mode=None):
        if observation not in OBSERVATION_MODES:
            raise ValueError(f"unknown observation mode {observation!r} (expected one of {', '.join(OBSERVATION_MODES)})")
        if isinstance(roles, str):
            roles = [roles]
        self._game = _core.ParallelGame(task_argument(task_or_scenario), [str(r) for r in roles], seed_argument(seed))
        self.possible_agents = [r.lower() for r in self._game.roles()]
        self._seat = {a: i for i, a in enumerate(self.possible_agents)}
        n_actions, obs_len, n_nodes = self._game.sizes()
        self.n_actions = n_actions
        self.observation_mode = observation
        self.render_mode = render_mode
        self._obs_space = observation_space(observation, obs_len, n_nodes)
        self._act_space = spaces.Discrete(n_actions)
        self.agents = []
        self._started = False

    @functools.lru_cache(maxsize=None)
    def observation_space(self, agent):
        self._check_agent(agent)
        return self._obs_space

    @functools.lru_cache(maxsize=None)
    def action_space(self, agent):
        self._check_agent(agent)
        return self._act_space

    def _check_agent(self, agent):
        if agent not in self._seat:
            raise ValueError(f"unknown agent {agent!r} (agents: {', '.join(self.possible_agents)})")

    def reset(self, seed=None, options=None):
        # `options` are accepted as the API requires and not used: the game has none.
        self._game.reset(seed_argument(seed))
        self._started = True
        self.agents = list(self.possible_agents)
        observations = {a: self._observe(self._seat[a]) for a in self.agents}
        infos = {a: {"action_mask": self._game.action_mask(self._seat[a])} for a in self.agents}
        return observations, infos

    def step(self, actions):
        if not self.agents:
            raise ResetNeeded("the episode is over: call reset() before stepping again" if self._started
                              else "call reset() before the first step")
        if not isinstance(actions, dict):
            raise TypeError(f"actions must be a dict {{agent: action}}, got {type(actions).__name__}")
        unknown = [a for a in actions if a not in self._seat]
        if unknown:
            raise ValueError(f"actions for unknown agents {unknown} (agents: {', '.join(self.possible_agents)})")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"no action for {', '.join(missing)}: every agent in env.agents needs one")
        indices = [0] * len(self.possible_agents)
        for a in self.agents:
            indices[self._seat[a]] = action_index(actions[a], self.n_actions)
        results = self._game.step(indices)
        live = list(self.agents)
        observations, rewards, terminations, truncations, infos = {}, {}, {}, {}, {}
        for a in live:
            seat = self._seat[a]
            r = results[seat]
            mask = self._game.action_mask(seat)
            observations[a] = self._observe(seat)
            if r is None:
                rewards[a], terminations[a], truncations[a] = 0.0, False, False
                infos[a] = {"action_mask": mask, "waiting": True}
                continue
            reward, terminated, truncated, valid = r
            rewards[a], terminations[a], truncations[a] = reward, terminated, truncated
            infos[a] = {"action_mask": mask, "valid_action": valid, "waiting": False}
            if terminated or truncated:
                steps, ret, detected, reason, _ = self._game.episode(seat)
                infos[a].update(end_reason=reason, episode_steps=steps, episode_return=ret, detected=detected)
        self.agents = [a for a in live if not (terminations[a] or truncations[a])]
        return observations, rewards, terminations, truncations, infos

    def action_mask(self, agent) -> np.ndarray:
        self._check_agent(agent)
        return self._game.action_mask(self._seat[agent])

    def render(self):
        if self.render_mode == "ansi":
            return "\n".join(f"{a}: {self._game.observe_string(self._seat[a])}" for a in self.possible_agents)
        return None

    def close(self):
        pass

    def _observe(self, seat):
        mode = self.observation_mode
        if mode == "vector":
            return self._game.observe_vector(seat)
        if mode == "graph":
            return graph_instance(self._game.observe_graph(seat))
        if mode == "json":
            return self._game.observe_json(seat)
        return self._game.observe_string(seat)

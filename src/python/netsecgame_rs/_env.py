"""The Gymnasium environment: one learning agent against the global defender (and optional
built-in opponents)."""
from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded

from . import _core
from ._common import (OBSERVATION_MODES, action_index, graph_instance, observation_space, opponents_argument,
                      seed_argument, task_argument)

__all__ = ["NetSecGameEnv", "OBSERVATION_MODES"]


class NetSecGameEnv(gym.Env):
    """One agent's game as a Gymnasium env.

    Actions: `Discrete(n)` over the fixed WhiteBox action list of the world (upstream's order;
    `action_json(i)` gives action i in upstream's JSON form). The valid ones are
    `info["action_mask"]` and `action_masks()`; an action outside the mask is a no-op that
    still costs a step (the task's step reward, and it counts toward the step limit).

    Observations (`observation=`): "vector" (default, a 0/1 float32 vector), "graph"
    (`gymnasium.spaces.GraphInstance`), "json" (upstream's state JSON) or "string" (the
    ordered state string of the official client's `state_as_ordered_string`).

    A goal or a detection ends the episode as `terminated`, the step limit as `truncated`;
    rewards are the task's (the end reward is added to the last step's).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, task_or_scenario="two_networks_tiny", role="Attacker", seed=None, observation="vector",
                 opponents=None, render_mode=None):
        if observation not in OBSERVATION_MODES:
            raise ValueError(f"unknown observation mode {observation!r} (expected one of {', '.join(OBSERVATION_MODES)})")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"unknown render_mode {render_mode!r} (supported: ansi)")
        self._game = _core.Game(task_argument(task_or_scenario), str(role), seed_argument(seed),
                                opponents_argument(opponents, role))
        self.role = self._game.role()
        self.observation_mode = observation
        self.render_mode = render_mode
        n_actions, obs_len, n_nodes = self._game.sizes()
        self.n_actions = n_actions
        self.action_space = spaces.Discrete(n_actions)
        self.observation_space = observation_space(observation, obs_len, n_nodes)
        self._vector = observation == "vector"
        self._mask = np.zeros(n_actions, dtype=bool)
        self._started = False
        self._done = False

    # -- Gymnasium API -----------------------------------------------------------------------

    def reset(self, *, seed=None, options=None):
        """Starts an episode. `seed` reseeds the game as a server ResetGame with that seed
        would (the first reset without one starts the game's first episode)."""
        super().reset(seed=seed)
        # `options` are accepted as the API requires and not used: the game has none.
        obs, mask = self._game.reset(seed_argument(seed))
        self._mask = mask
        self._started = True
        self._done = False
        return (obs if self._vector else self._observe(obs)), {"action_mask": mask}

    def step(self, action):
        a = action_index(action, self.n_actions)
        if self._done or not self._started:
            raise ResetNeeded("the episode is over: call reset() before stepping again" if self._started
                              else "call reset() before the first step")
        obs, reward, terminated, truncated, mask, valid = self._game.step(a)
        self._mask = mask
        info = {"action_mask": mask, "valid_action": valid}
        if terminated or truncated:
            self._done = True
            steps, ret, detected, reason, _ = self._game.episode()
            info.update(end_reason=reason, episode_steps=steps, episode_return=ret, detected=detected)
        return (obs if self._vector else self._observe(obs)), reward, terminated, truncated, info

    def render(self):
        if self.render_mode == "ansi":
            return self._game.observe_string()
        return None

    # -- masks and helpers ---------------------------------------------------------------------

    def action_masks(self) -> np.ndarray:
        """The valid-action mask of the current state (what sb3-contrib's MaskablePPO calls)."""
        return self._mask

    def sample_valid_action(self) -> int:
        """A uniformly random valid action, drawn in Rust from the game's own seeded generator."""
        return self._game.sample_valid_action()

    def action_json(self, index) -> str:
        """Action `index` in upstream's JSON form (as a WhiteBox server lists it)."""
        return self._game.action_json(action_index(index, self.n_actions))

    def all_actions(self) -> list:
        """The whole action list as upstream dicts (the WhiteBox `all_actions`)."""
        return json.loads(self._game.all_actions_json())

    def state_json(self) -> str:
        return self._game.observe_json()

    def state_string(self) -> str:
        return self._game.observe_string()

    @property
    def goal_description(self) -> str:
        return self._game.episode()[4]

    @property
    def max_steps(self):
        return self._game.max_steps()

    def _observe(self, vector):
        mode = self.observation_mode
        if mode == "graph":
            return graph_instance(self._game.observe_graph())
        if mode == "json":
            return self._game.observe_json()
        if mode == "string":
            return self._game.observe_string()
        return vector

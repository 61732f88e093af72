"""The vectorised env: N games stepped in Rust in one call, with the GIL released."""
from __future__ import annotations

import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from . import _core
from ._common import opponents_argument, seed_argument, task_argument

__all__ = ["NetSecGameVectorEnv"]


class NetSecGameVectorEnv(VectorEnv):
    """`num_envs` games of one learning agent each, as a Gymnasium `VectorEnv` with vector
    observations. Autoreset is next-step (Gymnasium's default): the step after an episode
    ends resets that game, ignores its action and returns reward 0 with the new episode's
    first observation. `infos["action_mask"]` (and `action_masks()`) is the (num_envs,
    n_actions) mask; `reset(seed=s)` seeds game i with s + i. The games step with the GIL
    released on the calling thread; `threads=k` spreads them over k threads per call.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, task_or_scenario="two_networks_tiny", num_envs=8, role="Attacker", seed=None, opponents=None,
                 threads=None):
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        self._game = _core.VecGame(task_argument(task_or_scenario), int(num_envs), str(role), seed_argument(seed),
                                   opponents_argument(opponents, role), threads)
        n_actions, obs_len, _ = self._game.sizes()
        self.num_envs = int(num_envs)
        self.n_actions = n_actions
        self.single_action_space = spaces.Discrete(n_actions)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.single_observation_space = spaces.Box(low=0.0, high=1.0, shape=(obs_len,), dtype=np.float32)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.render_mode = None
        self._masks = np.zeros((self.num_envs, n_actions), dtype=bool)
        self._all = np.ones(self.num_envs, dtype=bool)
        self._started = False

    def reset(self, *, seed=None, options=None):
        # `options` are accepted as the API requires and not used: the game has none.
        if isinstance(seed, (list, tuple)):
            raise ValueError("pass one int seed: game i is seeded with seed + i")
        obs, masks = self._game.reset(seed_argument(seed))
        self._masks = masks
        self._started = True
        return obs, {"action_mask": masks, "_action_mask": self._all}

    def step(self, actions):
        if not self._started:
            raise ResetNeeded("call reset() before the first step")
        a = np.asarray(actions)
        if a.shape != (self.num_envs,):
            raise ValueError(f"expected {self.num_envs} actions of shape ({self.num_envs},), got shape {a.shape}")
        if not np.issubdtype(a.dtype, np.integer):
            raise TypeError(f"actions must be integers, got dtype {a.dtype}")
        if a.dtype != np.int64 or not a.flags.c_contiguous:
            a = np.ascontiguousarray(a, dtype=np.int64)
        obs, rewards, terminated, truncated, masks, valid = self._game.step(a)
        self._masks = masks
        infos = {"action_mask": masks, "_action_mask": self._all, "valid_action": valid, "_valid_action": self._all}
        return obs, rewards, terminated, truncated, infos

    def action_masks(self) -> np.ndarray:
        return self._masks

    def sample_valid_actions(self) -> np.ndarray:
        """A uniformly random valid action per game, drawn in Rust (each game's seeded generator)."""
        return self._game.sample_valid_actions()

    def close_extras(self, **kwargs):
        pass

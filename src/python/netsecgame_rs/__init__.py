"""NetSecGame in-process environments: Gymnasium, PettingZoo and a vectorised env.

The game runs in Rust (the same rules and seeded results as the NetSecGame server, with no
sockets); these classes are thin Python shells over it.

    import netsecgame_rs
    env = netsecgame_rs.make_env("two_networks_tiny", role="Attacker", seed=42)
    obs, info = env.reset(seed=1)
    obs, reward, terminated, truncated, info = env.step(env.sample_valid_action())

See the README section "Python: Gymnasium and PettingZoo" for the encodings and rules.
"""
from __future__ import annotations

from . import _core
from ._env import NetSecGameEnv, OBSERVATION_MODES
from ._parallel import NetSecGameParallelEnv
from ._vector import NetSecGameVectorEnv

SCENARIOS = tuple(_core.SCENARIOS)
BUILTIN_AGENTS = tuple(_core.BUILTIN_AGENTS)

__all__ = [
    "make_env",
    "make_parallel_env",
    "make_vector_env",
    "NetSecGameEnv",
    "NetSecGameParallelEnv",
    "NetSecGameVectorEnv",
    "OBSERVATION_MODES",
    "SCENARIOS",
    "BUILTIN_AGENTS",
]


def make_env(task_or_scenario, role="Attacker", seed=None, **kwargs) -> NetSecGameEnv:
    """A Gymnasium env for one learning agent of `role`.

    `task_or_scenario` is a task file (YAML, upstream's format) or an embedded scenario name
    (see `SCENARIOS`). `seed` is the game seed (the server's `--seed`); None draws one.
    Keyword arguments: `observation` ("vector", "graph", "json" or "string"), `opponents`
    (built-in agents in the other roles, e.g. `{"Attacker": "scripted_attacker"}`).
    """
    return NetSecGameEnv(task_or_scenario, role=role, seed=seed, **kwargs)


def make_parallel_env(task_or_scenario, seed=None, **kwargs) -> NetSecGameParallelEnv:
    """A PettingZoo ParallelEnv with an attacker, a defender and a benign agent (`roles=`
    chooses a subset, an attacker among them). Moves apply in the order attacker, defender,
    benign."""
    return NetSecGameParallelEnv(task_or_scenario, seed=seed, **kwargs)


def make_vector_env(task_or_scenario, num_envs, role="Attacker", seed=None, **kwargs) -> NetSecGameVectorEnv:
    """`num_envs` games stepped together in Rust (GIL released), as a Gymnasium VectorEnv
    (next-step autoreset)."""
    return NetSecGameVectorEnv(task_or_scenario, num_envs, role=role, seed=seed, **kwargs)

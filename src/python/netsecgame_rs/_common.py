"""Helpers shared by the env classes: argument checks, observation spaces."""
from __future__ import annotations

import os
import string

import numpy as np
from gymnasium import spaces

from . import _core

OBSERVATION_MODES = ("vector", "graph", "json", "string")
NODE_FEATURES = 6
EDGE_TYPES = 4
# JSON and state strings are ASCII (the JSON escapes everything else).
_TEXT = spaces.Text(max_length=1 << 24, min_length=0, charset=string.printable)


def task_argument(task_or_scenario) -> str:
    if isinstance(task_or_scenario, os.PathLike):
        return os.fspath(task_or_scenario)
    if not isinstance(task_or_scenario, str):
        raise TypeError(
            f"task_or_scenario must be a task file path or a scenario name (str), got {type(task_or_scenario).__name__}")
    return task_or_scenario


def seed_argument(seed, name="seed"):
    if seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{name} must be an int or None, got {seed!r}")
    seed = int(seed)
    if not -(1 << 63) <= seed < (1 << 63):
        raise ValueError(f"{name} must fit in 64 bits, got {seed}")
    return seed


def opponents_argument(opponents, role):
    """Built-in agent names from a dict {role: name} or a list of names."""
    if opponents is None:
        return None
    if isinstance(opponents, dict):
        names = []
        for r, name in opponents.items():
            if name not in _core.BUILTIN_AGENTS:
                raise ValueError(f"unknown built-in agent {name!r} (expected one of {', '.join(_core.BUILTIN_AGENTS)})")
            if str(r).lower() == str(role).lower():
                raise ValueError(f"the learning agent plays {role}: an opponent cannot take that role")
            names.append(name)
        return names
    if isinstance(opponents, str):
        return [opponents]
    return list(opponents)


def action_index(action, n) -> int:
    """An action index from an int, a NumPy integer or a one-element integer array."""
    if type(action) is int:
        return action
    if isinstance(action, np.integer):
        return int(action)
    if isinstance(action, np.ndarray) and action.size == 1 and np.issubdtype(action.dtype, np.integer):
        return int(action.reshape(()))
    if isinstance(action, (bool, np.bool_)):
        raise TypeError(f"an action is an int in 0..{n - 1}, got the bool {action!r}")
    if isinstance(action, np.ndarray):
        raise ValueError(f"an action is one int in 0..{n - 1}, got an array of shape {action.shape} and dtype {action.dtype}")
    raise TypeError(f"an action is an int in 0..{n - 1}, got {type(action).__name__} {action!r}")


def observation_space(mode, obs_len, n_nodes):
    if mode == "vector":
        return spaces.Box(low=0.0, high=1.0, shape=(obs_len,), dtype=np.float32)
    if mode == "graph":
        return spaces.Graph(
            node_space=spaces.Box(low=0.0, high=1.0, shape=(NODE_FEATURES,), dtype=np.float32),
            edge_space=spaces.Discrete(EDGE_TYPES))
    if mode in ("json", "string"):
        return _TEXT
    raise ValueError(f"unknown observation mode {mode!r} (expected one of {', '.join(OBSERVATION_MODES)})")


def graph_instance(parts):
    nodes, edges, links = parts
    return spaces.GraphInstance(nodes=nodes, edges=edges, edge_links=links)

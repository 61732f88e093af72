"""Steps per second of the in-process environments, with random masked actions.

    python -m netsecgame_rs.bench                      # one env
    python -m netsecgame_rs.bench --envs 256           # the vectorised env, 256 games
    python -m netsecgame_rs.bench --tcp                # also the TCP path (official client)

Actions are uniform among the valid ones. `--sampler numpy` draws them in Python from
`info["action_mask"]`; `--sampler rust` with `sample_valid_action(s)()` (the same
distribution, drawn in Rust). The default is numpy for one env, rust for the vectorised env.
`--tcp` also plays over TCP through the official client (`pip install netsecgame`) against
our server (`--server` binary, default `target/release/netsecgame`), with random valid
actions from the client's `generate_valid_actions`. The last line is `steps_per_s=<number>` for the env measured
(`--envs`).
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import netsecgame_rs


def single(scenario: str, seconds: float, sampler: str, seed: int) -> float:
    env = netsecgame_rs.make_env(scenario, seed=seed)
    obs, info = env.reset(seed=seed)
    mask = info["action_mask"]
    rng = random.Random(seed)
    step, sample, randrange, flatnonzero = env.step, env.sample_valid_action, rng.randrange, np.flatnonzero
    steps = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(1000):
            if sampler == "rust":
                action = sample()
            else:
                valid = flatnonzero(mask)
                action = int(valid[randrange(len(valid))])
            obs, reward, terminated, truncated, info = step(action)
            mask = info["action_mask"]
            if terminated or truncated:
                obs, info = env.reset()
                mask = info["action_mask"]
        steps += 1000
        now = time.perf_counter()
        if now >= deadline:
            return steps / (now - start)


def vector(scenario: str, n: int, seconds: float, sampler: str, seed: int, threads) -> float:
    env = netsecgame_rs.make_vector_env(scenario, n, seed=seed, threads=threads)
    obs, info = env.reset(seed=seed)
    masks = info["action_mask"]
    rng = np.random.default_rng(seed)
    steps = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(20):
            if sampler == "rust":
                actions = env.sample_valid_actions()
            else:
                # Uniform among the valid actions: the argmax of uniform noise on the mask.
                actions = np.argmax(rng.random(masks.shape, dtype=np.float32) * masks, axis=1)
            obs, rewards, terminated, truncated, info = env.step(actions)
            masks = info["action_mask"]
        steps += 20 * n
        now = time.perf_counter()
        if now >= deadline:
            return steps / (now - start)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_binary(given):
    for candidate in (given, os.environ.get("NETSECGAME_BIN"), "target/release/netsecgame", shutil.which("netsecgame")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def tcp(scenario: str, seconds: float, seed: int, server):
    """The TCP path: our server (its embedded default task on two_networks_tiny, or the task
    file given as scenario), the official client's BaseAgent, random valid actions from the
    client's own `generate_valid_actions`. Returns (steps/s overall, steps/s counting only the
    round trips in `make_step`)."""
    import logging
    from netsecgame.agents.base_agent import BaseAgent
    from netsecgame.game_components import AgentRole
    from netsecgame.utils.utils import generate_valid_actions
    logging.disable(logging.CRITICAL)
    binary = _server_binary(server)
    if binary is None:
        raise SystemExit("--tcp: no server binary; build it (cargo build --release) or pass --server PATH")
    task = [] if scenario == "two_networks_tiny" else ["--task_config", scenario]
    if task and not Path(scenario).is_file():
        raise SystemExit("--tcp needs two_networks_tiny (the server's default task) or a task file as --scenario")
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([binary, *task, "--game_port", str(port), "--seed", str(seed), "--log_dir", tmp,
                                 "--trajectory_dir", tmp, "--debug_level", "WARNING"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(500):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.02)
            agent = BaseAgent("127.0.0.1", port, AgentRole.Attacker)
            obs = agent.register()
            rng = random.Random(seed)
            steps, in_steps = 0, 0.0
            start = time.perf_counter()
            deadline = start + seconds
            while time.perf_counter() < deadline:
                for _ in range(50):
                    action = rng.choice(sorted(generate_valid_actions(obs.state), key=str))
                    t = time.perf_counter()
                    obs = agent.make_step(action)
                    in_steps += time.perf_counter() - t
                    steps += 1
                    if obs.end:
                        obs = agent.request_game_reset()
            elapsed = time.perf_counter() - start
            agent.terminate_connection()
            return steps / elapsed, steps / in_steps
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m netsecgame_rs.bench", description=__doc__.split("\n")[0])
    p.add_argument("--envs", type=int, default=1, help="games: 1 for the Gymnasium env, more for the vectorised env")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--scenario", default="two_networks_tiny", help="scenario name or task file")
    p.add_argument("--sampler", choices=["numpy", "rust"], default=None)
    p.add_argument("--threads", type=int, default=None, help="vectorised env threads (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tcp", action="store_true", help="also measure the TCP path with the official client")
    p.add_argument("--server", default=None, help="server binary for --tcp")
    args = p.parse_args(argv)
    if args.envs < 1 or args.seconds <= 0:
        p.error("--envs must be at least 1 and --seconds positive")
    sampler = args.sampler or ("numpy" if args.envs == 1 else "rust")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, scenario {args.scenario}", flush=True)
    if args.tcp:
        overall, trips = tcp(args.scenario, args.seconds, args.seed, args.server)
        print(f"tcp, official client against our server, 1 agent: {overall:,.0f} steps/s "
              f"({trips:,.0f} steps/s counting only make_step round trips)", flush=True)
    if args.envs == 1:
        rate = single(args.scenario, args.seconds, sampler, args.seed)
        print(f"gymnasium env, 1 game, {sampler} sampler: {rate:,.0f} steps/s", flush=True)
    else:
        rate = vector(args.scenario, args.envs, args.seconds, sampler, args.seed, args.threads)
        print(f"vector env, {args.envs} games, {sampler} sampler: {rate:,.0f} steps/s aggregate", flush=True)
    print(f"steps_per_s={rate:.0f}")


if __name__ == "__main__":
    main()

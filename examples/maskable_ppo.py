"""Train sb3-contrib's MaskablePPO on the in-process env and compare it with random valid
actions. Needs `pip install sb3-contrib` (it brings torch).

    python examples/maskable_ppo.py --steps 20000
"""
import argparse
import random
import time

import numpy as np
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.utils import get_action_masks

import netsecgame_rs


def evaluate(env, policy, episodes, seed):
    """Win rate and mean return over `episodes`; `policy(obs, mask)` picks an action."""
    wins, total = 0, 0.0
    for e in range(episodes):
        obs, info = env.reset(seed=seed + e)
        done = False
        while not done:
            obs, reward, terminated, truncated, info = env.step(policy(obs, info["action_mask"]))
            total += reward
            done = terminated or truncated
        wins += info["end_reason"] == "AgentStatus.Success"
    return wins / episodes, total / episodes


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--scenario", default="two_networks_tiny")
    p.add_argument("--steps", type=int, default=20_000)
    p.add_argument("--episodes", type=int, default=200)
    args = p.parse_args()
    env = netsecgame_rs.make_env(args.scenario, seed=0)
    rng = random.Random(0)
    rand = lambda obs, mask: int(rng.choice(np.flatnonzero(mask)))  # noqa: E731
    print("random valid actions: win rate %.2f, mean return %.1f" % evaluate(env, rand, args.episodes, 10_000))
    model = MaskablePPO("MlpPolicy", env, n_steps=512, batch_size=128, gamma=0.99, seed=0, verbose=0)
    start = time.perf_counter()
    model.learn(total_timesteps=args.steps)
    print(f"trained {args.steps} steps in {time.perf_counter() - start:.1f} s")
    trained = lambda obs, mask: int(model.predict(obs, action_masks=mask, deterministic=True)[0])  # noqa: E731
    print("MaskablePPO:          win rate %.2f, mean return %.1f" % evaluate(env, trained, args.episodes, 10_000))
    assert get_action_masks(env).shape == (env.action_space.n,)


if __name__ == "__main__":
    main()

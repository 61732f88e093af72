"""A small tournament entrant built on the official client's BaseAgent: a random attacker over
the valid actions of its state (netsecgame.utils.utils.generate_valid_actions).

    python tournament_agent.py --host 127.0.0.1 --port 9000 --episodes 10 [--seed 1]

Other modes misbehave on purpose, for the tournament's forfeit tests:
  --mode crash       exits with status 3 in the middle of its second episode
  --mode stall       joins, then never sends anything
  --mode defender    joins as a Defender (the wrong role for an Attacker entrant)
"""
import argparse
import random
import sys
import time

from netsecgame.agents.base_agent import BaseAgent
from netsecgame.game_components import AgentRole
from netsecgame.utils.utils import generate_valid_actions


class RandomBaseAgent(BaseAgent):
    pass


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mode", choices=["play", "crash", "stall", "defender"], default="play")
    args = p.parse_args()
    rng = random.Random(args.seed)
    role = AgentRole.Defender if args.mode == "defender" else AgentRole.Attacker
    agent = RandomBaseAgent(args.host, args.port, role)
    obs = agent.register()
    if obs is None:
        print("registration failed", file=sys.stderr)
        return 1
    if args.mode == "stall":
        time.sleep(3600)
    for episode in range(args.episodes):
        steps = 0
        while not obs.end:
            actions = sorted(generate_valid_actions(obs.state), key=str)
            obs = agent.make_step(rng.choice(actions))
            steps += 1
            if args.mode == "crash" and episode == 1 and steps == 3:
                print("crashing on purpose", flush=True)
                sys.exit(3)
        print(f"episode {episode}: reward {obs.reward}, {obs.info.get('end_reason')}", flush=True)
        if episode + 1 < args.episodes:
            obs = agent.request_game_reset()
    agent.terminate_connection()
    return 0


if __name__ == "__main__":
    sys.exit(main())

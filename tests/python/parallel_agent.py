"""One agent playing several games at once, one per port of a `netsecgame serve --games N`
server (upstream's parallel_base_agent idea): a list of observations in, a list of actions out.

    agent = ParallelAgent("127.0.0.1", [9000, 9001, 9002], AgentRole.Attacker)
    observations = agent.register()                 # one per game
    observations = agent.make_step([a0, a1, a2])    # one action per game
    observations = agent.request_game_reset()

The games are stepped concurrently (a thread per game: the time of a step is the slowest
game's, not the sum).
"""
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Sequence

from netsecgame.agents.base_agent import BaseAgent
from netsecgame.game_components import Action, AgentRole, Observation


class _GameAgent(BaseAgent):
    pass


class ParallelAgent:
    def __init__(self, host: str, ports: Sequence[int], role: AgentRole):
        self.agents = [_GameAgent(host, port, role) for port in ports]
        self._pool = ThreadPoolExecutor(max_workers=len(self.agents))

    def _each(self, fn, args=None) -> List[Optional[Observation]]:
        args = args if args is not None else [()] * len(self.agents)
        return list(self._pool.map(lambda pair: fn(pair[0], *pair[1]), zip(self.agents, args)))

    def register(self) -> List[Optional[Observation]]:
        return self._each(lambda a: a.register())

    def make_step(self, actions: Sequence[Action]) -> List[Optional[Observation]]:
        if len(actions) != len(self.agents):
            raise ValueError(f"{len(actions)} actions for {len(self.agents)} games")
        return self._each(lambda a, action: a.make_step(action), [(x,) for x in actions])

    def request_game_reset(self, **kwargs) -> List[Optional[Observation]]:
        return self._each(lambda a: a.request_game_reset(**kwargs))

    def close(self) -> None:
        for a in self.agents:
            a.terminate_connection()
        self._pool.shutdown()

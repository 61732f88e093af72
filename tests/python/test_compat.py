"""Compatibility with the official Python client (netsecgame 0.2.0 from PyPI), unchanged."""
import json

import pytest
from netsecgame.agents.base_agent import BaseAgent
from netsecgame.game_components import Action, ActionType, AgentRole, GameStatus, IP, Network

from conftest import REFERENCE, REPO


class Attacker(BaseAgent):
    pass


def order_free(value):
    """The traces' normal form: lists sorted by JSON text, keys sorted, data without size/content."""
    if isinstance(value, dict):
        is_data = "owner" in value and "id" in value
        return {k: order_free(v) for k, v in sorted(value.items()) if not (is_data and k in ("size", "content"))}
    if isinstance(value, list):
        return sorted((order_free(v) for v in value), key=lambda x: json.dumps(x, sort_keys=True))
    return value


def test_register_play_to_goal_and_reset(server_for):
    server = server_for(REPO / "tasks" / "default.yaml")
    agent = Attacker("127.0.0.1", server.port, AgentRole.Attacker)
    obs = agent.register()
    assert obs is not None
    assert obs.info["message"] == "Welcome Attacker, registred as AgentRole.Attacker"
    assert obs.info["max_steps"] == 50
    assert len(obs.info["configuration_hash"]) == 64
    assert {str(h) for h in obs.state.controlled_hosts} == {"213.47.23.195", "192.168.1.1"}
    router, server_ip, cc = IP("192.168.1.1"), IP("192.168.1.2"), IP("213.47.23.195")
    obs = agent.make_step(Action(ActionType.ScanNetwork, parameters={"source_host": router, "target_network": Network("192.168.1.0", 24)}))
    assert server_ip in obs.state.known_hosts and obs.reward == -1 and not obs.end
    obs = agent.make_step(Action(ActionType.FindServices, parameters={"source_host": router, "target_host": server_ip}))
    smb = next(s for s in obs.state.known_services[server_ip] if s.name == "microsoft-ds")
    obs = agent.make_step(Action(ActionType.ExploitService, parameters={"source_host": router, "target_host": server_ip, "target_service": smb}))
    assert server_ip in obs.state.controlled_hosts
    obs = agent.make_step(Action(ActionType.FindData, parameters={"source_host": server_ip, "target_host": server_ip}))
    data = next(d for d in obs.state.known_data[server_ip] if d.id == "DataFromServer1")
    log = next(d for d in obs.state.known_data[server_ip] if d.id == "logfile")
    assert json.loads(log.content)[-1] == {"source_host": "192.168.1.2", "action_type": "ActionType.FindData"}
    obs = agent.make_step(Action(ActionType.ExfiltrateData, parameters={"source_host": server_ip, "target_host": cc, "data": data}))
    assert obs.end and obs.reward == 99 and obs.info == {"end_reason": "AgentStatus.Success"}
    # After the end: FORBIDDEN, still parsed by the client as an observation.
    status, observation, _ = agent.communicate(Action(ActionType.ScanNetwork, parameters={"source_host": router, "target_network": Network("192.168.1.0", 24)}))
    assert status is GameStatus.FORBIDDEN and observation["end"] and observation["reward"] == 99
    obs = agent.request_game_reset(request_trajectory=True)
    assert obs is not None and obs.reward == 0 and not obs.end
    trajectory = obs.info["last_trajectory"]
    assert trajectory["trajectory"]["rewards"] == [-1, -1, -1, -1, 99]
    assert len(trajectory["trajectory"]["states"]) == 6
    assert trajectory["end_reason"] == "AgentStatus.Success" and trajectory["agent_name"] == "Attacker"
    obs = agent.request_game_reset(request_trajectory=False)
    assert obs is not None and "last_trajectory" not in obs.info
    assert obs.info["message"] == "Resetting Game and starting again."
    # A seed without topology change is accepted; the world is the original one again.
    obs = agent.request_game_reset(seed=5)
    assert {str(h) for h in obs.state.controlled_hosts} == {"213.47.23.195", "192.168.1.1"}
    agent.terminate_connection()


TRACES = [(s, n) for s in ("two_networks_tiny", "two_networks_small", "two_networks", "three_net_scenario") for n in (1, 2)]


@pytest.mark.parametrize("scenario,seed", TRACES)
def test_reference_trace_replays_over_tcp(server_for, scenario, seed):
    server = server_for(REFERENCE / "traces" / f"{scenario}.task.yaml")
    agent = Attacker("127.0.0.1", server.port, AgentRole.Attacker)
    compared = 0
    with open(REFERENCE / "traces" / f"{scenario}_seed{seed}.jsonl") as f:
        for number, line in enumerate(f, 1):
            rec = json.loads(line)
            if "act" in rec:
                obs = agent.make_step(Action.from_dict(rec["act"]))
                expected = rec["obs"]
            elif "reset" in rec:
                obs = agent.request_game_reset()
                expected = rec["reset"]
            else:
                obs = agent.register()
                expected = rec["obs"]
            assert obs is not None, f"line {number}"
            where = f"{scenario} seed {seed} line {number}"
            assert order_free(obs.state.as_dict) == order_free(expected["state"]), where
            assert obs.reward == expected["reward"], where
            assert obs.end == expected["end"], where
            info = {k: v for k, v in (obs.info or {}).items() if k == "end_reason"} if "act" in rec else {}
            assert info == expected["info"], where
            compared += 1
    assert compared >= 3 * 61
    agent.terminate_connection()


def test_whitebox_all_actions_round_trip(server_for):
    server = server_for(REPO / "tasks" / "default.yaml", extra=("--whitebox",))
    agent = Attacker("127.0.0.1", server.port, AgentRole.Attacker)
    obs = agent.register()
    actions = [Action.from_dict(a) for a in json.loads(obs.info["all_actions"])]
    assert len(actions) == 330
    # The BlockIP actions use `blocked_ip`; upstream hung on them (B30), we play them.
    block = next(a for a in actions if a.type is ActionType.BlockIP)
    status, observation, _ = agent.communicate(block)
    assert status is GameStatus.OK
    agent.terminate_connection()


class Defender(BaseAgent):
    pass


class Benign(BaseAgent):
    pass


def test_three_roles_play_concurrently(server_for):
    """Attacker, defender and benign user (all BaseAgent) share one game; upstream cannot start
    such a game (B1/B2). Each plays random valid actions for two episodes."""
    import random
    import threading
    from netsecgame.utils.utils import generate_valid_actions

    server = server_for(REPO / "tasks" / "multi_agent.yaml")
    results, errors = {}, []

    def play(cls, role, seed):
        try:
            rng = random.Random(seed)
            agent = cls("127.0.0.1", server.port, role)
            obs = agent.register()
            assert obs is not None, f"{role} could not register"
            finals = []
            for episode in range(2):
                steps = 0
                while not obs.end:
                    actions = sorted(generate_valid_actions(obs.state, include_blocks=(role is AgentRole.Defender)), key=str)
                    obs = agent.make_step(rng.choice(actions))
                    steps += 1
                    assert steps <= 100, "max_steps is 100 for every role"
                finals.append((obs.reward, obs.info.get("end_reason"), steps))
                if episode == 0:
                    obs = agent.request_game_reset()
                    assert obs is not None and not obs.end
            results[role] = finals
            agent.terminate_connection()
        except Exception as e:  # surfaced below
            errors.append(f"{role}: {e!r}")

    threads = [threading.Thread(target=play, args=a) for a in
               ((Attacker, AgentRole.Attacker, 1), (Defender, AgentRole.Defender, 2), (Benign, AgentRole.Benign, 3))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert set(results) == {AgentRole.Attacker, AgentRole.Defender, AgentRole.Benign}
    for reward, reason, steps in results[AgentRole.Attacker]:
        assert reason in ("AgentStatus.Success", "AgentStatus.Fail", "AgentStatus.TimeoutReached")
        assert reward == (99 if reason == "AgentStatus.Success" else -11)
    for reward, reason, steps in results[AgentRole.Defender]:
        # The defender wins unless the attacker did, and pays 5 per false positive.
        assert reason in ("AgentStatus.Success", "AgentStatus.Fail")
        assert (reward - (-1 + (100 if reason == "AgentStatus.Success" else -10))) % 5 == 0


def test_one_agent_plays_several_games_of_one_server(server_for):
    """`--games 3`: three independent games on consecutive ports; one ParallelAgent plays
    whole episodes on all of them at once."""
    import random
    import socket
    import time
    from parallel_agent import ParallelAgent
    from netsecgame.utils.utils import generate_valid_actions

    server = server_for(REPO / "tasks" / "default.yaml", extra=("--games", "3"))
    ports = [server.port, server.port + 1, server.port + 2]
    deadline = time.time() + 10
    for port in ports:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.time() < deadline, f"port {port} is not served"
                time.sleep(0.02)
    agent = ParallelAgent("127.0.0.1", ports, AgentRole.Attacker)
    observations = agent.register()
    assert all(o is not None for o in observations)
    rng = random.Random(3)
    for episode in range(2):
        steps = 0
        while not all(o.end for o in observations):
            actions = [rng.choice(sorted(generate_valid_actions(o.state), key=str)) for o in observations]
            observations = [
                old if old.end else new
                for old, new in zip(observations, agent.make_step(actions))
            ]
            steps += 1
            assert steps <= 60
        assert all(o.info.get("end_reason") for o in observations)
        observations = agent.request_game_reset()
        assert all(o is not None and not o.end for o in observations)
    # The games are independent: each has its own world (a scan in one is not logged in another).
    agent.close()

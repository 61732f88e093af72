"""The in-process environments (`netsecgame_rs`): Gymnasium and PettingZoo conformance,
masks, determinism, bad input, and equality with our server over TCP (official client)."""
import json
import os
import random

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings, strategies as st
from pettingzoo import ParallelEnv
from pettingzoo.test import parallel_api_test, parallel_seed_test

import netsecgame_rs
from conftest import REFERENCE, REPO

TINY = "two_networks_tiny"


def random_valid(mask, rng):
    valid = np.flatnonzero(mask)
    return int(valid[rng.randrange(len(valid))]) if len(valid) else 0


# -- Gymnasium ---------------------------------------------------------------------------------

@pytest.mark.parametrize("observation", ["vector", "graph", "json", "string"])
def test_gymnasium_check_env(observation):
    env = netsecgame_rs.make_env(TINY, seed=1, observation=observation)
    assert isinstance(env, gym.Env)
    check_env(env, skip_render_check=True)


def test_spaces_and_info():
    env = netsecgame_rs.make_env(TINY, role="Attacker", seed=3)
    assert env.action_space == gym.spaces.Discrete(330)
    obs, info = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.shape == env.observation_space.shape
    assert env.observation_space.contains(obs)
    mask = info["action_mask"]
    assert mask.dtype == bool and mask.shape == (330,) and mask.any()
    assert (env.action_masks() == mask).all()
    obs, reward, terminated, truncated, info = env.step(int(np.flatnonzero(mask)[0]))
    assert reward == -1 and not terminated and not truncated and info["valid_action"]
    assert env.max_steps == 50 and "Samba" in env.goal_description


def test_invalid_action_is_a_no_op_with_the_step_reward():
    env = netsecgame_rs.make_env(TINY, seed=3)
    obs, info = env.reset(seed=1)
    invalid = int(np.flatnonzero(~info["action_mask"])[0])
    state = env.state_json()
    obs2, reward, terminated, truncated, info2 = env.step(invalid)
    assert reward == -1 and not info2["valid_action"] and not (terminated or truncated)
    assert env.state_json() == state and (obs2 == obs).all()


def test_goal_terminates_with_the_task_reward_and_step_limit_truncates():
    env = netsecgame_rs.make_env(REFERENCE / "traces" / "two_networks_tiny.task.yaml", seed=42)
    env.reset()
    actions = env.all_actions()

    def index(kind, **params):
        for i, a in enumerate(actions):
            if a["action_type"] == f"ActionType.{kind}" and all(a["parameters"].get(k) == v for k, v in params.items()):
                return i
        raise KeyError(kind, params)

    ip = lambda s: {"ip": s}  # noqa: E731
    server, cc, start = ip("192.168.1.2"), ip("213.47.23.195"), ip("192.168.2.2")
    plan = [index("ScanNetwork", source_host=start, target_network={"ip": "192.168.1.0", "mask": 24}),
            index("FindServices", source_host=start, target_host=server)]
    for i in plan:
        _, reward, terminated, truncated, _ = env.step(i)
        assert reward == -1 and not terminated
    smb = next(s for s in json.loads(env.state_json())["known_services"]["192.168.1.2"] if "microsoft-ds" in s["name"])
    env.step(index("ExploitService", source_host=start, target_host=server, target_service=smb))
    env.step(index("FindData", source_host=server, target_host=server))
    data = {"owner": "User1", "id": "DataFromServer1", "size": 0, "type": "", "content": ""}
    _, reward, terminated, truncated, info = env.step(index("ExfiltrateData", source_host=server, target_host=cc, data=data))
    assert terminated and not truncated and reward == 99
    assert info["end_reason"] == "AgentStatus.Success" and info["episode_steps"] == 5
    # Timeout: 60 no-op steps, truncated with step + fail reward.
    env.reset()
    invalid = int(np.flatnonzero(~env.action_masks())[0])
    for step in range(60):
        _, reward, terminated, truncated, info = env.step(invalid)
    assert truncated and not terminated and reward == -11 and info["end_reason"] == "AgentStatus.TimeoutReached"


def test_determinism_with_a_seed():
    def play(seed):
        env = netsecgame_rs.make_env("two_networks", seed=seed)
        rng = random.Random(5)
        out = []
        for episode in range(3):
            obs, info = env.reset(seed=100 + episode if episode == 1 else None)
            done = False
            while not done:
                obs, reward, terminated, truncated, info = env.step(random_valid(info["action_mask"], rng))
                out.append((obs.tobytes(), reward, terminated, truncated))
                done = terminated or truncated
        return out
    assert play(7) == play(7)
    assert play(7) != play(8)


def test_defender_env_with_a_builtin_attacker():
    env = netsecgame_rs.make_env(TINY, role="Defender", seed=2, opponents={"Attacker": "scripted_attacker"})
    check_env(env, skip_render_check=True)
    obs, info = env.reset(seed=4)
    rng = random.Random(1)
    ends = 0
    for _ in range(500):
        obs, reward, terminated, truncated, info = env.step(random_valid(info["action_mask"], rng))
        if terminated or truncated:
            ends += 1
            obs, info = env.reset()
    assert ends > 3


# -- masks ---------------------------------------------------------------------------------------

def expected_mask(state, actions, with_blocks):
    """The valid actions (netsecgame::agents::valid_actions) of a JSON state, looked up in the list."""
    ip = lambda h: h["ip"]  # noqa: E731
    controlled = [ip(h) for h in state["controlled_hosts"]]
    known = [ip(h) for h in state["known_hosts"]]
    nets = [(n["ip"], n["mask"]) for n in state["known_networks"]]
    key = lambda d: (d["owner"], d["id"], d["type"])  # noqa: E731
    valid = set()
    for src in controlled:
        valid.update(("ScanNetwork", src, n) for n in nets)
        valid.update(("FindServices", src, h) for h in known)
        for host, services in state["known_services"].items():
            valid.update(("ExploitService", src, host, json.dumps(s, sort_keys=True)) for s in services)
        valid.update(("FindData", src, h) for h in controlled)
        for d in state["known_data"].get(src, []):
            valid.update(("ExfiltrateData", src, t, key(d)) for t in controlled if t != src)
        if with_blocks:
            valid.update(("BlockIP", src, t, b) for t in controlled for b in known if b != t)
    mask = np.zeros(len(actions), dtype=bool)
    for i, a in enumerate(actions):
        kind, p = a["action_type"].split(".")[1], a["parameters"]
        src = p["source_host"]["ip"]
        k = {"ScanNetwork": lambda: (kind, src, (p["target_network"]["ip"], p["target_network"]["mask"])),
             "FindServices": lambda: (kind, src, p["target_host"]["ip"]),
             "ExploitService": lambda: (kind, src, p["target_host"]["ip"], json.dumps(p["target_service"], sort_keys=True)),
             "FindData": lambda: (kind, src, p["target_host"]["ip"]),
             "ExfiltrateData": lambda: (kind, src, p["target_host"]["ip"], key(p["data"])),
             "BlockIP": lambda: (kind, src, p["target_host"]["ip"], p["blocked_ip"]["ip"])}[kind]()
        mask[i] = k in valid
    return mask


@settings(max_examples=25, deadline=None)
@given(scenario=st.sampled_from(["two_networks_tiny", "two_networks_small", "three_net_scenario", "scenario1_small"]),
       seed=st.integers(0, 2**31), role=st.sampled_from(["Attacker", "Defender"]), steps=st.integers(1, 60))
def test_mask_is_the_valid_actions(scenario, seed, role, steps):
    opponents = {"Attacker": "random_attacker"} if role == "Defender" else None
    env = netsecgame_rs.make_env(scenario, role=role, seed=seed, opponents=opponents)
    actions = env.all_actions()
    rng = random.Random(seed)
    obs, info = env.reset()
    for _ in range(steps):
        mask = info["action_mask"]
        assert (mask == env.action_masks()).all()
        assert (mask == expected_mask(json.loads(env.state_json()), actions, role == "Defender")).all()
        obs, reward, terminated, truncated, info = env.step(random_valid(mask, rng))
        if terminated or truncated:
            obs, info = env.reset()


def test_state_string_is_the_official_clients():
    from netsecgame.game_components import GameState
    from netsecgame.utils.utils import state_as_ordered_string
    for scenario in ("two_networks_tiny", "two_networks", "three_net_scenario"):
        env = netsecgame_rs.make_env(scenario, seed=11, observation="string")
        obs, info = env.reset()
        rng = random.Random(2)
        for _ in range(80):
            expected = state_as_ordered_string(GameState.from_dict(json.loads(env.state_json())))
            assert obs == expected
            obs, reward, terminated, truncated, info = env.step(random_valid(info["action_mask"], rng))
            if terminated or truncated:
                obs, info = env.reset()


def test_graph_observation():
    env = netsecgame_rs.make_env(TINY, seed=1, observation="graph")
    obs, info = env.reset(seed=2)
    assert isinstance(obs, gym.spaces.GraphInstance)
    assert obs.nodes.shape[1] == 6 and obs.edge_links.shape == (len(obs.edges), 2)
    assert env.observation_space.contains(obs)


# -- bad input -----------------------------------------------------------------------------------

def test_bad_input_raises_clear_exceptions(tmp_path):
    with pytest.raises(ValueError, match="no_such_world.*embedded scenarios"):
        netsecgame_rs.make_env("no_such_world")
    with pytest.raises(ValueError, match="does not exist"):
        netsecgame_rs.make_env(str(tmp_path / "missing.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("env: {}\n")
    with pytest.raises(ValueError, match="scenario"):
        netsecgame_rs.make_env(bad)
    with pytest.raises(ValueError, match="unknown role"):
        netsecgame_rs.make_env(TINY, role="Hacker")
    with pytest.raises(ValueError, match="needs an attacker"):
        netsecgame_rs.make_env(TINY, role="Defender")
    with pytest.raises(ValueError, match="unknown built-in agent"):
        netsecgame_rs.make_env(TINY, role="Defender", opponents={"Attacker": "nobody"})
    with pytest.raises(ValueError, match="observation mode"):
        netsecgame_rs.make_env(TINY, observation="pixels")
    with pytest.raises(TypeError, match="seed"):
        netsecgame_rs.make_env(TINY, seed="42")
    env = netsecgame_rs.make_env(TINY, seed=1)
    with pytest.raises(ResetNeeded, match="reset"):
        env.step(0)
    env.reset()
    with pytest.raises(ValueError, match="out of range.*330"):
        env.step(330)
    with pytest.raises(ValueError, match="out of range"):
        env.step(-1)
    with pytest.raises(TypeError, match="int"):
        env.step(1.5)
    with pytest.raises(TypeError, match="int"):
        env.step("3")
    with pytest.raises(ValueError, match="shape"):
        env.step(np.array([1, 2]))
    invalid = int(np.flatnonzero(~env.action_masks())[0])
    done = False
    while not done:
        _, _, terminated, truncated, _ = env.step(invalid)
        done = terminated or truncated
    with pytest.raises(ResetNeeded, match="episode is over"):
        env.step(invalid)
    vec = netsecgame_rs.make_vector_env(TINY, 4, seed=1)
    with pytest.raises(ResetNeeded):
        vec.step(np.zeros(4, dtype=np.int64))
    vec.reset()
    with pytest.raises(ValueError, match="shape"):
        vec.step(np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="integers"):
        vec.step(np.zeros(4, dtype=np.float32))
    with pytest.raises(ValueError, match="out of range"):
        vec.step(np.full(4, 999))
    with pytest.raises(ValueError, match="num_envs"):
        netsecgame_rs.make_vector_env(TINY, 0)
    par = netsecgame_rs.make_parallel_env(TINY, seed=1)
    par.reset()
    with pytest.raises(ValueError, match="no action for defender"):
        par.step({"attacker": 0, "benign": 0})
    with pytest.raises(ValueError, match="unknown agents"):
        par.step({"attacker": 0, "defender": 0, "benign": 0, "referee": 0})
    with pytest.raises(ValueError, match="Attacker"):
        netsecgame_rs.make_parallel_env(TINY, roles=["Defender", "Benign"])


# -- PettingZoo ----------------------------------------------------------------------------------

def test_pettingzoo_parallel_api():
    env = netsecgame_rs.make_parallel_env(TINY, seed=3)
    assert isinstance(env, ParallelEnv)
    assert env.possible_agents == ["attacker", "defender", "benign"]
    parallel_api_test(env, num_cycles=300)


def test_pettingzoo_seed_test():
    parallel_seed_test(lambda: netsecgame_rs.make_parallel_env(TINY), num_cycles=100)


def test_parallel_episode_ends_for_everyone_together():
    env = netsecgame_rs.make_parallel_env(TINY, seed=5)
    rng = random.Random(3)
    finals = 0
    for episode in range(5):
        obs, infos = env.reset(seed=episode)
        while env.agents:
            actions = {a: random_valid(infos[a]["action_mask"], rng) for a in env.agents}
            obs, rewards, terms, truncs, infos = env.step(actions)
            ended = [a for a in rewards if terms[a] or truncs[a]]
            if ended:
                assert sorted(ended) == sorted(rewards), "every agent's episode ends in the same round"
                assert len({(terms[a], truncs[a]) for a in ended}) == 1
                finals += 1
    assert finals == 5


# -- vectorised ----------------------------------------------------------------------------------

def test_vector_env_matches_single_envs_and_autoresets():
    n = 4
    vec = netsecgame_rs.make_vector_env(TINY, n, seed=10)
    assert isinstance(vec, gym.vector.VectorEnv)
    singles = [netsecgame_rs.make_env(TINY, seed=10 + i) for i in range(n)]
    obs, infos = vec.reset(seed=50)
    assert obs.shape == (n, 66) and infos["action_mask"].shape == (n, 330)
    expected = [e.reset(seed=50 + i) for i, e in enumerate(singles)]
    for i in range(n):
        assert (obs[i] == expected[i][0]).all()
    pending = [False] * n
    resets = 0
    for step in range(300):
        actions = vec.sample_valid_actions()
        assert actions.shape == (n,)
        assert all(infos["action_mask"][i, actions[i]] for i in range(n))
        obs, rewards, terms, truncs, infos = vec.step(actions)
        for i, env in enumerate(singles):
            if pending[i]:
                o, info = env.reset()
                r, te, tr = 0.0, False, False
                resets += 1
            else:
                o, r, te, tr, info = env.step(int(actions[i]))
            assert (obs[i] == o).all() and rewards[i] == r and terms[i] == te and truncs[i] == tr, (step, i)
            assert (infos["action_mask"][i] == info["action_mask"]).all()
            pending[i] = te or tr
    assert resets >= n


# -- against our server over TCP (official client, WhiteBox) --------------------------------------

def normal(value):
    if isinstance(value, dict):
        is_data = "owner" in value and "id" in value
        return {k: normal(v) for k, v in sorted(value.items()) if not (is_data and k in ("size", "content"))}
    if isinstance(value, list):
        return sorted((normal(v) for v in value), key=lambda x: json.dumps(x, sort_keys=True))
    return value


@pytest.mark.parametrize("task", ["two_networks_tiny", "three_net_scenario"])
def test_tcp_episodes_replay_through_the_env(server_for, tmp_path, task):
    """Episodes played over TCP against our WhiteBox server (seed 42) by the official client
    give the same observations as the env (seed 42) stepping the same action indices."""
    from netsecgame.agents.base_agent import BaseAgent
    from netsecgame.game_components import Action, AgentRole

    task_file = tmp_path / "task.yaml"
    text = (REFERENCE / "traces" / f"{task}.task.yaml").read_text()
    text = text.replace("use_global_defender: False", "use_global_defender: True")
    task_file.write_text(text.replace("scenario: '", f"scenario: '"))
    server = server_for(task_file, extra=["--whitebox", "--seed", "42"])
    agent = BaseAgent("127.0.0.1", server.port, AgentRole.Attacker)
    first = agent.register()
    env = netsecgame_rs.make_env(task_file, seed=42)
    listed = json.loads(first.info["all_actions"])
    assert listed == env.all_actions(), "the env's action list is the WhiteBox list, in order"
    rng = random.Random(task)
    obs, info = env.reset()
    assert normal(json.loads(env.state_json())) == normal(first.state.as_dict)
    compared = 0
    for episode in range(4):
        if episode:
            seed = 7 * episode if episode % 2 else None
            tcp = agent.request_game_reset(seed=seed)
            obs, info = env.reset(seed=seed)
            assert normal(json.loads(env.state_json())) == normal(tcp.state.as_dict)
        done = False
        while not done:
            i = random_valid(info["action_mask"], rng)
            tcp = agent.make_step(Action.from_dict(listed[i]))
            obs, reward, terminated, truncated, info = env.step(i)
            assert normal(json.loads(env.state_json())) == normal(tcp.state.as_dict), (episode, i)
            assert reward == tcp.reward and (terminated or truncated) == tcp.end
            if tcp.end:
                assert info["end_reason"] == tcp.info.get("end_reason")
            done = terminated or truncated
            compared += 1
    agent.terminate_connection()
    assert compared > 40


# -- MaskablePPO (opt-in: needs torch) ------------------------------------------------------------

@pytest.mark.skipif(os.environ.get("NETSECGAME_ML_SMOKE") != "1", reason="set NETSECGAME_ML_SMOKE=1 (needs sb3-contrib)")
def test_maskable_ppo_smoke():
    from sb3_contrib import MaskablePPO
    env = netsecgame_rs.make_env(TINY, seed=0)
    model = MaskablePPO("MlpPolicy", env, n_steps=256, batch_size=64, seed=0, verbose=0)
    model.learn(total_timesteps=2048)
    obs, info = env.reset(seed=1)
    action, _ = model.predict(obs, action_masks=env.action_masks(), deterministic=True)
    assert info["action_mask"][int(action)]


def test_a_bad_action_in_a_batch_or_round_moves_nobody():
    vec = netsecgame_rs.make_vector_env(TINY, 3, seed=1)
    obs, infos = vec.reset(seed=2)
    good = vec.sample_valid_actions()
    with pytest.raises(ValueError, match="out of range"):
        vec.step(np.array([good[0], good[1], 400]))
    obs2, rewards, terms, truncs, infos2 = vec.step(good)
    fresh = netsecgame_rs.make_vector_env(TINY, 3, seed=1)
    fresh.reset(seed=2)
    obs3, rewards3, *_ = fresh.step(good)
    assert (obs2 == obs3).all() and (rewards == rewards3).all()
    par = netsecgame_rs.make_parallel_env(TINY, seed=1)
    obs, infos = par.reset(seed=3)
    state = par._game.observe_json(0)
    first = int(np.flatnonzero(infos["attacker"]["action_mask"])[0])
    with pytest.raises(ValueError, match="out of range"):
        par.step({"attacker": first, "defender": 10**6, "benign": 0})
    assert par._game.observe_json(0) == state

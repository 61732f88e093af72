//! Python bindings (feature `python`): the module `netsecgame_rs._core`, built by maturin
//! (see `pyproject.toml`). The Gymnasium and PettingZoo classes are Python
//! (`src/python/netsecgame_rs/`) and call these.
//!
//! Everything here is a thin shell over [`crate::env`]: it converts arguments, maps
//! [`EnvError`] to Python exceptions (`ValueError` for bad input, `RuntimeError` for a call
//! out of turn), and hands out fresh `NumPy` arrays (a returned observation or mask never
//! changes under the caller). The hot calls (`Game.step_vector`, `VecGame.step`) do the whole
//! step in Rust and return the arrays in one call; `VecGame` releases the GIL while its games
//! step (on the calling thread, or spread over `threads` threads).

// PyO3's macros expand to `unsafe` blocks (FFI glue); no hand-written unsafe code lives here.
#![allow(unsafe_code)]

use crate::agents::BuiltinAgent;
use crate::components::AgentRole;
use crate::env::observe::{encode_graph, encode_json, encode_state_string, encode_vector, VectorLayout};
use crate::env::{load_task, ActionSpace, Env, EnvError, SeatResult, Table, Transition};
use crate::pyjson::to_py_json;
use crate::rng::{seeded_rng, GameRng};
use crate::task::TaskConfig;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use rand::Rng;
use std::sync::Arc;

type F32s<'py> = Bound<'py, PyArray1<f32>>;
type F32s2<'py> = Bound<'py, PyArray2<f32>>;
type Bools<'py> = Bound<'py, PyArray1<bool>>;
type Bools2<'py> = Bound<'py, PyArray2<bool>>;
type I64s<'py> = Bound<'py, PyArray1<i64>>;
type I64s2<'py> = Bound<'py, PyArray2<i64>>;
/// A graph observation: nodes, edge types, edge links.
type GraphArrays<'py> = (F32s2<'py>, I64s<'py>, I64s2<'py>);
/// One step of a single game: observation, reward, terminated, truncated, mask, valid.
type StepArrays<'py> = (F32s<'py>, f64, bool, bool, Bools<'py>, bool);
/// One step of a vector: observations, rewards, terminated, truncated, masks, valid.
type VecStepArrays<'py> = (F32s2<'py>, Bound<'py, PyArray1<f64>>, Bools<'py>, Bools<'py>, Bools2<'py>, Bools<'py>);
/// A seat's reply: reward, terminated, truncated, valid.
type SeatReply = (f64, bool, bool, bool);

/// The ChaCha8 stream of the action samplers (`sample_valid_action(s)`), apart from the
/// game's own streams so that sampling never changes the game's draws.
const SAMPLER_STREAM: u64 = 11;

fn py_err(e: EnvError) -> PyErr {
    match e {
        EnvError::EpisodeOver | EnvError::NotReset => PyRuntimeError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

fn role_of(text: &str) -> PyResult<AgentRole> {
    AgentRole::parse(text).ok_or_else(|| py_err(EnvError::UnknownRole(text.to_string())))
}

fn opponents_of(names: Option<Vec<String>>) -> PyResult<Vec<BuiltinAgent>> {
    names
        .unwrap_or_default()
        .iter()
        .map(|n| {
            BuiltinAgent::parse(n).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "unknown built-in agent `{n}` (expected one of {})",
                    BuiltinAgent::names()
                ))
            })
        })
        .collect()
}

/// The seed to start from: the given one, or fresh entropy.
fn seed_or_random(seed: Option<i64>) -> i64 {
    seed.unwrap_or_else(|| rand::rng().random::<i64>() & i64::MAX)
}

fn task_and_space(task_or_scenario: &str) -> PyResult<(Arc<TaskConfig>, Arc<ActionSpace>)> {
    let task = load_task(task_or_scenario).map_err(py_err)?;
    let space = Arc::new(ActionSpace::new(&task.topology));
    Ok((Arc::new(task), space))
}

/// A uniformly random index among the set bits of `mask` (0 when none is set).
fn pick_valid(rng: &mut GameRng, mask: &[bool], count: usize) -> i64 {
    if count == 0 {
        return 0;
    }
    let k = rng.random_range(0..count);
    mask.iter().enumerate().filter(|(_, m)| **m).nth(k).map_or(0, |(i, _)| i as i64)
}

/// Facts about a task's world shared by the Python classes.
fn describe(space: &ActionSpace) -> (usize, usize, usize) {
    (space.len(), VectorLayout::of(space).len(), crate::env::observe::Graph::node_count(space))
}

fn graph<'py>(
    py: Python<'py>,
    space: &ActionSpace,
    state: &crate::components::GameState,
) -> PyResult<GraphArrays<'py>> {
    let g = encode_graph(space, state);
    let n = g.nodes.len() / crate::env::observe::NODE_FEATURES;
    let e = g.edges.len();
    let nodes = Array2::from_shape_vec((n, crate::env::observe::NODE_FEATURES), g.nodes)
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let links = Array2::from_shape_vec((e, 2), g.links).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok((nodes.into_pyarray(py), g.edges.into_pyarray(py), links.into_pyarray(py)))
}

/// One learning agent's game (the Gymnasium environment's engine).
#[pyclass(module = "netsecgame_rs._core")]
pub struct Game {
    env: Env,
    rng: GameRng,
}

impl Game {
    fn obs_and_mask<'py>(&mut self, py: Python<'py>) -> (F32s<'py>, Bools<'py>) {
        let mut obs = vec![0.0f32; VectorLayout::of(self.env.space()).len()];
        encode_vector(self.env.space(), self.env.state(), &mut obs);
        let mut mask = vec![false; self.env.space().len()];
        self.env.mask_into(&mut mask);
        (obs.into_pyarray(py), mask.into_pyarray(py))
    }
}

#[pymethods]
impl Game {
    #[new]
    #[pyo3(signature = (task_or_scenario, role = "Attacker", seed = None, opponents = None))]
    fn new(task_or_scenario: &str, role: &str, seed: Option<i64>, opponents: Option<Vec<String>>) -> PyResult<Self> {
        let (task, space) = task_and_space(task_or_scenario)?;
        let seed = seed_or_random(seed);
        let env = Env::new(task, space, role_of(role)?, &opponents_of(opponents)?, seed).map_err(py_err)?;
        Ok(Game { env, rng: seeded_rng(seed, SAMPLER_STREAM) })
    }

    /// (number of actions, vector observation length, graph node count).
    fn sizes(&self) -> (usize, usize, usize) {
        describe(self.env.space())
    }

    /// Starts an episode; returns the vector observation and the mask.
    #[pyo3(signature = (seed = None))]
    fn reset<'py>(&mut self, py: Python<'py>, seed: Option<i64>) -> (F32s<'py>, Bools<'py>) {
        if let Some(s) = seed {
            self.rng = seeded_rng(s, SAMPLER_STREAM);
        }
        self.env.reset(seed);
        self.obs_and_mask(py)
    }

    /// One step: (observation, reward, terminated, truncated, mask, valid).
    fn step<'py>(&mut self, py: Python<'py>, action: i64) -> PyResult<StepArrays<'py>> {
        let t = self.env.step(action).map_err(py_err)?;
        let (obs, mask) = self.obs_and_mask(py);
        Ok((obs, t.reward, t.terminated, t.truncated, mask, t.valid))
    }

    /// The current valid-action mask.
    fn action_mask<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<bool>> {
        let mut mask = vec![false; self.env.space().len()];
        self.env.mask_into(&mut mask);
        mask.into_pyarray(py)
    }

    /// A uniformly random valid action (from the game's own seeded generator).
    fn sample_valid_action(&mut self) -> i64 {
        pick_valid(&mut self.rng, self.env.mask(), self.env.valid_count())
    }

    fn observe_vector<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        let mut obs = vec![0.0f32; VectorLayout::of(self.env.space()).len()];
        encode_vector(self.env.space(), self.env.state(), &mut obs);
        obs.into_pyarray(py)
    }

    /// (nodes, edge types, edge links).
    fn observe_graph<'py>(&self, py: Python<'py>) -> PyResult<GraphArrays<'py>> {
        graph(py, self.env.space(), self.env.state())
    }

    fn observe_json(&self) -> String {
        encode_json(self.env.state())
    }

    fn observe_string(&self) -> String {
        encode_state_string(self.env.state())
    }

    /// Episode facts for `info`: (steps, episode return, detected, end reason or None, goal description).
    fn episode(&self) -> (u64, f64, bool, Option<&'static str>, String) {
        let s = self.env.seat();
        let reason = s.ep.status.is_terminal().then(|| s.ep.status.wire());
        (s.ep.steps, s.ep.episode_return, s.ep.detected, reason, self.env.goal_description().to_string())
    }

    fn max_steps(&self) -> Option<u64> {
        self.env.game().task().role(self.env.role()).max_steps
    }

    fn role(&self) -> &'static str {
        self.env.role().name()
    }

    /// Action `index` in upstream's JSON form (what a WhiteBox server's `all_actions` lists).
    fn action_json(&self, index: usize) -> PyResult<String> {
        let len = self.env.space().len();
        self.env
            .space()
            .action(index)
            .map(to_py_json)
            .ok_or_else(|| py_err(EnvError::ActionOutOfRange { index: index as i64, len }))
    }

    /// The whole action list in upstream's JSON form (the WhiteBox `all_actions` value).
    fn all_actions_json(&self) -> String {
        to_py_json(self.env.space().actions())
    }
}

fn transition_tuple(t: &Transition) -> SeatReply {
    (t.reward, t.terminated, t.truncated, t.valid)
}

/// Every role's learning agent at one table (the `PettingZoo` environment's engine).
#[pyclass(module = "netsecgame_rs._core")]
pub struct ParallelGame {
    table: Table,
}

#[pymethods]
impl ParallelGame {
    #[new]
    #[pyo3(signature = (task_or_scenario, roles, seed = None))]
    fn new(task_or_scenario: &str, roles: Vec<String>, seed: Option<i64>) -> PyResult<Self> {
        let (task, space) = task_and_space(task_or_scenario)?;
        let roles = roles.iter().map(|r| role_of(r)).collect::<PyResult<Vec<_>>>()?;
        let table = Table::new(task, space, &roles, seed_or_random(seed)).map_err(py_err)?;
        Ok(ParallelGame { table })
    }

    fn sizes(&self) -> (usize, usize, usize) {
        describe(self.table.space())
    }

    /// The seats' roles in moving order.
    fn roles(&self) -> Vec<&'static str> {
        self.table.game().seats().iter().map(|s| s.role.name()).collect()
    }

    #[pyo3(signature = (seed = None))]
    fn reset(&mut self, seed: Option<i64>) {
        self.table.reset(seed);
    }

    /// One round; per seat None (waiting: its final reply comes when the others' episodes
    /// end; or done) or (reward, terminated, truncated, valid).
    fn step(&mut self, actions: Vec<i64>) -> PyResult<Vec<Option<SeatReply>>> {
        let results = self.table.step(&actions).map_err(py_err)?;
        Ok(results
            .iter()
            .map(|r| match r {
                SeatResult::Moved(t) => Some(transition_tuple(t)),
                SeatResult::Waiting | SeatResult::Done => None,
            })
            .collect())
    }

    fn action_mask<'py>(&self, py: Python<'py>, seat: usize) -> Bound<'py, PyArray1<bool>> {
        let mut mask = vec![false; self.table.space().len()];
        self.table.mask_into(seat, &mut mask);
        mask.into_pyarray(py)
    }

    fn observe_vector<'py>(&self, py: Python<'py>, seat: usize) -> Bound<'py, PyArray1<f32>> {
        let mut obs = vec![0.0f32; VectorLayout::of(self.table.space()).len()];
        encode_vector(self.table.space(), self.table.game().state(seat), &mut obs);
        obs.into_pyarray(py)
    }

    fn observe_graph<'py>(&self, py: Python<'py>, seat: usize) -> PyResult<GraphArrays<'py>> {
        graph(py, self.table.space(), self.table.game().state(seat))
    }

    fn observe_json(&self, seat: usize) -> String {
        encode_json(self.table.game().state(seat))
    }

    fn observe_string(&self, seat: usize) -> String {
        encode_state_string(self.table.game().state(seat))
    }

    /// Episode facts of a seat: (steps, episode return, detected, end reason or None, goal).
    fn episode(&self, seat: usize) -> (u64, f64, bool, Option<&'static str>, String) {
        let s = self.table.game().seat(seat);
        let reason = s.ep.status.is_terminal().then(|| s.ep.status.wire());
        (s.ep.steps, s.ep.episode_return, s.ep.detected, reason, self.table.game().goal_description(seat).to_string())
    }

    fn all_actions_json(&self) -> String {
        to_py_json(self.table.space().actions())
    }
}

/// Below this many games a step runs on the calling thread (threads cost more than they save).
const PARALLEL_FROM: usize = 16;

/// N games stepped together (the vectorised environment's engine). Autoreset is Gymnasium's
/// next-step mode: the step after an episode's last one resets that game (its action is
/// ignored, its reward is 0) and returns the new episode's first observation.
#[pyclass(module = "netsecgame_rs._core")]
pub struct VecGame {
    envs: Vec<Env>,
    /// Per game: the last step ended its episode; the next step resets it.
    pending_reset: Vec<bool>,
    rngs: Vec<GameRng>,
    obs_len: usize,
    n_actions: usize,
    threads: usize,
}

/// One game's slice of the batched outputs.
struct Out<'a> {
    obs: &'a mut [f32],
    mask: &'a mut [bool],
    reward: &'a mut f64,
    terminated: &'a mut bool,
    truncated: &'a mut bool,
    valid: &'a mut bool,
}

fn write_obs(env: &Env, out: &mut Out<'_>) {
    encode_vector(env.space(), env.state(), out.obs);
    env.mask_into(out.mask);
}

/// Runs `f` over the games and their output slices, on `threads` threads.
fn for_each_game<F>(threads: usize, items: Vec<(&mut Env, &mut bool, Out<'_>, i64)>, f: F) -> Result<(), EnvError>
where
    F: Fn(&mut Env, &mut bool, Out<'_>, i64) -> Result<(), EnvError> + Sync,
{
    if threads <= 1 || items.len() < PARALLEL_FROM {
        for (env, pending, out, a) in items {
            f(env, pending, out, a)?;
        }
        return Ok(());
    }
    let chunk = items.len().div_ceil(threads);
    let mut items = items;
    let mut chunks = Vec::new();
    while !items.is_empty() {
        let rest = items.split_off(chunk.min(items.len()));
        chunks.push(std::mem::replace(&mut items, rest));
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let f = &f;
                scope.spawn(move || {
                    for (env, pending, out, a) in chunk {
                        f(env, pending, out, a)?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(EnvError::Game("a game thread panicked".into()))))
            .collect::<Result<Vec<()>, EnvError>>()
    })?;
    Ok(())
}

impl VecGame {
    fn run<'py>(
        &mut self,
        py: Python<'py>,
        actions: Option<Vec<i64>>,
        seed: Option<i64>,
    ) -> PyResult<VecStepArrays<'py>> {
        let n = self.envs.len();
        let (d, a) = (self.obs_len, self.n_actions);
        let mut obs = vec![0.0f32; n * d];
        let mut mask = vec![false; n * a];
        let mut reward = vec![0.0f64; n];
        let mut terminated = vec![false; n];
        let mut truncated = vec![false; n];
        let mut valid = vec![true; n];
        let threads = self.threads;
        let envs = &mut self.envs;
        let pending = &mut self.pending_reset;
        py.detach(|| {
            let items: Vec<_> = envs
                .iter_mut()
                .zip(pending.iter_mut())
                .zip(obs.chunks_mut(d.max(1)).zip(mask.chunks_mut(a.max(1))))
                .zip(reward.iter_mut().zip(terminated.iter_mut()).zip(truncated.iter_mut().zip(valid.iter_mut())))
                .enumerate()
                .map(|(i, (((env, p), (o, m)), ((r, te), (tr, v))))| {
                    let act = actions.as_ref().map_or(-1, |acts| acts[i]);
                    (env, p, Out { obs: o, mask: m, reward: r, terminated: te, truncated: tr, valid: v }, act)
                })
                .collect();
            let resetting = actions.is_none();
            for_each_game(threads, items, |env, pending, mut out, act| {
                if resetting {
                    env.reset(seed.map(|s| s.wrapping_add(out_index_seed(env))));
                    *pending = false;
                } else if *pending {
                    env.reset(None);
                    *pending = false;
                } else {
                    let t = env.step(act)?;
                    *out.reward = t.reward;
                    *out.terminated = t.terminated;
                    *out.truncated = t.truncated;
                    *out.valid = t.valid;
                    *pending = t.terminated || t.truncated;
                }
                write_obs(env, &mut out);
                Ok(())
            })
        })
        .map_err(py_err)?;
        let obs = Array2::from_shape_vec((n, d), obs).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        let mask = Array2::from_shape_vec((n, a), mask).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok((
            obs.into_pyarray(py),
            reward.into_pyarray(py),
            terminated.into_pyarray(py),
            truncated.into_pyarray(py),
            mask.into_pyarray(py),
            valid.into_pyarray(py),
        ))
    }
}

/// Each game of a vector is reseeded with `seed + its index`; the index travels in the
/// game's own seed offset, set at construction.
fn out_index_seed(env: &Env) -> i64 {
    env.vector_index() as i64
}

#[pymethods]
impl VecGame {
    #[new]
    #[pyo3(signature = (task_or_scenario, num_envs, role = "Attacker", seed = None, opponents = None, threads = None))]
    fn new(
        task_or_scenario: &str,
        num_envs: usize,
        role: &str,
        seed: Option<i64>,
        opponents: Option<Vec<String>>,
        threads: Option<usize>,
    ) -> PyResult<Self> {
        if num_envs == 0 {
            return Err(PyValueError::new_err("num_envs must be at least 1"));
        }
        let (task, space) = task_and_space(task_or_scenario)?;
        let role = role_of(role)?;
        let opponents = opponents_of(opponents)?;
        let seed = seed_or_random(seed);
        let envs = (0..num_envs)
            .map(|i| {
                Env::new(task.clone(), space.clone(), role, &opponents, seed.wrapping_add(i as i64))
                    .map(|e| e.with_vector_index(i))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(py_err)?;
        // The caller's thread unless asked: on the shared 2-core machine a second thread per
        // call was slower more often than not (README, Speed); `threads=2` on an idle one.
        let threads = threads.unwrap_or(1).clamp(1, num_envs);
        Ok(VecGame {
            pending_reset: vec![false; num_envs],
            rngs: (0..num_envs).map(|i| seeded_rng(seed.wrapping_add(i as i64), SAMPLER_STREAM)).collect(),
            obs_len: VectorLayout::of(&space).len(),
            n_actions: space.len(),
            envs,
            threads,
        })
    }

    fn sizes(&self) -> (usize, usize, usize) {
        describe(self.envs[0].space())
    }

    fn __len__(&self) -> usize {
        self.envs.len()
    }

    /// Resets every game (game `i` with `seed + i` when a seed is given); returns
    /// (observations, masks).
    #[pyo3(signature = (seed = None))]
    fn reset<'py>(&mut self, py: Python<'py>, seed: Option<i64>) -> PyResult<(F32s2<'py>, Bools2<'py>)> {
        if let Some(s) = seed {
            self.rngs = (0..self.envs.len()).map(|i| seeded_rng(s.wrapping_add(i as i64), SAMPLER_STREAM)).collect();
        }
        let (obs, _, _, _, mask, _) = self.run(py, None, seed)?;
        Ok((obs, mask))
    }

    /// One step of every game: (observations, rewards, terminated, truncated, masks, valid).
    fn step<'py>(&mut self, py: Python<'py>, actions: PyReadonlyArray1<'py, i64>) -> PyResult<VecStepArrays<'py>> {
        let actions = actions.as_slice().map_err(|e| PyValueError::new_err(e.to_string()))?.to_vec();
        if actions.len() != self.envs.len() {
            return Err(PyValueError::new_err(format!(
                "expected {} actions (one per game), got {}",
                self.envs.len(),
                actions.len()
            )));
        }
        if !self.envs.iter().all(|e| e.is_started()) {
            return Err(py_err(EnvError::NotReset));
        }
        // Checked before any game moves, so a bad action leaves the whole batch as it was.
        if let Some(&index) = actions.iter().find(|a| usize::try_from(**a).map_or(true, |a| a >= self.n_actions)) {
            return Err(py_err(EnvError::ActionOutOfRange { index, len: self.n_actions }));
        }
        self.run(py, Some(actions), None)
    }

    /// The current masks, one row per game.
    fn action_masks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<bool>>> {
        let (n, a) = (self.envs.len(), self.n_actions);
        let mut mask = vec![false; n * a];
        for (env, m) in self.envs.iter().zip(mask.chunks_mut(a.max(1))) {
            env.mask_into(m);
        }
        Ok(Array2::from_shape_vec((n, a), mask).map_err(|e| PyRuntimeError::new_err(e.to_string()))?.into_pyarray(py))
    }

    /// A uniformly random valid action per game (each game's own seeded generator).
    fn sample_valid_actions<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        let out: Vec<i64> = self
            .envs
            .iter()
            .zip(self.rngs.iter_mut())
            .map(|(env, rng)| pick_valid(rng, env.mask(), env.valid_count()))
            .collect();
        out.into_pyarray(py)
    }
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Game>()?;
    m.add_class::<ParallelGame>()?;
    m.add_class::<VecGame>()?;
    m.add("ACTION_TYPES", crate::components::ActionType::ALL.iter().map(|t| t.name()).collect::<Vec<_>>())?;
    m.add("SCENARIOS", crate::scenario::embedded_names())?;
    m.add("BUILTIN_AGENTS", BuiltinAgent::ALL.iter().map(|a| a.name()).collect::<Vec<_>>())?;
    Ok(())
}

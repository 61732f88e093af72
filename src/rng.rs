//! Seeded randomness. A game has one seed (the server's `--seed`, replaced by an agreed reset
//! seed); every consumer draws from its own ChaCha8 stream of it, so the world's draws do not
//! depend on whether the global defender is on, and a game is reproducible run to run. Bit
//! equality with Python's `random` is not a goal.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator type used throughout the game.
pub type GameRng = ChaCha8Rng;

/// Stream of the world: keyword resolution (`random`) and address remapping.
pub const WORLD_STREAM: u64 = 0;
/// Stream of the global defender's detection rolls.
pub const DEFENDER_STREAM: u64 = 1;
/// Stream of built-in agents' choices (each agent seeds it with its own seed).
pub const AGENT_STREAM: u64 = 7;

/// A ChaCha8 generator for `seed` on the given stream.
pub fn seeded_rng(seed: i64, stream: u64) -> GameRng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed as u64);
    rng.set_stream(stream);
    rng
}

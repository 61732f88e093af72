//! Memo of raw JSON text to what it decoded to, keyed by a 128-bit hash of the text, within
//! an entry budget.
//!
//! The same states and actions recur across a file's episodes (a training run revisits its
//! states thousands of times), and the same text always decodes to the same identity. So
//! before decoding a state or an action, its text is looked up here: a hit skips decoding,
//! sorting and printing it.
//!
//! The key is [`text_hash`]: XXH3-128 with a seed drawn once per process, computed by the
//! worker that decoded the line (the folding thread, which every line waits for, never hashes
//! or compares a state's kilobytes itself). Two different texts share a key with probability
//! about n²/2¹²⁹ for n distinct texts (below 10⁻²⁸ for a million); the seed is secret, so a
//! file cannot be crafted to collide. Keys are 16 bytes whatever the text's length, so the
//! memo holds every distinct text of a large file in a few megabytes; past `budget` entries,
//! new text is simply not remembered (decoding still works, only slower), so memory stays
//! bounded however varied a file is.

use hashbrown::HashTable;
use std::hash::BuildHasher;
use std::sync::LazyLock;

/// A text's key in a [`TextMemo`].
pub type TextHash = u128;

/// One seed per process, shared by every thread: a hash computed on a worker is valid on the
/// folding thread.
static SEED: LazyLock<u64> = LazyLock::new(|| foldhash::fast::RandomState::default().hash_one(0u8));

/// The key [`TextMemo`] looks `text` up by.
pub fn text_hash(text: &[u8]) -> TextHash {
    xxhash_rust::xxh3::xxh3_128_with_seed(text, *SEED)
}

#[derive(Debug)]
pub struct TextMemo<V> {
    table: HashTable<(TextHash, V)>,
    budget: usize,
}

/// The table's own hash of a key: the key is already a uniform hash, so its low bits do.
fn slot(key: TextHash) -> u64 {
    key as u64
}

impl<V: Copy> TextMemo<V> {
    /// A memo of at most `budget` texts.
    pub fn new(budget: usize) -> Self {
        TextMemo { table: HashTable::new(), budget }
    }

    /// The value of the text whose [`text_hash`] is `key`.
    pub fn get(&self, key: TextHash) -> Option<V> {
        self.table.find(slot(key), |e| e.0 == key).map(|e| e.1)
    }

    /// Remembers the text of hash `key`, unless it is known or the memo is full.
    pub fn insert(&mut self, key: TextHash, value: V) {
        if self.table.len() < self.budget && self.get(key).is_none() {
            self.table.insert_unique(slot(key), (key, value), |e| slot(e.0));
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_within_its_budget() {
        let mut m = TextMemo::new(2);
        let h = |t: &[u8]| text_hash(t);
        m.insert(h(b"aaaa"), 1);
        m.insert(h(b"bbbb"), 2);
        m.insert(h(b"bbbb"), 5); // known: kept as it was
        m.insert(h(b"cccc"), 3); // past the budget: not kept
        assert_eq!((m.get(h(b"aaaa")), m.get(h(b"bbbb")), m.get(h(b"cccc"))), (Some(1), Some(2), None));
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn keys_tell_texts_apart() {
        // Texts that differ in one byte, in their length, or only past a long common prefix.
        let long = vec![b'x'; 10_000];
        let mut longer = long.clone();
        longer.push(b'y');
        let mut other = long.clone();
        other[9_999] = b'z';
        let texts: [&[u8]; 6] = [b"", b"a", b"b", b"ab", &long, &longer];
        let mut keys: Vec<TextHash> = texts.iter().map(|t| text_hash(t)).collect();
        keys.push(text_hash(&other));
        let n = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), n);
        assert_eq!(text_hash(&long), text_hash(&long.clone()));
    }
}

//! Memo of raw JSON text to what it decoded to, within a byte budget. Keys are the bytes of
//! the line (checked as UTF-8 once, by the worker that decoded it).
//!
//! The same states and actions recur across a file's episodes (a training run revisits its
//! states thousands of times), and the same text always decodes to the same identity. So
//! before decoding a state or an action, its text is looked up here: a hit skips decoding,
//! sorting and printing it. The memo keeps text only up to `budget` bytes; past that, new
//! text is simply not remembered (decoding still works, only slower), so memory stays bounded
//! however varied a file is.

use foldhash::fast::RandomState;
use std::collections::HashMap;

#[derive(Debug)]
pub struct TextMemo<V> {
    map: HashMap<Box<[u8]>, V, RandomState>,
    bytes: usize,
    budget: usize,
}

impl<V: Copy> TextMemo<V> {
    pub fn new(budget: usize) -> Self {
        TextMemo { map: HashMap::default(), bytes: 0, budget }
    }

    pub fn get(&self, text: &[u8]) -> Option<V> {
        self.map.get(text).copied()
    }

    /// Remembers `text`, unless that would pass the budget.
    pub fn insert(&mut self, text: &[u8], value: V) {
        let cost = text.len() + 48; // the key's bytes plus the entry's own overhead
        if self.bytes + cost <= self.budget && !self.map.contains_key(text) {
            self.bytes += cost;
            self.map.insert(text.into(), value);
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_within_its_budget() {
        let mut m = TextMemo::new(120);
        m.insert(b"aaaa", 1);
        m.insert(b"bbbb", 2);
        m.insert(b"cccc", 3); // past the budget: not kept
        assert_eq!((m.get(b"aaaa"), m.get(b"bbbb"), m.get(b"cccc")), (Some(1), Some(2), None));
        assert_eq!(m.len(), 2);
    }
}

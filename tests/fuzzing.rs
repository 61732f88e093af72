//! Fuzzing the framer and the request decoder, bounded for CI: random bytes, and mutations of
//! real requests, in random chunkings. The same harness runs under libFuzzer in `fuzz/`.

#[path = "support/fuzz_harness.rs"]
mod harness;

use proptest::prelude::*;

/// Real requests from the reference transcripts, as seeds for mutation.
fn seeds() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/wire");
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "txt") {
            let text = std::fs::read(&p).unwrap();
            let nl = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
            out.push(text[..nl].to_vec());
        }
    }
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(prop::sample::Index, u8),
    Insert(prop::sample::Index, Vec<u8>),
    Delete(prop::sample::Index, usize),
    Splice(prop::sample::Index, prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let token = prop_oneof![
        Just(b"EOF".to_vec()),
        Just(b"{".to_vec()),
        Just(b"}".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\\u0000".to_vec()),
        Just(b"[[[[[[[[".to_vec()),
        Just(b"::1".to_vec()),
        Just(b"1e999".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<prop::sample::Index>(), token).prop_map(|(i, t)| Mutation::Insert(i, t)),
        (any::<prop::sample::Index>(), 1usize..16).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>()).prop_map(|(a, b)| Mutation::Splice(a, b)),
    ]
}

fn apply(mut data: Vec<u8>, other: &[u8], m: &Mutation) -> Vec<u8> {
    let len = data.len().max(1);
    match m {
        Mutation::Flip(i, b) if !data.is_empty() => {
            let i = i.index(len);
            data[i] ^= b;
        }
        Mutation::Insert(i, t) => {
            let i = i.index(data.len() + 1);
            data.splice(i..i, t.iter().copied());
        }
        Mutation::Delete(i, n) if !data.is_empty() => {
            let i = i.index(len);
            let end = (i + n).min(data.len());
            data.drain(i..end);
        }
        Mutation::Splice(a, b) => {
            let a = a.index(data.len() + 1);
            let b = b.index(other.len() + 1);
            data.truncate(a);
            data.extend_from_slice(&other[b..]);
        }
        _ => {}
    }
    data
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_in_random_chunks(data in proptest::collection::vec(any::<u8>(), 0..2048), cuts in proptest::collection::vec(any::<u8>(), 1..16)) {
        harness::exercise(&data, &cuts);
    }

    #[test]
    fn mutated_real_requests(picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..6), mutations in proptest::collection::vec(mutation(), 0..6), cuts in proptest::collection::vec(any::<u8>(), 1..16)) {
        let seeds = seeds();
        let mut data = Vec::new();
        for p in &picks {
            data.extend_from_slice(&seeds[p.index(seeds.len())]);
        }
        let other = &seeds[picks[0].index(seeds.len())];
        for m in &mutations {
            data = apply(data, other, m);
        }
        harness::exercise(&data, &cuts);
    }
}

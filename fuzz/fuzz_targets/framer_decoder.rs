//! Bytes from libFuzzer through the framer and the request decoder: the first byte picks the
//! chunk size, the rest is the stream.
#![no_main]

#[path = "../../tests/support/fuzz_harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some((cut, rest)) = data.split_first() {
        harness::exercise(rest, &[*cut]);
    }
});

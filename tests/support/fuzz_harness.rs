//! The fuzz harness shared by the libFuzzer target (`fuzz/`) and the bounded proptest run in
//! CI (`tests/fuzzing.rs`): bytes arrive in chunks of the given sizes, as a client may send
//! them, and go through the framer and the request decoder as the server does.

use netsecgame::action::Action;
use netsecgame::framing::{Frame, FrameDecoder};
use netsecgame::pyjson::to_py_json;

/// Feeds `data` to a framer in chunks sized by `cuts` (cycled), decodes every frame, and
/// checks the invariants: nothing panics, the framer never holds more than its cap plus one
/// chunk, and every decoded request re-encodes to text that decodes to the same request.
pub fn exercise(data: &[u8], cuts: &[u8]) {
    const CAP: usize = 4096;
    let mut decoder = FrameDecoder::new(CAP);
    let mut frames = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < data.len() {
        let n = (cuts.get(i % cuts.len().max(1)).copied().unwrap_or(255) as usize).max(1);
        let end = (at + n).min(data.len());
        decoder.push(&data[at..end]);
        assert!(decoder.pending() <= CAP + n, "the framer holds {} bytes", decoder.pending());
        while let Some(frame) = decoder.next() {
            frames.push(frame);
        }
        at = end;
        i += 1;
    }
    frames.extend(decoder.flush_partial());
    for frame in frames {
        let bytes = match frame {
            Frame::Request(b) | Frame::Garbage(b) => b,
            Frame::TooLarge { limit } => {
                assert_eq!(limit, CAP);
                continue;
            }
        };
        if let Ok(action) = Action::from_json_bytes(&bytes) {
            let _ = action.check_required();
            let text = to_py_json(&action);
            assert!(!text.contains("EOF"));
            let again = Action::from_json_bytes(text.as_bytes()).expect("our own encoding decodes");
            assert_eq!(again, action);
        }
    }
}

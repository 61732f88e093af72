//! Incremental request framing.
//!
//! Upstream treats each `read(8192)` as one request, so split, coalesced and large
//! requests break it. Clients send bare JSON with no terminator, so the only sound boundary is
//! the end of a complete JSON value. [`FrameDecoder`] finds it with a resumable byte scanner
//! (depth, in-string, escape) that never rescans, tolerating whitespace and a client-sent
//! `EOF` between requests.
//!
//! Bytes that cannot start a JSON object or array are a garbage run, which ends at a newline or
//! just before the next `{`; a run still open when the client goes quiet is handed out by
//! [`FrameDecoder::flush_partial`], so the session can answer it instead of waiting forever.
//! A value larger than the cap is reported once as [`Frame::TooLarge`] and its remaining
//! bytes are skipped without being buffered.

/// Default cap on one request: 1 MiB.
pub const DEFAULT_MAX_FRAME: usize = 1 << 20;

/// One unit of client input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The bytes of one complete JSON object or array (not yet validated as an action).
    Request(Vec<u8>),
    /// Bytes that are not a JSON object or array, or an unfinished one flushed on idle.
    Garbage(Vec<u8>),
    /// A request exceeded the size cap; its bytes are being discarded.
    TooLarge { limit: usize },
}

/// Where the scanner stands inside the current value.
#[derive(Debug, Default, Clone, Copy)]
struct Scan {
    /// Bytes of `buf` already examined for the current value.
    pos: usize,
    /// Open brackets; 0 before the value starts.
    depth: usize,
    in_string: bool,
    escaped: bool,
}

/// Splits a byte stream into [`Frame`]s. Holds at most `max_frame` bytes of one request.
#[derive(Debug)]
pub struct FrameDecoder {
    /// Unconsumed input; starts at the current value once leading separators are dropped.
    buf: Vec<u8>,
    /// Resumable scan state for the value at the start of `buf`.
    scan: Scan,
    /// Size cap for one request, in bytes.
    max_frame: usize,
    /// True while discarding the rest of an oversized value (scan state still tracked).
    skipping: bool,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new(DEFAULT_MAX_FRAME)
    }
}

impl FrameDecoder {
    pub fn new(max_frame: usize) -> Self {
        FrameDecoder { buf: Vec::new(), scan: Scan::default(), max_frame: max_frame.max(1), skipping: false }
    }

    /// Adds received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes held for an unfinished request (0 when idle between requests).
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Next complete frame, if the buffered bytes hold one.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Frame> {
        loop {
            if self.skipping {
                if !self.scan_value() {
                    self.buf.clear();
                    self.scan.pos = 0;
                    return None;
                }
                let end = self.scan.pos;
                self.buf.drain(..end);
                self.scan = Scan::default();
                self.skipping = false;
                continue;
            }
            // Between values (nothing scanned yet): skip separators, find the next value.
            if self.scan.pos == 0 {
                self.drop_separators();
                match self.buf.first() {
                    None => return None,
                    Some(b'{' | b'[') => {}
                    // Anything else runs to a newline or the next `{` (a partial `EOF` waits
                    // there too, and is dropped once complete).
                    Some(_) => return self.garbage_run(),
                }
            }
            if self.scan_value() {
                let end = self.scan.pos;
                let frame: Vec<u8> = self.buf.drain(..end).collect();
                self.scan = Scan::default();
                // The cap is on the request, however its bytes arrived.
                if frame.len() > self.max_frame {
                    return Some(Frame::TooLarge { limit: self.max_frame });
                }
                return Some(Frame::Request(frame));
            }
            if self.buf.len() > self.max_frame {
                self.skipping = true;
                self.buf.clear();
                self.scan.pos = 0;
                return Some(Frame::TooLarge { limit: self.max_frame });
            }
            return None;
        }
    }

    /// Hands out whatever unfinished request is buffered (call when the client went quiet or
    /// closed). Returns None when nothing is pending.
    pub fn flush_partial(&mut self) -> Option<Frame> {
        if self.skipping {
            self.skipping = false;
            self.buf.clear();
            self.scan = Scan::default();
            return None;
        }
        self.drop_separators();
        if self.buf.is_empty() || (self.buf.first() == Some(&b'E') && b"EOF".starts_with(&self.buf)) {
            self.buf.clear();
            self.scan = Scan::default();
            return None;
        }
        self.scan = Scan::default();
        Some(Frame::Garbage(std::mem::take(&mut self.buf)))
    }

    /// Drops whitespace and complete `EOF` markers in front of the next value.
    fn drop_separators(&mut self) {
        let mut i = 0;
        loop {
            while i < self.buf.len() && self.buf[i].is_ascii_whitespace() {
                i += 1;
            }
            if self.buf[i..].starts_with(b"EOF") {
                i += 3;
                continue;
            }
            break;
        }
        self.buf.drain(..i);
    }

    /// A garbage run ends after a newline or before the next `{`; unfinished runs wait.
    fn garbage_run(&mut self) -> Option<Frame> {
        let end = self.buf.iter().position(|&b| b == b'\n' || b == b'{');
        match end {
            Some(i) => {
                let take = if self.buf[i] == b'\n' { i + 1 } else { i };
                let run: Vec<u8> = self.buf.drain(..take).collect();
                Some(Frame::Garbage(run))
            }
            None if self.buf.len() > self.max_frame => {
                self.buf.clear();
                Some(Frame::TooLarge { limit: self.max_frame })
            }
            None => None,
        }
    }

    /// Advances the scan over `buf`; true when the value that started at 0 is complete,
    /// with `scan.pos` just past its last byte.
    fn scan_value(&mut self) -> bool {
        let s = &mut self.scan;
        while s.pos < self.buf.len() {
            let b = self.buf[s.pos];
            s.pos += 1;
            if s.in_string {
                if s.escaped {
                    s.escaped = false;
                } else if b == b'\\' {
                    s.escaped = true;
                } else if b == b'"' {
                    s.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => s.in_string = true,
                b'{' | b'[' => s.depth += 1,
                b'}' | b']' => {
                    s.depth = s.depth.saturating_sub(1);
                    if s.depth == 0 {
                        return true;
                    }
                }
                _ => {}
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(dec: &mut FrameDecoder) -> Vec<Frame> {
        std::iter::from_fn(|| dec.next()).collect()
    }

    #[test]
    fn whole_split_and_coalesced() {
        let mut d = FrameDecoder::default();
        d.push(br#"{"a": "}{"}  {"b": [1, {"c": "\"]"}]}EOF"#);
        d.push(b"\n {\"x\"");
        assert_eq!(
            frames(&mut d),
            vec![Frame::Request(br#"{"a": "}{"}"#.to_vec()), Frame::Request(br#"{"b": [1, {"c": "\"]"}]}"#.to_vec())]
        );
        d.push(b": 1}");
        assert_eq!(frames(&mut d), vec![Frame::Request(br#"{"x": 1}"#.to_vec())]);
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn garbage_ends_at_newline_or_brace() {
        let mut d = FrameDecoder::default();
        d.push(b"hello server\nxyz{\"a\":1}");
        assert_eq!(
            frames(&mut d),
            vec![
                Frame::Garbage(b"hello server\n".to_vec()),
                Frame::Garbage(b"xyz".to_vec()),
                Frame::Request(b"{\"a\":1}".to_vec())
            ]
        );
        d.push(b"hello");
        assert_eq!(frames(&mut d), vec![]);
        assert_eq!(d.flush_partial(), Some(Frame::Garbage(b"hello".to_vec())));
    }

    #[test]
    fn unfinished_request_is_flushed_on_idle() {
        let mut d = FrameDecoder::default();
        d.push(br#"{"action_type": "ActionType.ScanNetwork", "parameters": {"#);
        assert_eq!(frames(&mut d), vec![]);
        assert!(matches!(d.flush_partial(), Some(Frame::Garbage(_))));
        assert_eq!(d.flush_partial(), None);
        d.push(b"{}");
        assert_eq!(frames(&mut d), vec![Frame::Request(b"{}".to_vec())]);
    }

    #[test]
    fn oversized_request_reported_once_and_skipped() {
        let mut d = FrameDecoder::new(64);
        d.push(b"{\"k\": \"");
        let mut seen = Vec::new();
        for _ in 0..100 {
            d.push(&[b'x'; 50]);
            seen.extend(frames(&mut d));
            assert!(d.pending() <= 64 + 50);
        }
        assert_eq!(seen, vec![Frame::TooLarge { limit: 64 }], "reported once, then skipped");
        assert!(d.pending() <= 64);
        d.push(b"}\"}{\"ok\": 1}");
        assert_eq!(frames(&mut d), vec![Frame::Request(b"{\"ok\": 1}".to_vec())]);
    }

    #[test]
    fn a_request_over_the_cap_is_refused_even_when_it_arrives_whole() {
        let mut d = FrameDecoder::new(16);
        d.push(b"{\"k\": \"0123456789abcdef\"}{\"ok\": 1}");
        assert_eq!(frames(&mut d), vec![Frame::TooLarge { limit: 16 }, Frame::Request(b"{\"ok\": 1}".to_vec())]);
    }

    #[test]
    fn the_caps_are_inclusive() {
        // A request of exactly the cap is fine, whole or in pieces.
        let exact = b"{\"k\": \"0123456\"}"; // 16 bytes
        assert_eq!(exact.len(), 16);
        let mut d = FrameDecoder::new(16);
        d.push(exact);
        assert_eq!(frames(&mut d), vec![Frame::Request(exact.to_vec())]);
        let mut d = FrameDecoder::new(16);
        d.push(&exact[..15]);
        d.push(b" ");
        assert_eq!(frames(&mut d), vec![], "16 pending bytes are not over a cap of 16");
        // Garbage without an end waits up to the cap, and no further.
        let mut d = FrameDecoder::new(16);
        d.push(&[b'x'; 16]);
        assert_eq!(frames(&mut d), vec![]);
        d.push(b"x");
        assert_eq!(frames(&mut d), vec![Frame::TooLarge { limit: 16 }]);
        assert!(d.pending() <= 16);
    }

    #[test]
    fn a_partial_end_marker_is_not_garbage_but_other_leftovers_are() {
        let mut d = FrameDecoder::default();
        d.push(b"{}EO");
        assert_eq!(frames(&mut d), vec![Frame::Request(b"{}".to_vec())]);
        assert!(d.pending() > 0, "the partial marker waits");
        assert_eq!(d.flush_partial(), None, "a partial marker is dropped quietly");
        d.push(b"Exyz");
        assert_eq!(d.flush_partial(), Some(Frame::Garbage(b"Exyz".to_vec())));
        d.push(b"E");
        assert_eq!(d.flush_partial(), None);
    }

    #[test]
    fn partial_eof_marker_waits() {
        let mut d = FrameDecoder::default();
        d.push(b"{}E");
        assert_eq!(frames(&mut d), vec![Frame::Request(b"{}".to_vec())]);
        d.push(b"O");
        assert_eq!(frames(&mut d), vec![]);
        d.push(b"F{}");
        assert_eq!(frames(&mut d), vec![Frame::Request(b"{}".to_vec())]);
    }
}

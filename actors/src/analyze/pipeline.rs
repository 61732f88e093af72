//! Reading a file in chunks and decoding its lines on worker threads, in order.
//!
//! Most of the analysis's time goes into scanning JSON (a FindData state carries whole host
//! logfiles, and every later state of the episode repeats them). That scan needs nothing but
//! the line itself, so it runs on worker threads: a reader thread reads the file in chunks of
//! whole lines and hands chunk `k` to worker `k mod W`; the calling thread takes the decoded
//! chunks back in the same order, so records are folded exactly as a single thread would fold them. What a worker
//! returns per line is a [`Digest`]: where each state and action sits in the line, plus the
//! few scalars of the record; no copy of the text.
//!
//! Memory stays bounded: at most five chunks per worker are in flight, a chunk is
//! [`CHUNK_BYTES`] or one line if that line is longer.

use super::fast_states;
use super::input::{self, LineError};
use super::record::Digest;
use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Bytes read per chunk (more when one line is longer).
pub const CHUNK_BYTES: usize = 1 << 20;

struct Chunk {
    buf: Vec<u8>,
    /// Number of the line before the chunk's first (lines count from 1).
    lines_before: u64,
    /// The chunk ends the file (its last line may lack a newline).
    last: bool,
}

/// A non-blank line as a worker decoded it.
pub struct DecodedLine {
    pub number: u64,
    /// Where the line sits in its chunk.
    pub range: Range<usize>,
    pub result: Result<Digest, LineError>,
}

struct Decoded {
    chunk: Chunk,
    lines: Vec<DecodedLine>,
}

fn decode_chunk(chunk: Chunk) -> Decoded {
    let buf = &chunk.buf;
    let mut lines = Vec::new();
    let mut start = 0;
    let mut number = chunk.lines_before;
    while start < buf.len() {
        let end = memchr::memchr(b'\n', &buf[start..]).map_or(buf.len(), |i| start + i);
        number += 1;
        let complete = end < buf.len() || !chunk.last;
        let mut stop = end;
        if stop > start && buf[stop - 1] == b'\r' {
            stop -= 1;
        }
        let bytes = &buf[start..stop];
        if !input::is_blank(bytes) {
            let line = input::Line { number, bytes, complete };
            let fast = std::str::from_utf8(bytes).ok().and_then(fast_states::digest);
            let result = match fast {
                Some(digest) => Ok(digest),
                None => input::decode(&line).map(|record| Digest::of(&record, bytes)),
            };
            lines.push(DecodedLine { number, range: start..stop, result });
        }
        start = end + 1;
    }
    Decoded { chunk, lines }
}

/// Reads whole lines: up to [`CHUNK_BYTES`] more than the carried-over partial line, cut
/// after the last newline (the rest is carried to the next chunk).
struct ChunkReader {
    file: File,
    carry: Vec<u8>,
    eof: bool,
    lines_before: u64,
    /// Buffers of folded chunks, reused: no fresh pages to fault in for every megabyte read.
    spare: Vec<Vec<u8>>,
}

impl ChunkReader {
    fn next(&mut self) -> io::Result<Option<Chunk>> {
        if self.eof {
            return Ok(None);
        }
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(&self.carry);
        self.carry.clear();
        loop {
            let old = buf.len();
            // `read_to_end` reads into the spare capacity without zeroing it first.
            let n = (&mut self.file).take(CHUNK_BYTES as u64).read_to_end(&mut buf)?;
            if n == 0 {
                self.eof = true;
                if buf.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(self.chunk(buf, true)));
            }
            if let Some(i) = memchr::memrchr(b'\n', &buf[old..]) {
                let cut = old + i + 1;
                self.carry.extend_from_slice(&buf[cut..]);
                buf.truncate(cut);
                return Ok(Some(self.chunk(buf, false)));
            }
            // No newline yet: one long line; read on.
        }
    }

    fn chunk(&mut self, buf: Vec<u8>, last: bool) -> Chunk {
        let lines_before = self.lines_before;
        self.lines_before += memchr::memchr_iter(b'\n', &buf).count() as u64;
        Chunk { buf, lines_before, last }
    }
}

/// Worker threads used: one per core, at most 8.
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8)
}

/// Calls `on_line(line, text)` for every non-blank line of `file` in order, on this thread;
/// `text` is the line's bytes. `on_line` returns false to stop reading.
///
/// Three kinds of thread: a reader hands chunk `k` to worker `k mod W`; the workers decode;
/// this thread takes decoded chunk `k` from worker `k mod W` and folds it, then hands the
/// buffer back to the reader for reuse. Reading (the kernel's copy of the file) is off the
/// folding thread, which is the one the analysis waits for.
pub fn for_each_line(file: File, mut on_line: impl FnMut(&DecodedLine, &[u8]) -> bool) -> io::Result<()> {
    let w = workers();
    let mut reader = ChunkReader { file, carry: Vec::new(), eof: false, lines_before: 0, spare: Vec::new() };
    std::thread::scope(|scope| -> io::Result<()> {
        let mut inputs: Vec<SyncSender<Chunk>> = Vec::with_capacity(w);
        let mut outputs: Vec<Receiver<Decoded>> = Vec::with_capacity(w);
        for _ in 0..w {
            let (in_tx, in_rx) = sync_channel::<Chunk>(2);
            let (out_tx, out_rx) = sync_channel::<Decoded>(2);
            scope.spawn(move || {
                for chunk in in_rx {
                    if out_tx.send(decode_chunk(chunk)).is_err() {
                        break;
                    }
                }
            });
            inputs.push(in_tx);
            outputs.push(out_rx);
        }
        // Buffers of folded chunks go back to the reader (a few, and none grown past a long line).
        let (spare_tx, spare_rx) = sync_channel::<Vec<u8>>(2 * w + 2);
        let reading = scope.spawn(move || -> io::Result<()> {
            let mut k = 0usize;
            loop {
                while let Ok(buf) = spare_rx.try_recv() {
                    reader.spare.push(buf);
                }
                let Some(chunk) = reader.next()? else { return Ok(()) };
                if inputs[k % w].send(chunk).is_err() {
                    // The folding stopped early (or a worker is gone): nothing more to read.
                    return Ok(());
                }
                k += 1;
            }
        });
        // Chunk `k` comes from worker `k mod W`; when that worker has closed, the reader sent
        // no chunk `k`: everything read was folded. (A worker or the reader that panics makes
        // the scope panic: never a silently shorter analysis.)
        let mut k = 0usize;
        while let Ok(decoded) = outputs[k % w].recv() {
            k += 1;
            let mut folding = true;
            for line in &decoded.lines {
                if !on_line(line, &decoded.chunk.buf[line.range.clone()]) {
                    folding = false;
                    break;
                }
            }
            if !folding {
                break;
            }
            if decoded.chunk.buf.capacity() <= 4 * CHUNK_BYTES {
                let _ = spare_tx.try_send(decoded.chunk.buf);
            }
        }
        drop(outputs);
        reading.join().map_err(|_| io::Error::other("the analysis reader thread panicked"))?
    })
}

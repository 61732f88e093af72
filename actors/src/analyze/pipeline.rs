//! Reading a file in chunks and decoding its lines on worker threads, in order.
//!
//! Most of the analysis's time goes into scanning JSON (a FindData state carries whole host
//! logfiles, and every later state of the episode repeats them). That scan needs nothing but
//! the line itself, so it runs on worker threads: a reader thread reads the file in chunks of
//! whole lines and hands chunk `k` to worker `k mod W`; the calling thread takes the decoded
//! chunks back in the same order, so records are folded exactly as a single thread would fold
//! them. What a worker returns per line is a [`Digest`]: where each state and action sits in
//! the line, the hash each is looked up by, and the few scalars of the record; no copy of the
//! text. Workers number lines within their chunk; the folding thread, which knows how many
//! lines came before, makes the numbers the file's (so the reader never scans a chunk).
//! Threads are named (`analyze-read`, `analyze-decode`) for `perf` and `top`.
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
    /// The chunk ends the file (its last line may lack a newline).
    last: bool,
}

/// A non-blank line as a worker decoded it.
struct DecodedLine {
    /// Its number within the chunk, from 1 (the folding thread, which knows how many lines
    /// came before, makes it the file's).
    number: u64,
    /// Where the line sits in its chunk.
    range: Range<usize>,
    result: Result<Digest, LineError>,
}

struct Decoded {
    chunk: Chunk,
    lines: Vec<DecodedLine>,
    /// Lines in the chunk, blank ones included.
    count: u64,
}

fn decode_chunk(chunk: Chunk) -> Decoded {
    let buf = &chunk.buf;
    let mut lines = Vec::new();
    let mut start = 0;
    let mut number = 0;
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
            }
            .map(|mut digest| {
                digest.hash_texts(bytes);
                digest
            });
            lines.push(DecodedLine { number, range: start..stop, result });
        }
        start = end + 1;
    }
    Decoded { chunk, lines, count: number }
}

/// Reads whole lines: up to [`CHUNK_BYTES`] more than the carried-over partial line, cut
/// after the last newline (the rest is carried to the next chunk).
struct ChunkReader {
    file: File,
    carry: Vec<u8>,
    eof: bool,
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
        Chunk { buf, last }
    }
}

/// Worker threads used: one per core, at most 8.
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8)
}

/// Calls `on_line(number, digest, text)` for every non-blank line of `file` in order, on this
/// thread: its number (from 1), what the worker made of it, and its bytes. `on_line` returns
/// false to stop reading.
///
/// Three kinds of thread: a reader hands chunk `k` to worker `k mod W`; the workers decode;
/// this thread takes decoded chunk `k` from worker `k mod W` and folds it, then hands the
/// buffer back to the reader for reuse. Reading (the kernel's copy of the file) is off the
/// folding thread, which is the one the analysis waits for.
pub fn for_each_line(
    file: File,
    mut on_line: impl FnMut(u64, &Result<Digest, LineError>, &[u8]) -> bool,
) -> io::Result<()> {
    let w = workers();
    let mut reader = ChunkReader { file, carry: Vec::new(), eof: false, spare: Vec::new() };
    std::thread::scope(|scope| -> io::Result<()> {
        let mut inputs: Vec<SyncSender<Chunk>> = Vec::with_capacity(w);
        let mut outputs: Vec<Receiver<Decoded>> = Vec::with_capacity(w);
        for _ in 0..w {
            let (in_tx, in_rx) = sync_channel::<Chunk>(2);
            let (out_tx, out_rx) = sync_channel::<Decoded>(2);
            std::thread::Builder::new().name("analyze-decode".into()).spawn_scoped(scope, move || {
                for chunk in in_rx {
                    if out_tx.send(decode_chunk(chunk)).is_err() {
                        break;
                    }
                }
            })?;
            inputs.push(in_tx);
            outputs.push(out_rx);
        }
        // Buffers of folded chunks go back to the reader (a few, and none grown past a long line).
        let (spare_tx, spare_rx) = sync_channel::<Vec<u8>>(2 * w + 2);
        let reading = std::thread::Builder::new().name("analyze-read".into()).spawn_scoped(
            scope,
            move || -> io::Result<()> {
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
            },
        )?;
        // Chunk `k` comes from worker `k mod W`; when that worker has closed, the reader sent
        // no chunk `k`: everything read was folded. (A worker or the reader that panics makes
        // the scope panic: never a silently shorter analysis.)
        let mut k = 0usize;
        let mut lines_before = 0;
        while let Ok(decoded) = outputs[k % w].recv() {
            k += 1;
            let mut folding = true;
            for line in &decoded.lines {
                if !on_line(lines_before + line.number, &line.result, &decoded.chunk.buf[line.range.clone()]) {
                    folding = false;
                    break;
                }
            }
            if !folding {
                break;
            }
            lines_before += decoded.count;
            if decoded.chunk.buf.capacity() <= 4 * CHUNK_BYTES {
                let _ = spare_tx.try_send(decoded.chunk.buf);
            }
        }
        drop(outputs);
        reading.join().map_err(|_| io::Error::other("the analysis reader thread panicked"))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Lines are numbered across chunks as a single reader would number them: blank lines
    /// count, a CRLF ends a line, the last line may lack its newline.
    #[test]
    fn lines_keep_their_numbers_across_chunks() {
        let path = std::env::temp_dir().join(format!("nsg-pipeline-{}.jsonl", std::process::id()));
        let filler = format!("{{\"x\": \"{}\"}}", "y".repeat(1000));
        let mut expected = Vec::new();
        let mut f = std::io::BufWriter::new(File::create(&path).unwrap());
        let mut number = 0u64;
        // About five chunks: lines of every kind, at places that fall on both sides of cuts.
        while (number as usize) * 1000 < 5 * CHUNK_BYTES {
            number += 1;
            match number % 7 {
                0 => writeln!(f).unwrap(),
                3 => {
                    write!(f, "not json\r\n").unwrap();
                    expected.push((number, false));
                }
                _ => {
                    writeln!(f, "{filler}").unwrap();
                    expected.push((number, false));
                }
            }
        }
        // A line longer than a chunk, then one more.
        writeln!(f, "{}", "z".repeat(CHUNK_BYTES + CHUNK_BYTES / 2)).unwrap();
        expected.push((number + 1, false));
        writeln!(f, "{filler}").unwrap();
        expected.push((number + 2, false));
        write!(f, "{filler}").unwrap(); // no newline at the end
        expected.push((number + 3, false));
        drop(f);
        let mut seen = Vec::new();
        for_each_line(File::open(&path).unwrap(), |n, result, text| {
            assert!(!text.ends_with(b"\r"), "line {n} keeps its CR");
            seen.push((n, result.is_ok()));
            true
        })
        .unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(seen, expected);
    }
}

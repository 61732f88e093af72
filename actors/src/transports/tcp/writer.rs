//! A session's writer: a task that owns the socket's write half and writes the replies the
//! session queues, in order. It keeps count of the bytes queued and not yet written, which
//! is how the session knows when to stop reading the client (see [`WriteQueue::is_full`]).
//!
//! actix's own `io::Writer` is not used: it buffers without bound when the socket reports
//! "pending", which is exactly the case of a client that never reads.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;

/// The session's end of the writer.
pub struct WriteQueue {
    tx: Option<mpsc::UnboundedSender<Vec<u8>>>,
    shared: Arc<Shared>,
    limit: usize,
    /// The writer task, aborted when the session goes (a client that never reads must not
    /// keep the socket open).
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    /// Bytes queued and not yet written.
    queued: AtomicUsize,
    /// The session is waiting for the queue to drain below half the limit.
    waiting: AtomicBool,
}

/// What the writer tells its session.
pub trait WriterEvents: Send + 'static {
    /// The queue drained below half its limit after the session saw it full.
    fn drained(&self);
    /// The writer is done: everything was written and the socket shut down, or writing failed.
    fn finished(&self, error: Option<std::io::Error>);
}

impl WriteQueue {
    /// Starts the writer task on the current runtime.
    pub fn start(write: OwnedWriteHalf, limit: usize, events: impl WriterEvents) -> WriteQueue {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared { queued: AtomicUsize::new(0), waiting: AtomicBool::new(false) });
        let task = actix_rt::spawn(write_all(write, rx, shared.clone(), limit, events));
        WriteQueue { tx: Some(tx), shared, limit, task }
    }

    /// Queues bytes for writing.
    pub fn write(&mut self, bytes: Vec<u8>) {
        if let Some(tx) = &self.tx {
            self.shared.queued.fetch_add(bytes.len(), Ordering::SeqCst);
            let _ = tx.send(bytes);
        }
    }

    /// Bytes queued and not yet written.
    pub fn queued(&self) -> usize {
        self.shared.queued.load(Ordering::SeqCst)
    }

    /// True when the queue is at its limit. The writer then calls
    /// [`WriterEvents::drained`] once it has written the queue down to half.
    pub fn is_full(&self) -> bool {
        if self.queued() < self.limit {
            return false;
        }
        self.shared.waiting.store(true, Ordering::SeqCst);
        // The writer may have drained in between: check again, so no wake-up is lost.
        if self.queued() < self.limit / 2 {
            self.shared.waiting.store(false, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// No more replies: the writer writes what is queued, shuts the socket down and finishes.
    pub fn close(&mut self) {
        self.tx = None;
    }
}

impl Drop for WriteQueue {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn write_all(
    mut write: OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<Vec<u8>>,
    shared: Arc<Shared>,
    limit: usize,
    events: impl WriterEvents,
) {
    while let Some(bytes) = rx.recv().await {
        if let Err(e) = write.write_all(&bytes).await {
            return events.finished(Some(e));
        }
        let left = shared.queued.fetch_sub(bytes.len(), Ordering::SeqCst) - bytes.len();
        if left < limit / 2 && shared.waiting.swap(false, Ordering::SeqCst) {
            events.drained();
        }
    }
    let _ = write.shutdown().await;
    events.finished(None);
}

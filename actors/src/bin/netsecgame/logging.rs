//! Logging: human-readable lines on stderr (coloured on a terminal), and the same lines
//! appended to `<log_dir>/netsecgame-<port>.log` once the server has bound its port, so a
//! second server that fails to start never touches a running server's log. The level is
//! `--debug_level` (upstream's names), or `RUST_LOG` when set.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Upstream's level names; unknown values mean ERROR, as upstream.
pub fn level(text: &str) -> &'static str {
    match text.to_ascii_uppercase().as_str() {
        "DEBUG" => "debug",
        "INFO" => "info",
        "WARNING" | "WARN" => "warn",
        _ => "error",
    }
}

/// The log file, absent until [`LogFile::open`].
#[derive(Clone, Default)]
pub struct LogFile(Arc<Mutex<Option<File>>>);

impl LogFile {
    /// Starts appending to `dir/name` (the folder is created).
    pub fn open(&self, dir: &Path, name: &str) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let file = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(name))?;
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(file);
        Ok(())
    }
}

pub struct LogFileWriter(LogFile);

impl Write for LogFileWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0 .0.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            Some(f) => f.write(buf),
            None => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.0 .0.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl<'a> MakeWriter<'a> for LogFile {
    type Writer = LogFileWriter;
    fn make_writer(&'a self) -> Self::Writer {
        LogFileWriter(self.clone())
    }
}

/// Installs the global subscriber; returns the (not yet open) log file.
pub fn init(debug_level: &str) -> LogFile {
    use std::io::IsTerminal;
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => EnvFilter::new(spec),
        _ => EnvFilter::new(level(debug_level)),
    };
    let file = LogFile::default();
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal());
    let to_file = tracing_subscriber::fmt::layer().with_ansi(false).with_writer(file.clone());
    let _ = tracing_subscriber::registry().with(filter).with(stderr).with(to_file).try_init();
    file
}

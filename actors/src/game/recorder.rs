//! The trajectory recorder actor: appends one game's episode records as JSON lines to
//! `<dir>/<date>_<agent>_AgentRole.<Role>.jsonl`. It runs on an I/O arbiter, never on the
//! game's own thread, so encoding and disk writes never stall play; a failed write is logged
//! and counted, never fatal.

use super::messages::{Flush, Record};
use actix::prelude::*;
use netsecgame::pyjson::write_py_json;
use std::io::Write;
use std::path::PathBuf;

pub struct RecorderActor {
    /// Where the files go.
    pub dir: PathBuf,
    /// Records written since start.
    pub written: usize,
    /// Records that could not be written.
    pub failed: usize,
}

impl RecorderActor {
    pub fn new(dir: PathBuf) -> Self {
        RecorderActor { dir, written: 0, failed: 0 }
    }
}

impl Actor for RecorderActor {
    type Context = Context<Self>;
}

/// Today's date (UTC) as upstream names trajectory files (`%Y-%m-%d`).
pub fn today() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%d").to_string()
}

impl Handler<Record> for RecorderActor {
    type Result = ();
    fn handle(&mut self, msg: Record, _: &mut Context<Self>) {
        let path = self.dir.join(msg.0.file_name(&today()));
        let mut line = Vec::with_capacity(4096);
        write_py_json(&mut line, &*msg.0);
        line.push(b'\n');
        let result = std::fs::create_dir_all(&self.dir)
            .and_then(|_| std::fs::OpenOptions::new().create(true).append(true).open(&path))
            .and_then(|mut f| f.write_all(&line));
        match result {
            Ok(()) => self.written += 1,
            Err(e) => {
                self.failed += 1;
                tracing::error!("cannot write trajectory to {}: {e}", path.display());
            }
        }
    }
}

impl Handler<Flush> for RecorderActor {
    type Result = usize;
    fn handle(&mut self, _: Flush, _: &mut Context<Self>) -> usize {
        self.written
    }
}

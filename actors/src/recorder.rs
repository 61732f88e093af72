//! The TrajectoryRecorder actor: appends episode records as JSON lines. It runs on its own
//! arbiter so file I/O never stalls the game; a failed write is logged and counted, never
//! fatal.

use crate::messages::{Flush, Record};
use actix::prelude::*;
use netsecgame::pyjson::write_py_json;
use std::io::Write;

#[derive(Default)]
pub struct RecorderActor {
    /// Records written since start.
    pub written: usize,
    /// Records that could not be written.
    pub failed: usize,
}

impl Actor for RecorderActor {
    type Context = Context<Self>;
}

/// Today's date as upstream names files (`%Y-%m-%d`, UTC).
pub fn today() -> String {
    let days =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

impl Handler<Record> for RecorderActor {
    type Result = ();
    fn handle(&mut self, msg: Record, _: &mut Context<Self>) {
        let path = msg.dir.join(msg.trajectory.file_name(&today()));
        let mut line = Vec::with_capacity(4096);
        write_py_json(&mut line, &*msg.trajectory);
        line.push(b'\n');
        let result = std::fs::create_dir_all(&msg.dir)
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

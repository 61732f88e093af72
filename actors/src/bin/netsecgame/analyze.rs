//! `netsecgame analyze FILE...`: runs the analysis (`netsecgame_actors::analyze`), prints each
//! bad line as it is met and the summary at the end, and writes the folder of results.
//!
//! Exit code: 0 when at least one episode was analysed (bad lines are reported, not fatal);
//! 1 when nothing could be analysed or a file could not be read or written.

use crate::cli::AnalyzeArgs;
use anyhow::{bail, Context, Result};
use netsecgame_actors::analyze::{self, output::GraphFormats, Options};
use std::process::ExitCode;
use std::time::Instant;

pub fn run(args: AnalyzeArgs) -> Result<ExitCode> {
    let formats = match args.graph_format.to_ascii_lowercase().as_str() {
        "graphml" => GraphFormats { graphml: true, dot: false },
        "dot" => GraphFormats { graphml: false, dot: true },
        "both" => GraphFormats { graphml: true, dot: true },
        "none" => GraphFormats { graphml: false, dot: false },
        other => bail!("--graph_format must be graphml, dot, both or none (got `{other}`)"),
    };
    let options =
        Options { end_reasons: args.end_reason, max_episodes: args.max_episodes, flow_steps: args.flow_steps };
    let started = Instant::now();
    let cpu_start = cpu_seconds();
    let analysis = analyze::analyze(&args.files, &options, &mut |p| eprintln!("warning: {p}"))?;
    let analysed = started.elapsed();
    let analysed_cpu = cpu_seconds().zip(cpu_start).map(|(b, a)| b - a);
    if analysis.episodes() == 0 {
        let read: u64 = analysis.files.iter().map(|f| f.records).sum();
        if read > 0 {
            bail!("no episode matched --end_reason {} ({read} records read)", options.end_reasons.join(","));
        }
        bail!("no trajectory records could be read from {} file(s)", args.files.len());
    }
    let written = analyze::output::write(&analysis, &args.out, formats)
        .with_context(|| format!("writing the results to {}", args.out.display()))?;
    if !args.quiet {
        print!("{}", written.text);
        let peak = peak_rss_kib().map_or(String::new(), |k| format!(", peak memory {:.1} MiB", k as f64 / 1024.0));
        let cpu = analysed_cpu.map_or(String::new(), |c| format!(" (CPU {c:.2} s)"));
        let total_cpu = cpu_seconds().zip(cpu_start).map_or(String::new(), |(b, a)| format!(" (CPU {:.2} s)", b - a));
        println!(
            "\nanalysed in {:.2} s{cpu}, with the outputs {:.2} s{total_cpu}{peak}; wrote {} files to {}/",
            analysed.as_secs_f64(),
            started.elapsed().as_secs_f64(),
            written.files.len(),
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The process's peak resident memory (`VmHWM`), where /proc tells it (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time of this process so far (all threads, user and system), where /proc tells it.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at ") ".
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let (utime, stime): (f64, f64) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    // Clock ticks are 100 a second on every Linux this runs on (USER_HZ).
    Some((utime + stime) / 100.0)
}

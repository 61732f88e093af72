//! Outputs, all rebuilt from the store alone: the leaderboard (stdout and
//! `leaderboard.json`), `matches.csv` (one row per match), `matrix.json`, and two SVG charts:
//! the attacker x defender win-rate matrix and the ratings over the run.

use super::ratings::{Results, GLOBAL_DEFENDER};
use super::store::Contents;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell as TableCell, CellAlignment, Table};
use plotters::prelude::*;
use std::collections::BTreeSet;
use std::path::Path;

/// Why outputs could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
}

fn fail(path: &Path, e: impl std::fmt::Display) -> ReportError {
    ReportError::Write { path: path.display().to_string(), message: e.to_string() }
}

/// The leaderboard as a table for a terminal.
pub fn table(r: &Results) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "rank",
        "entrant",
        "role",
        "rating",
        "matches",
        "episodes",
        "wins",
        "win rate (95% CI)",
        "forfeits",
        "mean return",
        "detected",
    ]);
    for s in &r.standings {
        let opt = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.2}"));
        t.add_row(vec![
            TableCell::new(s.rank.map_or("-".into(), |r| r.to_string())).set_alignment(CellAlignment::Right),
            TableCell::new(&s.entrant),
            TableCell::new(&s.role),
            TableCell::new(opt(s.rating)).set_alignment(CellAlignment::Right),
            TableCell::new(s.matches).set_alignment(CellAlignment::Right),
            TableCell::new(s.episodes).set_alignment(CellAlignment::Right),
            TableCell::new(s.wins).set_alignment(CellAlignment::Right),
            TableCell::new(format!("{:.3} ({:.3}-{:.3})", s.win_rate, s.win_rate_low, s.win_rate_high)),
            TableCell::new(s.forfeits).set_alignment(CellAlignment::Right),
            TableCell::new(format!("{:.2}", s.mean_return)).set_alignment(CellAlignment::Right),
            TableCell::new(format!("{:.3}", s.detection_rate)).set_alignment(CellAlignment::Right),
        ]);
    }
    format!("{t}\n{} matches, {} episodes\n", r.matches, r.episodes)
}

/// Writes every output into `dir`.
pub fn write_all(r: &Results, c: &Contents, dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
    let json = |name: &str, value: &dyn erased::Json| -> Result<(), ReportError> {
        let path = dir.join(name);
        std::fs::write(&path, value.to_json()).map_err(|e| fail(&path, e))
    };
    json("leaderboard.json", &r.standings)?;
    json("matrix.json", &r.matrix)?;
    write_matches_csv(r, c, &dir.join("matches.csv"))?;
    draw_matrix(r, &dir.join("winrate_matrix.svg"))?;
    draw_ratings(r, &dir.join("ratings.svg"))?;
    Ok(())
}

mod erased {
    /// Serialises any `Serialize` value, behind one object-safe trait.
    pub trait Json {
        fn to_json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> String {
            serde_json::to_string_pretty(self).unwrap_or_default()
        }
    }
}

fn write_matches_csv(r: &Results, c: &Contents, path: &Path) -> Result<(), ReportError> {
    let _ = r;
    let mut w = csv::Writer::from_path(path).map_err(|e| fail(path, e))?;
    w.write_record([
        "match",
        "task",
        "seed",
        "attacker",
        "defender",
        "benign",
        "episodes",
        "attacker_wins",
        "attacker_win_rate",
        "attacker_mean_return",
        "mean_episode_length",
        "detections",
        "forfeits",
        "seconds",
    ])
    .map_err(|e| fail(path, e))?;
    for m in &c.matches {
        let eps: Vec<_> = c.episodes.iter().filter(|e| e.match_id == m.id && e.entrant == m.attacker).collect();
        let n = eps.len().max(1) as f64;
        let wins = eps.iter().filter(|e| e.won).count();
        let forfeits: Vec<String> =
            c.forfeits.iter().filter(|f| f.match_id == m.id).map(|f| format!("{}: {}", f.entrant, f.reason)).collect();
        w.write_record([
            m.id.to_string(),
            m.task.clone(),
            m.seed.to_string(),
            m.attacker.clone(),
            m.defender.clone().unwrap_or_else(|| GLOBAL_DEFENDER.into()),
            m.benign.clone(),
            eps.len().to_string(),
            wins.to_string(),
            format!("{:.4}", wins as f64 / n),
            format!("{:.4}", eps.iter().map(|e| e.episode_return).sum::<f64>() / n),
            format!("{:.2}", eps.iter().map(|e| e.steps as f64).sum::<f64>() / n),
            eps.iter().filter(|e| e.detected).count().to_string(),
            forfeits.join("; "),
            format!("{:.3}", m.seconds),
        ])
        .map_err(|e| fail(path, e))?;
    }
    w.flush().map_err(|e| fail(path, e))
}

fn draw_matrix(r: &Results, path: &Path) -> Result<(), ReportError> {
    let attackers: Vec<String> =
        r.matrix.iter().map(|c| c.attacker.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let defenders: Vec<String> =
        r.matrix.iter().map(|c| c.defender.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let (cw, ch, left, top) = (150u32, 44u32, 170u32, 70u32);
    let width = left + cw * defenders.len().max(1) as u32 + 20;
    let height = top + ch * attackers.len().max(1) as u32 + 30;
    let root = SVGBackend::new(path, (width, height)).into_drawing_area();
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        root.fill(&WHITE)?;
        let text = ("sans-serif", 13).into_font();
        root.draw_text(
            "Attacker win rate (95% CI), attackers down, defenders across",
            &("sans-serif", 15).into_font().into(),
            (10, 10),
        )?;
        for (j, d) in defenders.iter().enumerate() {
            root.draw_text(d, &text.clone().into(), ((left + cw * j as u32 + 6) as i32, (top - 22) as i32))?;
        }
        for (i, a) in attackers.iter().enumerate() {
            let y = (top + ch * i as u32) as i32;
            root.draw_text(a, &text.clone().into(), (10, y + 14))?;
            for (j, d) in defenders.iter().enumerate() {
                let x = (left + cw * j as u32) as i32;
                let Some(c) = r.matrix.iter().find(|c| &c.attacker == a && &c.defender == d) else { continue };
                // Red for the attacker winning, blue for the defender holding.
                let shade = RGBColor((60.0 + 190.0 * c.win_rate) as u8, 90, (60.0 + 190.0 * (1.0 - c.win_rate)) as u8);
                root.draw(&Rectangle::new([(x, y), (x + cw as i32 - 4, y + ch as i32 - 4)], shade.filled()))?;
                let label =
                    format!("{:.2} ({:.2}-{:.2}) n={}", c.win_rate, c.win_rate_low, c.win_rate_high, c.episodes);
                root.draw_text(&label, &("sans-serif", 11).into_font().color(&WHITE), (x + 4, y + 14))?;
            }
        }
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| fail(path, e))
}

fn draw_ratings(r: &Results, path: &Path) -> Result<(), ReportError> {
    let root = SVGBackend::new(path, (800, 420)).into_drawing_area();
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        root.fill(&WHITE)?;
        let names: BTreeSet<&String> = r.history.iter().flat_map(|(_, m)| m.keys()).collect();
        let values = r.history.iter().flat_map(|(_, m)| m.values().copied());
        let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let (lo, hi) = if lo > hi { (-10.0, 10.0) } else { (lo - 1.0, hi + 1.0) };
        let n = r.history.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption("Conservative rating (mean - 3 sd) after each match", ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(46)
            .build_cartesian_2d(0..n, lo..hi)?;
        chart.configure_mesh().x_desc("matches finished").y_desc("rating").draw()?;
        for (k, name) in names.into_iter().enumerate() {
            let colour = Palette99::pick(k).to_rgba();
            let points: Vec<(usize, f64)> =
                r.history.iter().enumerate().filter_map(|(i, (_, m))| m.get(name).map(|v| (i + 1, *v))).collect();
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2)));
        }
        chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| fail(path, e))
}

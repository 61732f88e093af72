//! SVG charts, drawn with `plotters`' SVG backend (text is left to the viewer's fonts, so no
//! font files are needed).
//!
//! * [`actions_per_step`]: stacked bars of action types per step (upstream's
//!   `get_action_type_barplot_per_step`);
//! * [`action_flow`]: a Sankey-style diagram of how episodes move from one action type to the
//!   next, step by step, and where they end (upstream draws the step-free version of it with
//!   plotly in `generate_sankey_from_trajecotries`);
//! * [`efficiency`]: share of actions that changed the state, per type and file;
//! * [`graph_growth`]: the gameplay graph's size per checkpoint, log scale (upstream's
//!   `plot_graph_stats_progress`).
//!
//! The Sankey layout is ours: columns are steps, a column's boxes are the action types played
//! at that step (height proportional to episodes) plus the episodes that ended just before it;
//! bands join a box to the next step's boxes in proportion to the episodes that went that way.

use super::graph::GraphStats;
use super::steps::{StepStats, ENDED, TYPES};
use netsecgame::components::ActionType;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
#[error("cannot draw {path}: {message}")]
pub struct ChartError {
    pub path: String,
    pub message: String,
}

fn err(path: &Path) -> impl Fn(String) -> ChartError + '_ {
    move |message| ChartError { path: path.display().to_string(), message }
}

/// One colour per action type (matplotlib's tab10), and grey for "ended".
pub const COLORS: [RGBColor; TYPES + 1] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(199, 199, 199),
];

const FONT: &str = "sans-serif";

/// Stacked bars: episodes playing each action type at each step (the first `max_steps`).
pub fn actions_per_step(path: &Path, steps: &StepStats, title: &str, max_steps: usize) -> Result<(), ChartError> {
    let e = err(path);
    let shown = steps.per_step.len().min(max_steps).max(1);
    let ymax = steps.per_step.iter().take(shown).map(|s| s.iter().sum::<u64>()).max().unwrap_or(0).max(1);
    let root = SVGBackend::new(path, (960, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.5f64..shown as f64 + 0.5, 0f64..ymax as f64 * 1.05)
        .map_err(|x| e(x.to_string()))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("step")
        .y_desc("episodes")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(|x| e(x.to_string()))?;
    let mut bottom = vec![0u64; shown];
    for t in 0..TYPES {
        if steps.per_step.iter().take(shown).all(|s| s[t] == 0) {
            continue;
        }
        let color = COLORS[t];
        let bars: Vec<Rectangle<(f64, f64)>> = (0..shown)
            .filter(|&i| steps.per_step.get(i).is_some_and(|s| s[t] > 0))
            .map(|i| {
                let n = steps.per_step[i][t];
                let x = i as f64 + 1.0;
                let r =
                    Rectangle::new([(x - 0.4, bottom[i] as f64), (x + 0.4, (bottom[i] + n) as f64)], color.filled());
                bottom[i] += n;
                r
            })
            .collect();
        chart
            .draw_series(bars)
            .map_err(|x| e(x.to_string()))?
            .label(ActionType::ALL[t].name())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 13))
        .draw()
        .map_err(|x| e(x.to_string()))?;
    root.present().map_err(|x| e(x.to_string()))
}

/// Sankey-style flow of action types, step by step.
pub fn action_flow(path: &Path, steps: &StepStats, title: &str) -> Result<(), ChartError> {
    let e = err(path);
    let columns = steps.flow.len() + 1;
    let (width, height) = ((160 + 110 * columns as u32).max(640), 600u32);
    let root = SVGBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
    draw_flow(&root, steps, title, columns).map_err(e)?;
    root.present().map_err(|x| err(path)(x.to_string()))
}

fn draw_flow(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    steps: &StepStats,
    title: &str,
    columns: usize,
) -> Result<(), String> {
    let (width, height) = root.dim_in_pixel();
    let (top, bottom, left, right) = (60i32, 70i32, 40i32, 190i32);
    let node_w = 14i32;
    let gap = 6.0f64;
    let s = |x: DrawingAreaErrorKind<std::io::Error>| x.to_string();
    root.draw(&Text::new(title.to_string(), (left, 12), (FONT, 20).into_font())).map_err(s)?;

    // Box sizes: column j has the types played at step j and those that ended after step j-1.
    let size = |j: usize, k: usize| -> u64 {
        if k == ENDED {
            if j == 0 {
                0
            } else {
                steps.flow[j - 1].iter().map(|row| row[ENDED]).sum()
            }
        } else {
            steps.per_step.get(j).map_or(0, |s| s[k])
        }
    };
    let total: u64 = (0..=TYPES).map(|k| size(0, k)).sum::<u64>().max(1);
    let usable = (height as i32 - top - bottom) as f64 - gap * TYPES as f64;
    let scale = usable.max(50.0) / total as f64;
    let col_x = |j: usize| {
        left + ((width as i32 - left - right - node_w) as f64 * j as f64 / (columns.max(2) - 1) as f64) as i32
    };
    // y of each box's top, per column.
    let mut y0 = vec![[0f64; TYPES + 1]; columns];
    for (j, col) in y0.iter_mut().enumerate() {
        let mut y = top as f64;
        for (k, slot) in col.iter_mut().enumerate() {
            *slot = y;
            let n = size(j, k);
            if n > 0 {
                y += n as f64 * scale + gap;
            }
        }
    }
    // Bands first, boxes over them.
    let mut out_used = vec![[0f64; TYPES + 1]; columns];
    let mut in_used = vec![[0f64; TYPES + 1]; columns];
    for j in 0..columns - 1 {
        let (x0, x1) = ((col_x(j) + node_w) as f64, col_x(j + 1) as f64);
        for a in 0..TYPES {
            for b in 0..=TYPES {
                let n = steps.flow[j][a][b];
                if n == 0 {
                    continue;
                }
                let w = n as f64 * scale;
                let ys = y0[j][a] + out_used[j][a];
                let yt = y0[j + 1][b] + in_used[j + 1][b];
                out_used[j][a] += w;
                in_used[j + 1][b] += w;
                let band = band_polygon(x0, x1, ys, yt, w);
                root.draw(&Polygon::new(band, COLORS[a].mix(0.35).filled())).map_err(s)?;
            }
        }
    }
    for (j, tops) in y0.iter().enumerate() {
        let x = col_x(j);
        root.draw(&Text::new(format!("step {}", j + 1), (x - 8, top - 22), (FONT, 13).into_font())).map_err(s)?;
        for (k, (&y, color)) in tops.iter().zip(COLORS).enumerate() {
            let n = size(j, k);
            if n == 0 {
                continue;
            }
            let (ya, yb) = (y as i32, (y + n as f64 * scale).ceil() as i32);
            root.draw(&Rectangle::new([(x, ya), (x + node_w, yb.max(ya + 1))], color.filled())).map_err(s)?;
            if yb - ya >= 14 {
                root.draw(&Text::new(n.to_string(), (x + node_w + 3, ya + 1), (FONT, 11).into_font())).map_err(s)?;
            }
        }
    }
    // Legend on the right.
    let lx = width as i32 - right + 50;
    let mut ly = top;
    for (k, color) in COLORS.iter().enumerate() {
        if (0..columns).all(|j| size(j, k) == 0) {
            continue;
        }
        let name = if k == ENDED { "episode ended" } else { ActionType::ALL[k].name() };
        root.draw(&Rectangle::new([(lx, ly), (lx + 12, ly + 12)], color.filled())).map_err(s)?;
        root.draw(&Text::new(name, (lx + 18, ly), (FONT, 13).into_font())).map_err(s)?;
        ly += 20;
    }
    let note = format!("{total} episodes; box and band heights are proportional to episodes");
    root.draw(&Text::new(note, (left, height as i32 - bottom + 30), (FONT, 13).into_font())).map_err(s)?;
    Ok(())
}

/// A band of width `w` from (x0, ys) to (x1, yt): two cubic curves with horizontal tangents.
fn band_polygon(x0: f64, x1: f64, ys: f64, yt: f64, w: f64) -> Vec<(i32, i32)> {
    const N: usize = 16;
    let curve = |t: f64, a: f64, b: f64| {
        // Cubic Bézier with control points at mid-x: x is linear in the blend, y eases.
        let u = 1.0 - t;
        let x = u * u * u * x0 + 3.0 * u * u * t * (x0 + x1) / 2.0 + 3.0 * u * t * t * (x0 + x1) / 2.0 + t * t * t * x1;
        let y = (u * u * u + 3.0 * u * u * t) * a + (3.0 * u * t * t + t * t * t) * b;
        (x.round() as i32, y.round() as i32)
    };
    let mut pts = Vec::with_capacity(2 * (N + 1));
    for i in 0..=N {
        pts.push(curve(i as f64 / N as f64, ys, yt));
    }
    for i in (0..=N).rev() {
        pts.push(curve(i as f64 / N as f64, ys + w, yt + w));
    }
    pts
}

/// Grouped bars: share of each action type's actions that changed the state, per file.
pub fn efficiency(path: &Path, files: &[(&str, &StepStats)]) -> Result<(), ChartError> {
    let e = err(path);
    let types: Vec<usize> = (0..TYPES).filter(|&t| files.iter().any(|(_, s)| s.actions[t] > 0)).collect();
    let root = SVGBackend::new(path, (960, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Action efficiency: share of actions that changed the state", (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(-0.5f64..types.len().max(1) as f64 - 0.5, 0f64..1.05)
        .map_err(|x| e(x.to_string()))?;
    let names: Vec<&str> = types.iter().map(|&t| ActionType::ALL[t].name()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(types.len().max(1))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).map_or(String::new(), |s| (*s).to_string())
            } else {
                String::new()
            }
        })
        .y_desc("share")
        .draw()
        .map_err(|x| e(x.to_string()))?;
    let palette = [RGBColor(31, 119, 180), RGBColor(255, 127, 14), RGBColor(44, 160, 44), RGBColor(214, 39, 40)];
    let width = 0.8 / files.len().max(1) as f64;
    for (f, (name, s)) in files.iter().enumerate() {
        let color = palette[f % palette.len()].mix(1.0 - 0.25 * (f / palette.len()) as f64);
        let bars: Vec<Rectangle<(f64, f64)>> = types
            .iter()
            .enumerate()
            .filter(|(_, &t)| s.actions[t] > 0)
            .map(|(i, &t)| {
                let share = s.changed[t] as f64 / s.actions[t] as f64;
                let x = i as f64 - 0.4 + width * f as f64;
                Rectangle::new([(x, 0.0), (x + width * 0.9, share)], color.filled())
            })
            .collect();
        chart
            .draw_series(bars)
            .map_err(|x| e(x.to_string()))?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|x| e(x.to_string()))?;
    root.present().map_err(|x| e(x.to_string()))
}

/// Lines: the gameplay graph's nodes, edges, simplified edges and loops per checkpoint.
pub fn graph_growth(path: &Path, stats: &[GraphStats]) -> Result<(), ChartError> {
    let e = err(path);
    type Series = (&'static str, fn(&GraphStats) -> usize);
    let series: [Series; 5] = [
        ("nodes", |s| s.nodes),
        ("edges", |s| s.edges),
        ("simplified edges", |s| s.simplified_edges),
        ("loops", |s| s.loops),
        ("simplified loops", |s| s.simplified_loops),
    ];
    let ymax = stats.iter().flat_map(|s| series.iter().map(move |(_, f)| f(s))).max().unwrap_or(1).max(1) as f64;
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
    let n = stats.len().max(2);
    let mut chart = ChartBuilder::on(&root)
        .caption("Gameplay graph per checkpoint", (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.8f64..n as f64 + 0.2, (0.8f64..ymax * 1.5).log_scale())
        .map_err(|x| e(x.to_string()))?;
    chart
        .configure_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .x_desc("checkpoint (input file)")
        .y_desc("count (log)")
        .draw()
        .map_err(|x| e(x.to_string()))?;
    for (i, (name, f)) in series.iter().enumerate() {
        let color = COLORS[i];
        // A zero cannot sit on a log axis: it is drawn at the axis floor.
        let pts: Vec<(f64, f64)> =
            stats.iter().enumerate().map(|(c, s)| (c as f64 + 1.0, (f(s) as f64).max(0.8))).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(|x| e(x.to_string()))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], color.stroke_width(2)));
        chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled()))).map_err(|x| e(x.to_string()))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|x| e(x.to_string()))?;
    root.present().map_err(|x| e(x.to_string()))
}

//! The gameplay graph as GraphML, written in one pass straight from the graph.
//!
//! Nodes are states (`n{number}`, with upstream's state string, the number and the first
//! checkpoint it appeared in), edges are `(state, next state, action)` (`e{row}` in the edge
//! table's order, with the action's label and type, and per checkpoint its count and edge-play
//! likelihood). Keys are declared in a fixed order with GraphML types (`int`, `long`,
//! `double`, `string`), so networkx, Gephi or igraph read numbers as numbers, and the same
//! analysis writes the same bytes every time (a generic exporter that collects keys in a hash
//! set declares them in a different order on every run, and formats every weight twice).

use super::graph::{play_likelihood, EdgeTable, GameplayGraph};
use netsecgame::components::ActionType;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Writes the graph of every checkpoint to `path`.
pub fn write(g: &GameplayGraph, table: &EdgeTable, path: &Path) -> io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 16, File::create(path)?);
    let n = g.checkpoints.len();
    // One checkpoint: `count`, `play_likelihood`; several: `count_1`, `count_2`, ...
    let suffix = |c: usize| if n == 1 { String::new() } else { format!("_{}", c + 1) };
    w.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")?;
    w.write_all(b"<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n")?;
    let mut key = |id: &str, on: &str, ty: &str| {
        writeln!(w, "  <key id=\"{id}\" for=\"{on}\" attr.name=\"{id}\" attr.type=\"{ty}\" />")
    };
    key("state", "node", "string")?;
    key("state_id", "node", "int")?;
    key("first_checkpoint", "node", "int")?;
    key("action", "edge", "string")?;
    key("action_type", "edge", "string")?;
    for c in 0..n {
        key(&format!("count{}", suffix(c)), "edge", "long")?;
    }
    for c in 0..n {
        key(&format!("play_likelihood{}", suffix(c)), "edge", "double")?;
    }
    w.write_all(b"  <graph edgedefault=\"directed\">\n")?;
    let mut text = String::new();
    for (i, state) in g.states.labels().iter().enumerate() {
        escape(state, &mut text);
        writeln!(
            w,
            "    <node id=\"n{i}\">\n      <data key=\"state\">{text}</data>\n      <data key=\"state_id\">{i}</data>\n      \
             <data key=\"first_checkpoint\">{}</data>\n    </node>",
            g.state_first_seen[i] + 1
        )?;
    }
    let actions: Vec<String> = g
        .action_info
        .iter()
        .map(|(ty, label)| {
            escape(label, &mut text);
            format!(
                "      <data key=\"action\">{text}</data>\n      <data key=\"action_type\">{}</data>\n",
                ActionType::ALL[*ty].name()
            )
        })
        .collect();
    let count_keys: Vec<String> = (0..n).map(|c| format!("count{}", suffix(c))).collect();
    let likelihood_keys: Vec<String> = (0..n).map(|c| format!("play_likelihood{}", suffix(c))).collect();
    for (i, &(source, target, action)) in table.edges.iter().enumerate() {
        writeln!(w, "    <edge id=\"e{i}\" source=\"n{source}\" target=\"n{target}\">")?;
        w.write_all(actions[action as usize].as_bytes())?;
        let counts = table.counts(i);
        for (k, count) in count_keys.iter().zip(counts) {
            writeln!(w, "      <data key=\"{k}\">{count}</data>")?;
        }
        for ((k, &count), cp) in likelihood_keys.iter().zip(counts).zip(&g.checkpoints) {
            writeln!(w, "      <data key=\"{k}\">{}</data>", play_likelihood(count, cp.records))?;
        }
        w.write_all(b"    </edge>\n")?;
    }
    w.write_all(b"  </graph>\n</graphml>\n")?;
    w.flush()
}

/// `s` as XML character data into `out`: `&`, `<` and `>` escaped, a carriage return as a
/// character reference (a parser would turn a literal one into a newline), and the characters
/// XML 1.0 cannot carry at all (other controls but tab and newline) replaced by U+FFFD.
fn escape(s: &str, out: &mut String) {
    out.clear();
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_xml() {
        let mut out = String::new();
        escape("a<b>&c\u{1}\td'\"\r\n]]>", &mut out);
        assert_eq!(out, "a&lt;b&gt;&amp;c\u{FFFD}\td'\"&#13;\n]]&gt;");
    }
}

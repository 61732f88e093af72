//! The tournament as users run it: `netsecgame tournament` with `tasks/tournament.yaml`
//! (2 games x 20 episodes per pairing), then its JSON results are checked.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn row<'a>(rows: &'a [Value], pairing: &str, agent: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["pairing"] == pairing && r["agent"] == agent)
        .unwrap_or_else(|| panic!("no row for {pairing}/{agent}"))
}

#[test]
fn tournament_table_shows_the_agents_behave() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::env::temp_dir().join(format!("nsg-tournament-{}", std::process::id()));
    let result = Command::new(env!("CARGO_BIN_EXE_netsecgame"))
        .args(["tournament", "--quiet", "--games", "2", "--episodes", "20", "--config"])
        .arg(repo.join("tasks/tournament.yaml"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(result.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&result.stderr));
    assert!(stdout.contains("win") && stdout.contains("scripted_vs_log_defender"), "{stdout}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(out.join("tournament.json")).unwrap()).unwrap();
    let csv = std::fs::read_to_string(out.join("tournament.csv")).unwrap();
    let rows = report["rows"].as_array().unwrap().clone();
    assert_eq!(csv.lines().count(), rows.len() + 1);
    for r in &rows {
        assert_eq!(r["episodes"], 20, "{r}");
    }
    let alone = row(&rows, "scripted_alone", "scripted_attacker");
    assert_eq!(alone["win_rate"], 1.0, "the scripted attacker wins every episode without a defender");
    assert_eq!(alone["mean_return"], 90.0, "10 steps at -1, then +100");
    let defended = row(&rows, "scripted_vs_log_defender", "scripted_attacker");
    assert!(defended["win_rate"].as_f64().unwrap() < 1.0, "the log-watching defender lowers the win rate: {defended}");
    assert!(row(&rows, "scripted_vs_log_defender", "log_defender")["mean_blocks"].as_f64().unwrap() > 0.0);
    assert!(report["episodes"].as_u64().unwrap() >= 80);
}

//! Runs the Python compatibility suite (`tests/python`) with the official client, against the
//! release binary of this build. `.ci/setup-python` creates the interpreter; in CI a missing
//! interpreter is a failure, elsewhere the suite is skipped with a note.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn official_python_client_suite() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let python =
        std::env::var("NETSECGAME_PYTHON").map(PathBuf::from).unwrap_or_else(|_| repo.join(".venv/bin/python"));
    let ready = python.exists()
        && Command::new(&python).args(["-c", "import netsecgame, pytest"]).status().is_ok_and(|s| s.success());
    if !ready {
        assert!(std::env::var("CI").is_err(), "CI needs the Python client: run `bash .ci/setup-python`");
        eprintln!(
            "SKIPPED: no Python with netsecgame and pytest at {} (run `bash .ci/setup-python`)",
            python.display()
        );
        return;
    }
    let status = Command::new(&python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(repo.join("tests/python"))
        .env("NETSECGAME_BIN", env!("CARGO_BIN_EXE_netsecgame"))
        .current_dir(&repo)
        .status()
        .expect("pytest runs");
    assert!(status.success(), "the Python client suite failed");
}

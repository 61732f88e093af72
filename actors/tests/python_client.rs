//! Runs the Python compatibility suite (`tests/python`) with the official client, against the
//! binary of this build. `.ci/setup-python` creates the interpreter. Without it the test fails
//! and says how to fix that; `NETSECGAME_SKIP_PYTHON=1` skips it on purpose (never in CI).

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
        let skip = std::env::var("NETSECGAME_SKIP_PYTHON").is_ok_and(|v| v == "1") && std::env::var("CI").is_err();
        assert!(
            skip,
            "no Python with the official netsecgame client and pytest at {}: run `bash .ci/setup-python` \
             (or set NETSECGAME_SKIP_PYTHON=1 to skip the compatibility suite on purpose)",
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

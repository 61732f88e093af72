"""Fixtures: start our `netsecgame` binary on a free loopback port for a task file."""
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "tests" / "reference"


def _binary() -> str:
    path = os.environ.get("NETSECGAME_BIN") or str(REPO / "target" / "release" / "netsecgame")
    if not Path(path).exists():
        pytest.fail(f"server binary not found at {path}: build it (cargo build --release) or set NETSECGAME_BIN")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, task: Path, tmp: Path, extra=()):
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [_binary(), "--task_config", str(task), "--game_port", str(self.port),
             "--log_dir", str(tmp / "logs"), "--trajectory_dir", str(tmp / "trajectories"), *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("server did not start")
                time.sleep(0.02)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def server_for(tmp_path):
    started = []

    def start(task: Path, extra=()):
        s = Server(task, tmp_path, extra)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()

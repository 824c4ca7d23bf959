"""``arena serve`` answers on 127.0.0.1 and stops on Ctrl-C; ``arena worker --once`` checks
what is waiting."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.server.server_helpers import make_site, package_copy, tar_gz

ARENA = Path(sys.executable).with_name("arena")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_and_ctrl_c_stops_server_and_worker(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "ARENA_DB": f"sqlite:///{tmp_path / 'arena.db'}"}
    process = subprocess.Popen(
        [str(ARENA), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/leaderboard") as r:
                    assert json.loads(r.read()) == []
                    break
            except OSError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "arena serve did not start"
                time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert f"arena serve: http://127.0.0.1:{port} (worker: on); Ctrl-C stops" in err
    assert err.rstrip().endswith("server stopped")


def test_worker_once_checks_the_waiting_uploads(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    site.upload("ada", "c4.tar.gz", tar_gz(package_copy(tmp_path), top="c4"))
    result = subprocess.run(
        [str(ARENA), "--db", site.db_url, "worker", "--once"],
        env={**os.environ, "ARENA_HOME": os.environ["ARENA_HOME"]},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "submission 1 (c4-heuristic 1.0.0) from ada: accepted\n"
    assert site.submission("ada", 1).json()["status"] == "accepted"


def test_worker_once_plays_a_queued_tournament_on_two_processes(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    toml = (
        '[tournament]\nname = "ttt-pool"\nenv = "tictactoe_v3"\ngames_per_pairing = 4\n'
        '[[entrants]]\nagent = "random"\n[[entrants]]\nagent = "minimax"\n'
    )
    assert site.client.post("/api/tournaments", content=toml, headers=site.auth("prof")).is_success
    env = {**os.environ, "ARENA_HOME": os.environ["ARENA_HOME"]}
    bad = subprocess.run(
        [str(ARENA), "--db", site.db_url, "worker", "--once", "--backend", "spark"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (bad.returncode, bad.stderr) == (
        1,
        "error: --backend: unknown backend 'spark' (expected: local, ray)\n",
    )
    result = subprocess.run(
        [str(ARENA), "--db", site.db_url, "worker", "--once", "--workers", "2"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    done = site.client.get("/api/tournaments/1").json()
    assert (done["status"], done["played"], done["planned"]) == ("finished", 4, 4)
    board = site.client.get("/api/leaderboard?tournament=ttt-pool").json()
    assert board[0]["agent"] == "minimax"  # never loses to random

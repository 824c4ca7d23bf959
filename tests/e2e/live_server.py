"""A real ``arena serve`` in a subprocess on 127.0.0.1, for the browser tests and the bench.

Each server gets its own ARENA_HOME (package store, uploads) and database, so runs
never see each other's rows; PostgreSQL runs get a fresh database, dropped afterwards.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ARENA = Path(sys.executable).with_name("arena")
#: How long ``arena serve`` may take to answer (imports, migrations on a fresh database).
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def arena_env(db_url: str, home: Path) -> dict[str, str]:
    """The environment of an ``arena`` subprocess on ``db_url`` with its own ARENA_HOME."""
    return {**os.environ, "ARENA_DB": db_url, "ARENA_HOME": str(home)}


@dataclass
class LiveServer:
    url: str
    db_url: str
    home: Path
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start_server(db_url: str, home: Path, *args: str) -> LiveServer:
    """``arena serve`` on a free port, returned once ``GET /api/envs`` answers 200.

    Raises:
        RuntimeError: it exited or did not answer in time (with its log).
    """
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = home / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(ARENA), "serve", "--port", str(port), *args],
            env=arena_env(db_url, home),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", db_url, home, process, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            if httpx.get(f"{server.url}/api/envs", timeout=5).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_server(server)
            raise RuntimeError(f"arena serve did not start:\n{server.log_text()}")
        time.sleep(0.2)


def stop_server(server: LiveServer, timeout: float = 30.0) -> int:
    """Ctrl-C (SIGINT) as a person would; its exit status (killed after ``timeout``)."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(timeout)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    return server.process.returncode


def add_user(db_url: str, home: Path, name: str, *, organiser: bool = False) -> str:
    """``arena user add NAME``: the token it prints once."""
    result = subprocess.run(
        [str(ARENA), "user", "add", name, *(["--organiser"] if organiser else [])],
        env=arena_env(db_url, home),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


FIRST_LEGAL = """\
class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        return next(cell for cell, legal in enumerate(action_mask) if legal)


def make_agent(ctx):
    return Agent()
"""


def package_archive(tmp: Path, name: str, version: str = "1.0.0") -> Path:
    """A tiny tic-tac-toe package ``name`` (plays the first legal cell) as the .tar.gz a
    person would upload, its files under ``name/`` (docs/agent-protocol.md)."""
    files = {
        "agent.toml": (
            f'[agent]\nname = "{name}"\nversion = "{version}"\nentry = "first:make_agent"\n'
            'envs = ["tictactoe_v3"]\nkind = "scripted"\n'
        ),
        "first.py": FIRST_LEGAL,
    }
    archive = tmp / f"{name}-{version}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for member, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}/{member}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive

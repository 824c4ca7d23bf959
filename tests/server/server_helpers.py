"""Helpers of the web service tests: an app on a fresh SQLite file, users, packages."""

from __future__ import annotations

import contextlib
import io
import shutil
import tarfile
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

with warnings.catch_warnings():  # starlette's notice that httpx2 exists
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from sqlalchemy import Engine

from arena.rating import RatingSystem
from arena.registry import get_env
from arena.runner import play_match
from arena.sources import resolve_agent
from arena.storage.recorder import Recorder
from server.app import create_app
from server.settings import Settings
from server.users import add_user
from server.worker import Worker
from tests.conftest import EXAMPLE_C4, ROOT

GOOD_C4 = ROOT / "tests" / "packages" / "good-c4"


@dataclass
class Site:
    """An app, its database, and three users' tokens."""

    client: TestClient
    engine: Engine
    settings: Settings
    db_url: str
    tokens: dict[str, str]

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def upload(self, user: str, filename: str, data: bytes) -> Any:
        return self.client.post(
            "/api/agents", headers=self.auth(user), files={"package": (filename, data)}
        )

    def work(self) -> int:
        """Run the worker's jobs until none is left (what the background thread does)."""
        worker, done = Worker(self.engine, self.settings), 0
        while worker.step():
            done += 1
        return done

    def submission(self, user: str, sub_id: int) -> Any:
        return self.client.get(f"/api/submissions/{sub_id}", headers=self.auth(user))


def make_site(tmp_path: Path, **settings: Any) -> Site:
    db_url = f"sqlite:///{tmp_path / 'arena.db'}"
    config = replace(Settings(db_url=db_url, data_dir=tmp_path / "server"), **settings)
    app = create_app(config)
    engine = app.state.arena.engine
    tokens = {
        "ada": add_user(engine, "ada")[1],
        "bob": add_user(engine, "bob")[1],
        "prof": add_user(engine, "prof", organiser=True)[1],
    }
    return Site(TestClient(app), engine, config, db_url, tokens)


def package_copy(tmp_path: Path, source: Path = EXAMPLE_C4, *, name: str | None = None) -> Path:
    """A copy of a package folder (renamed in its manifest with ``name``), made once."""
    folder = tmp_path / f"pkg-{name or source.name}"
    if folder.exists():
        return folder
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if name is not None:
        manifest = folder / "agent.toml"
        text = manifest.read_text()
        old = next(line for line in text.splitlines() if line.startswith("name = "))
        manifest.write_text(text.replace(old, f'name = "{name}"'))
    return folder


def tar_gz(folder: Path, *, top: str = "pkg", extra: dict[str, bytes] | None = None) -> bytes:
    """``folder`` as .tar.gz bytes under ``top/``, plus ``extra`` members named as given."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=f"{top}/{path.relative_to(folder)}")
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def record_match(db_engine: Engine, env_id: str, agents: list[str], seed: int = 0) -> int:
    """Play and store one match between ``agents`` (built-ins, paths or name@version)."""
    spec = get_env(env_id)
    result = play_match(spec, [resolve_agent(a) for a in agents], seed=seed)
    match_id = Recorder(db_engine, RatingSystem()).record(result)
    assert match_id is not None
    return match_id


@contextlib.contextmanager
def serving(site: Site) -> Iterator[str]:
    """The site's app on a real uvicorn on 127.0.0.1 (a free port); yields its URL."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(site.client.app, host="127.0.0.1", port=0, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            threading.Event().wait(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)

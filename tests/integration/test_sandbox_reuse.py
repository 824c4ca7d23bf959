"""``Limits(reuse_process=True)``: one sandboxed process serves a whole series."""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

import pytest

from arena.hosts import HostPool
from arena.limits import Limits
from arena.registry import get_env
from arena.runner import play_match
from arena.sandbox.isolation import probe
from arena.series import play_series
from arena.sources import resolve_agent
from tests.conftest import EXAMPLE_C4, ROOT


def test_reused_process_plays_the_same_games_as_fresh_forks() -> None:
    spec = get_env("connect_four_v3")
    agents = [resolve_agent(str(EXAMPLE_C4)), resolve_agent(str(ROOT / "tests/packages/good-c4"))]
    fresh = play_series(spec, agents, games=6, seed=4, limits=Limits())
    reused = play_series(spec, agents, games=6, seed=4, limits=Limits(reuse_process=True))
    assert [r.actions for r in fresh] == [r.actions for r in reused]
    assert not any(r.forfeits for r in reused)


def _markers(marker: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmdline and "pytest" not in cmdline:
            found.append(cmdline)
    return found


@pytest.mark.skipif(not probe().namespaces, reason="needs a PID namespace (root, unshare)")
def test_leftovers_are_killed_after_every_match_of_a_reused_process(tmp_path: Path) -> None:
    package = tmp_path / "hostile-children"
    shutil.copytree(ROOT / "tests/packages/hostile-children", package)
    marker = f"arena-reuse-{uuid.uuid4().hex[:8]}"
    (package / "marker.txt").write_text(marker)
    spec = get_env("connect_four_v3")
    agents = [resolve_agent(str(package)), resolve_agent("random")]
    limits = Limits(reuse_process=True)
    with HostPool(limits) as hosts:
        for seed in range(3):
            play_match(spec, agents, seed=seed, limits=limits, hosts=hosts)
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                left = [c for c in _markers(marker) if not c.startswith(f"{marker}-import")]
                if not left:
                    break
                time.sleep(0.05)
            assert left == [], f"match {seed} left {left}"
    deadline = time.monotonic() + 3
    while _markers(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _markers(marker) == []

"""Shared fixtures: every test gets its own ARENA_HOME so nothing touches ./.arena."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_C4 = ROOT / "examples" / "agents" / "c4-heuristic"


@pytest.fixture(autouse=True)
def arena_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "arena-home"
    monkeypatch.setenv("ARENA_HOME", str(home))
    monkeypatch.delenv("ARENA_DB", raising=False)
    return home

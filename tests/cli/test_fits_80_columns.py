"""Every command's output fits an 80-column terminal (COLUMNS=80, as a terminal sets it).

Run as child processes so that the console reads COLUMNS as it does for a person.
Plain lines that quote a path (``submitted: ... to PATH``) are the one exception:
they stay unwrapped so that scripts can match them, and are left out here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLE_C4

ROOT = Path(__file__).resolve().parents[2]


def arena(home: Path, *args: str) -> str:
    env = {**os.environ, "ARENA_HOME": str(home), "COLUMNS": "80"}
    env.pop("ARENA_DB", None)
    done = subprocess.run(
        [sys.executable, "-m", "arena.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


def test_every_command_fits_80_columns(tmp_path: Path) -> None:
    home = tmp_path / "home"
    tag = tmp_path / "tag.toml"
    tag.write_text(
        '[tournament]\nname = "tag-80"\nenv = "simple_tag_v3"\nformat = "round-robin"\n'
        "games_per_pairing = 2\nseed = 1\nenv_kwargs = { max_cycles = 10 }\n"
        '[[entrants]]\nagent = "random"\n[[entrants]]\nagent = "tag-chaser"\n'
    )
    outputs = {
        "match": arena(home, "match", "connect_four_v3", "one-ply", "random", "--games", "2"),
        "check": arena(home, "agent", "check", str(EXAMPLE_C4)),
        "tournament": arena(home, "tournament", "run", str(ROOT / "tournaments" / "demo.toml")),
        "tag": arena(home, "tournament", "run", str(tag)),
    }
    arena(home, "agent", "submit", str(EXAMPLE_C4))  # its last line quotes a path
    for args in (
        ("--help",),
        ("tournament", "run", "--help"),
        ("leaderboard",),
        ("leaderboard", "--env", "simple_tag_v3", "--role", "adversary"),
        ("tournament", "status"),
        ("agent", "list"),
        ("envs",),
        ("envs", "simple_tag_v3"),
        ("replay", "1"),
        ("logs", "1"),
        ("crossplay", "simple_spread_v3", "random", "random", "--games", "1"),
    ):
        outputs[" ".join(args)] = arena(home, *args)
    for name, text in outputs.items():
        wide = [line for line in text.splitlines() if len(line) > 80]
        assert wide == [], name
    assert "c4-heuristic@1.0.0" in outputs["leaderboard"]
    assert "tag-chaser@0.1.0" in outputs["leaderboard --env simple_tag_v3 --role adversary"]

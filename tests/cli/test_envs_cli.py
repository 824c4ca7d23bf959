"""``arena envs [ENV]``: the listing at 80 columns, one env's notes, exact errors."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from arena import console
from arena.cli import app
from arena.registry import env_specs

runner = CliRunner()


def arena(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    # The sandbox's one-time note about missing protections depends on the machine.
    err = "".join(
        line for line in result.stderr.splitlines(keepends=True) if not line.startswith("sandbox:")
    )
    return result.exit_code, result.stdout, err


def cells(line: str) -> list[str]:
    """The cells of a table row: columns are two or more spaces apart."""
    return re.split(r"\s{2,}", line.strip())


def _needs(env_id: str) -> None:
    missing = env_specs()[env_id].missing()
    if missing:
        pytest.skip(f"{env_id} needs {', '.join(missing)}")


def test_envs_fits_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console.out, "width", 80)
    code, out, _ = arena("envs")
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    header = next(line for line in lines if "env" in line and "sides" in line)
    assert cells(header) == ["env", "sides", "moves", "available"]
    for env_id in env_specs():
        assert any(line.lstrip().startswith(f"{env_id} ") for line in lines), env_id
    [tag] = [line for line in lines if line.lstrip().startswith("simple_tag_v3 ")]
    assert cells(tag) == [
        "simple_tag_v3",
        "adversary×3 vs agent",
        "at once",
        "yes" if not env_specs()["simple_tag_v3"].missing() else "no (extra)",
    ]


def test_envs_keeps_every_column_when_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console.out, "width", 160)
    code, out, _ = arena("envs")
    assert code == 0
    [c4] = [line for line in out.splitlines() if line.lstrip().startswith("connect_four_v3 ")]
    assert cells(c4)[:5] == [
        "connect_four_v3",
        "classic",
        "player vs player",
        "turn-based",
        "yes",
    ]


def test_envs_env_prints_the_author_notes() -> None:
    _needs("connect_four_v3")
    code, out, err = arena("envs", "connect_four_v3")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "connect_four_v3 (classic): Connect Four on a 6x7 board"
    for expected in (
        "  1. player: player_0 (team 0)",
        "  2. player: player_1 (team 1)",
        "Role player: player_0, player_1",
        "  Observation: Box (6, 7, 2) int8, values 0..1. Two 6x7 planes, row 0 at the",
        "    planes (last axis):",
        "    0       the observing seat's pieces",
        "    1       the opponent's pieces",
        "  Actions: Discrete(7), an int 0-6. 0-6: the column to drop a piece into (0 =",
        "Arguments a tournament may set: none.",
    ):
        assert expected in lines, expected
    assert "Ranks: A team's score is the sum of its seats' returns; the higher score ranks" in lines
    assert max(len(line) for line in lines) <= 80


def test_envs_env_says_mpe_plays_discrete_actions() -> None:
    _needs("simple_tag_v3")
    code, out, _ = arena("envs", "simple_tag_v3")
    assert code == 0
    text = " ".join(line.strip() for line in out.splitlines())
    assert "Role adversary: adversary_0, adversary_1, adversary_2" in out
    assert "Actions: Discrete(5), an int 0-4. 0 no-op, 1 left (-x), 2 right (+x), 3 down" in text
    assert "Matches play the env's default, discrete actions;" in text
    assert "continuous_actions = false: Box actions instead of Discrete" in text


def test_envs_env_json() -> None:
    _needs("simple_tag_v3")
    code, out, _ = arena("envs", "simple_tag_v3", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["env"] == "simple_tag_v3"
    assert [(r["role"], r["seats"], r["observation"]["shape"]) for r in data["roles"]] == [
        ("adversary", ["adversary_0", "adversary_1", "adversary_2"], [16]),
        ("agent", ["agent_0"], [14]),
    ]
    assert [r["what"] for r in data["roles"][1]["layout"]][:2] == ["self_vel", "self_pos"]
    kwargs = {k["name"]: k["default"] for k in data["kwargs"]}
    assert kwargs["continuous_actions"] is False and kwargs["max_cycles"] == 25


def test_envs_unknown_env_is_one_line() -> None:
    code, out, err = arena("envs", "nosuch")
    assert (code, out, err) == (1, "", "error: unknown env 'nosuch' (see arena envs)\n")
    code, out, err = arena("envs", "nosuch", "--json")
    assert (code, out, err) == (1, "", "error: unknown env 'nosuch' (see arena envs)\n")

"""The leaderboard table fits the terminal: it folds under 100 columns and fits 80."""

from __future__ import annotations

from dataclasses import replace

from rich.console import Console

from tournaments.leaderboard import LeaderboardRow
from tournaments.leaderboard_table import agent_labels, count, leaderboard_table, number

ROW = LeaderboardRow(
    rank=1,
    env="connect_four_v3",
    agent="c4-heuristic",
    version="1.0.0",
    hash="3fa2c1d9e8" + "0" * 54,
    kind="scripted",
    learning_type="Scripted",
    mu=34.49,
    sigma=2.03,
    score=28.41,
    games=1240,
    wins=800,
    draws=40,
    losses=400,
    forfeits=0,
    bt=1402.0,
    bt_low=1311.0,
    bt_high=1535.0,
)


def render(rows: list[LeaderboardRow], width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None)
    console.print(leaderboard_table(rows, "Leaderboard (connect_four_v3)", console.width))
    return console.export_text().splitlines()


def test_80_columns_fold_bt_and_mu_and_keep_every_figure() -> None:
    lines = render([ROW, replace(ROW, rank=2, agent="one-ply", hash="ab" * 32)], 80)
    assert max(len(line) for line in lines) <= 80
    header = next(line for line in lines if "agent" in line).split()
    assert header == ["#", "agent", "mu-3σ", "mu", "±", "σ", "BT", "[95%]", "games", "W-D-L"]
    row = next(line for line in lines if line.lstrip().startswith("1 ")).split()
    assert row == [
        "1", "c4-heuristic@1.0.0", "28.41", "34.5", "±", "2.0", "1402", "[1311-1535]",
        "1,240", "800-40-400",
    ]  # fmt: skip
    assert any(line.startswith("mu-3σ: TrueSkill's conservative rating") for line in lines)


def test_wide_terminals_get_every_column_apart() -> None:
    lines = render([ROW], 120)
    header = next(line for line in lines if "agent" in line).split()
    assert header == [
        "#", "agent", "kind", "mu-3σ", "mu", "σ", "BT", "BT", "95%", "games", "W", "D", "L",
    ]  # fmt: skip
    assert "1,240" in next(line for line in lines if line.lstrip().startswith("1 "))


def test_a_long_name_folds_instead_of_being_cut() -> None:
    name = "a-very-long-agent-name-from-a-course"
    lines = render([replace(ROW, agent=name, games=51700, wins=36000)], 80)
    assert max(len(line) for line in lines) <= 80
    text = "\n".join(lines)
    assert "…" not in text and "51,700" in text and "36000-40-400" in text
    rows = [line for line in lines[4:] if line.strip() and not line.startswith("mu-3σ")]
    pieces = [line[3:].split()[0] for line in rows if not line.startswith(("BT", "wins"))]
    assert "".join(pieces).startswith(name)


def test_env_column_only_for_several_envs() -> None:
    one = render([ROW], 120)
    two = render([ROW, replace(ROW, env="tictactoe_v3", rank=1)], 120)
    assert "env" not in next(line for line in one if "agent" in line).split()
    assert next(line for line in two if "agent" in line).split()[1] == "env"


def test_same_name_and_version_with_different_content_get_a_short_hash() -> None:
    other = replace(ROW, rank=2, hash="77e5" + "1" * 60)
    assert agent_labels([ROW, other, replace(ROW, agent="one-ply", hash="ab" * 32)]) == [
        "c4-heuristic@1.0.0 #3fa2c1",
        "c4-heuristic@1.0.0 #77e511",
        "one-ply@1.0.0",
    ]


def test_numbers_read_as_people_write_them() -> None:
    shown = (number(51700.0, 0), number(-23.414), count(1234567))
    assert shown == ("51,700", "-23.41", "1,234,567")

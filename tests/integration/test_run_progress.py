"""run_tournament tells its caller the plan's size before the first match is played,
so the progress bar knows its total from the start (never ``0/None``)."""

from __future__ import annotations

from pathlib import Path

from arena.result import MatchResult
from tournaments.run import run_tournament


def test_the_total_is_known_before_the_first_match(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        '[tournament]\nname = "progress"\nenv = "tictactoe_v3"\nformat = "round-robin"\n'
        "games_per_pairing = 2\nseed = 1\n"
        '[[entrants]]\nagent = "random"\n[[entrants]]\nagent = "one-ply"\n'
        '[[entrants]]\nagent = "minimax"\n'
    )
    events: list[tuple[str, int, int]] = []

    def plan(done: int, total: int) -> None:
        events.append(("plan", done, total))

    def match(_result: MatchResult, done: int, total: int) -> None:
        events.append(("match", done, total))

    run_tournament(path, db_url=f"sqlite:///{tmp_path / 'a.db'}", on_plan=plan, on_match=match)
    assert events[0] == ("plan", 0, 6)
    assert events[1:] == [("match", n, 6) for n in range(1, 7)]

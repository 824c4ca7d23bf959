"""Stored agent text reaches a terminal or a page only cleaned: no escape sequence, no
rich markup, no raw HTML, also from rows an older version stored uncleaned."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from arena.cli import app
from arena.series import SeriesReport
from arena.storage import connect, session_factory
from arena.storage import models as m

runner = CliRunner()
ESCAPES = "\x1b]0;pwned\x07"  # retitles a terminal window


def arena(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def no_control(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text


@pytest.fixture
def old_rows(arena_home: Path) -> int:
    """One stored match, then its rows edited as an older version could have stored them."""
    code, _, err = arena("match", "connect_four_v3", "one-ply", "random", "--json")
    assert code == 0, err
    with session_factory(connect()).begin() as s:
        s.execute(
            update(m.Participant)
            .where(m.Participant.slot == 1)
            .values(
                label=f"rnd{ESCAPES}",
                forfeit_reason="error",
                error_text=f"Traceback ...\nValueError: <script>alert(1)</script> {ESCAPES}\u202e",
            )
        )
        s.execute(
            update(m.Agent).where(m.Agent.name == "one-ply").values(name=f"[b]op[/b]{ESCAPES}")
        )
    return 1


def test_replay_prints_stored_text_cleaned(old_rows: int) -> None:
    code, out, err = arena("replay", str(old_rows))
    assert code == 0, err
    no_control(out)
    lines = out.splitlines()
    assert (
        lines[-1] == "rnd]0;pwned forfeited (error): ValueError: <script>alert(1)</script> ]0;pwned"
    )
    assert any(line.startswith("  player_0: one-ply ([b]op[/b]]0;pwned ") for line in lines)


def test_leaderboard_prints_names_cleaned_and_without_markup(old_rows: int) -> None:
    code, out, err = arena("leaderboard")
    assert code == 0, err
    no_control(out)
    assert "[b]op[/b]]0;pwned" in out  # literally: rich did not read it as markup


def test_match_summary_prints_labels_cleaned(monkeypatch: pytest.MonkeyPatch) -> None:
    row = {"wins": 1, "draws": 0, "losses": 0, "forfeits": {f"x{ESCAPES}": 1}, "mean_return": 1.0}
    report = SeriesReport("tictactoe_v3", 1, 0, {f"ev[red]i[/red]l{ESCAPES}": row}, [])
    monkeypatch.setattr("arena.play.play_and_record", lambda *a, **k: report)
    code, out, err = arena("match", "tictactoe_v3", "random", "random")
    assert code == 0, err
    no_control(out)
    assert "ev[red]i[/red]l]0;pwned" in out and "x]0;pwned 1" in out


def test_an_error_line_quoting_user_text_is_cleaned() -> None:
    code, out, err = arena("match", "tictactoe_v3", f"./no{ESCAPES}", "random")
    assert (code, out) == (1, "")
    assert err.startswith("error: unknown agent './no]0;pwned': not a built-in (")
    no_control(err)


def test_report_escapes_script_and_strips_terminal_escapes(old_rows: int, tmp_path: Path) -> None:
    out = tmp_path / "site"
    code, _, err = arena("report", "--out", str(out))
    assert code == 0, err
    pages = {p.relative_to(out).as_posix(): p.read_text("utf-8") for p in out.rglob("*.html")}
    pages |= {p.relative_to(out).as_posix(): p.read_text("utf-8") for p in out.rglob("*.svg")}
    for name, text in pages.items():
        assert "<script" not in text, name
        no_control(text)
    replay = pages[f"replays/match-{old_rows}.html"]
    assert (
        "<pre>Traceback ...\nValueError: &lt;script&gt;alert(1)&lt;/script&gt; ]0;pwned</pre>"
        in replay
    )
    assert "[b]op[/b]]0;pwned" in pages["index.html"]

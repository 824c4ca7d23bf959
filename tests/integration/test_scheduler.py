"""Scheduled tournaments: repeated runs, missed slots, cron slots, failures, the CLI."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from arena.cli import app
from arena.errors import ArenaError
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.models import utcnow
from tests.conftest import ROOT
from tournaments.schedule import (
    WAKE_S,
    next_run_after,
    parse_every,
    run_scheduler,
    schedule_tournament,
)

T0 = datetime(2026, 3, 13, 12, 0, 0)  # a Friday
WHEN = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"


def tournament_file(
    folder: Path,
    *,
    name: str = "sched",
    schedule: str = 'every = "2s"',
    env: str = "tictactoe_v3",
    file: str = "t.toml",
) -> Path:
    path = folder / file
    path.write_text(
        f"""
[tournament]
name = "{name}"
env = "{env}"
games_per_pairing = 2

{"[schedule]" if schedule else ""}
{schedule}

[[entrants]]
agent = "random"
[[entrants]]
agent = "one-ply"
"""
    )
    return path


class Clock:
    """A fake clock: ``sleep`` moves it forward."""

    def __init__(self, start: datetime = T0) -> None:
        self.t = start
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += timedelta(seconds=seconds)


def url_for(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'arena.db'}"


def schedule_row(url: str, name: str = "sched") -> m.Schedule:
    with session_factory(connect(url))() as s:
        row = s.scalar(select(m.Schedule).join(m.Tournament).where(m.Tournament.name == name))
        assert row is not None
        return row


def runs_and_matches(url: str) -> list[tuple[int, str, int]]:
    """``(run number, status, stored matches)`` of every run, in order."""
    with session_factory(connect(url))() as s:
        rows = s.execute(
            select(m.Run.number, m.Run.status, func.count(m.Match.id))
            .outerjoin(m.Match, m.Match.run_id == m.Run.id)
            .group_by(m.Run.id)
            .order_by(m.Run.number)
        ).all()
    return [(number, status, matches) for number, status, matches in rows]


# --- slots -----------------------------------------------------------------------------


def test_cron_next_slot_is_strictly_after_now() -> None:
    assert next_run_after(T0, cron="0 3 * * *") == datetime(2026, 3, 14, 3, 0)
    assert next_run_after(datetime(2026, 3, 14, 3, 0), cron="0 3 * * *") == datetime(
        2026, 3, 15, 3, 0
    )
    # Every 15 minutes in office hours on weekdays: Friday evening -> Monday 09:00.
    friday_evening = datetime(2026, 3, 13, 17, 50)
    assert next_run_after(friday_evening, cron="*/15 9-17 * * 1-5") == datetime(2026, 3, 16, 9, 0)


def test_every_slots_stay_on_their_grid() -> None:
    assert [parse_every(t) for t in ("30s", "30m", "24h", "7d", "1.5h", "2 s")] == [
        30,
        1800,
        86400,
        604800,
        5400,
        2,
    ]
    assert next_run_after(T0, every_s=10) == T0 + timedelta(seconds=10)
    # A run that ended 25 s after its slot: the next slot is the grid's, not now + 10 s.
    assert next_run_after(T0, every_s=10, anchor=T0 - timedelta(seconds=25)) == T0 + timedelta(
        seconds=5
    )
    assert next_run_after(T0, every_s=10, anchor=T0 - timedelta(seconds=30)) == T0 + timedelta(
        seconds=10
    )


# --- the scheduler ---------------------------------------------------------------------


def test_every_2s_runs_again_and_again(tmp_path: Path) -> None:
    url = url_for(tmp_path)
    info = schedule_tournament(tournament_file(tmp_path), db_url=url)
    assert (info.created, info.every, info.every_s, info.cron) == (True, "2s", 2.0, None)
    assert info.next_run_at <= utcnow()  # a new schedule is due at once

    seen: list[int | None] = []
    runs = run_scheduler(db_url=url, max_runs=3, on_run=lambda r: seen.append(r.run))
    assert [(r.ok, r.error, r.run, r.played) for r in runs] == [
        (True, None, 1, 2),
        (True, None, 2, 2),
        (True, None, 3, 2),
    ]
    assert seen == [1, 2, 3]
    # Each run waited for its slot on the 2 s grid that starts when it was scheduled.
    slots = [info.next_run_at + timedelta(seconds=2 * i) for i in range(3)]
    assert all(r.started_at >= slot for r, slot in zip(runs, slots, strict=True)), runs
    assert all(1 < (b.started_at - a.started_at).total_seconds() < 6 for a, b in pairwise(runs))
    assert runs_and_matches(url) == [(1, "finished", 2), (2, "finished", 2), (3, "finished", 2)]
    row = schedule_row(url)
    assert row.last_run_at == runs[-1].started_at
    assert row.next_run_at == runs[-1].next_run_at > runs[-1].started_at
    # The slots stay on the 2 s grid that started when the tournament was scheduled.
    assert (row.next_run_at - info.next_run_at).total_seconds() % 2 == pytest.approx(0, abs=1e-3)


def test_missed_slots_run_once(tmp_path: Path) -> None:
    url = url_for(tmp_path)
    clock = Clock()
    schedule_tournament(tournament_file(tmp_path), db_url=url, now=T0 - timedelta(days=1))
    with session_factory(connect(url)).begin() as s:
        row = s.scalar(select(m.Schedule))
        assert row is not None
        row.next_run_at = T0 - timedelta(hours=1)  # 1800 slots of 2 s missed

    runs = run_scheduler(db_url=url, once=True, now=clock.now, sleep=clock.sleep)
    assert [(r.ok, r.run, r.started_at) for r in runs] == [(True, 1, T0)]
    assert runs[0].next_run_at == T0 + timedelta(seconds=2)
    assert runs_and_matches(url) == [(1, "finished", 2)]
    row = schedule_row(url)
    assert (row.last_run_at, row.next_run_at) == (T0, T0 + timedelta(seconds=2))
    # Nothing is due until the next slot.
    assert run_scheduler(db_url=url, once=True, now=clock.now, sleep=clock.sleep) == []
    assert clock.sleeps == []  # --once never sleeps


def test_failing_schedule_reports_and_advances_and_others_still_run(tmp_path: Path) -> None:
    url = url_for(tmp_path)
    clock = Clock()
    good = tournament_file(tmp_path, name="good", file="good.toml")
    gone = tournament_file(tmp_path, name="gone", file="gone.toml", schedule='every = "1h"')
    schedule_tournament(gone, db_url=url, now=T0 - timedelta(seconds=1))
    schedule_tournament(good, db_url=url, now=T0)
    gone.unlink()

    runs = run_scheduler(db_url=url, once=True, now=clock.now, sleep=clock.sleep)
    assert [(r.tournament, r.ok, r.played) for r in runs] == [("gone", False, 0), ("good", True, 2)]
    assert runs[0].error == f"{gone.resolve()}: tournament file not found"
    assert runs[0].next_run_at == T0 + timedelta(hours=1) - timedelta(seconds=1)
    row = schedule_row(url, "gone")
    assert (row.last_run_at, row.next_run_at) == (T0, runs[0].next_run_at)


def test_a_bug_in_one_run_does_not_stop_the_scheduler(tmp_path: Path) -> None:
    url = url_for(tmp_path)
    clock = Clock()
    schedule_tournament(tournament_file(tmp_path), db_url=url, now=T0)

    def broken(_path: Path, **_kwargs: object) -> None:
        raise RuntimeError("boom\nsecond line")

    runs = run_scheduler(db_url=url, once=True, now=clock.now, sleep=clock.sleep, run=broken)
    assert [(r.ok, r.error) for r in runs] == [(False, "RuntimeError: boom second line")]
    assert runs[0].detail is not None and "Traceback" in runs[0].detail


def test_loop_sleeps_until_due_and_wakes_for_new_schedules(tmp_path: Path) -> None:
    url = url_for(tmp_path)
    clock = Clock()
    path = tournament_file(tmp_path, schedule='every = "5m"')
    added: list[bool] = []

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if not added:  # another process schedules a tournament while the loop sleeps
            schedule_tournament(path, db_url=url, now=clock.now())
            added.append(True)

    runs = run_scheduler(db_url=url, max_runs=3, now=clock.now, sleep=sleep)
    # No schedule yet: wake after WAKE_S; then run, sleep 5 min (in WAKE_S steps), run...
    assert clock.sleeps[0] == WAKE_S
    assert all(0 <= s <= WAKE_S for s in clock.sleeps)
    assert [r.started_at - runs[0].started_at for r in runs] == [
        timedelta(0),
        timedelta(minutes=5),
        timedelta(minutes=10),
    ]
    assert [r.run for r in runs] == [1, 2, 3]


def test_stop_callback_ends_the_loop(tmp_path: Path) -> None:
    clock = Clock()
    runs = run_scheduler(
        db_url=url_for(tmp_path),
        now=clock.now,
        sleep=clock.sleep,
        stop=lambda: len(clock.sleeps) >= 2,
    )
    assert (runs, clock.sleeps) == ([], [WAKE_S, WAKE_S])


# --- scheduling ------------------------------------------------------------------------


def test_rescheduling_keeps_the_slot_unless_the_timing_changes(tmp_path: Path) -> None:
    url = url_for(tmp_path)
    path = tournament_file(tmp_path, schedule='every = "1h"')
    first = schedule_tournament(path, db_url=url, now=T0)
    again = schedule_tournament(path, db_url=url, now=T0 + timedelta(minutes=5))
    assert (first.created, again.created, again.id) == (True, False, first.id)
    assert again.next_run_at == T0

    clock = Clock(T0 + timedelta(minutes=10))
    run_scheduler(db_url=url, once=True, now=clock.now, sleep=clock.sleep)
    assert schedule_row(url).next_run_at == T0 + timedelta(hours=1)

    # A new timing starts from the last run: the first cron slot after it.
    tournament_file(tmp_path, schedule='cron = "0 3 * * *"')
    cron = schedule_tournament(path, db_url=url, now=T0 + timedelta(minutes=20))
    assert (cron.every_s, cron.cron, cron.next_run_at) == (
        None,
        "0 3 * * *",
        datetime(2026, 3, 14, 3, 0),
    )


def test_schedule_errors(tmp_path: Path) -> None:
    url = url_for(tmp_path)
    bare = tournament_file(tmp_path, schedule="", file="bare.toml")
    with pytest.raises(ArenaError, match=r"bare\.toml: no \[schedule\] table"):
        schedule_tournament(bare, db_url=url)
    bad = tournament_file(tmp_path, schedule='cron = "61 3 * * *"', file="bad.toml")
    with pytest.raises(ArenaError, match=r"bad\.toml: \[schedule\]\.cron: not a valid cron"):
        schedule_tournament(bad, db_url=url)
    zero = tournament_file(tmp_path, schedule='every = "0s"', file="zero.toml")
    with pytest.raises(ArenaError, match=r"zero\.toml: \[schedule\]\.every: must be longer"):
        schedule_tournament(zero, db_url=url)
    assert not (tmp_path / "arena.db").exists()  # nothing stored on a bad file


# --- CLI -------------------------------------------------------------------------------

runner = CliRunner()


def arena(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    err = "".join(
        line for line in result.stderr.splitlines(keepends=True) if not line.startswith("sandbox:")
    )
    return result.exit_code, result.stdout, err


def test_cli_schedule_then_run_once(tmp_path: Path) -> None:
    db = url_for(tmp_path)
    path = tournament_file(tmp_path, schedule='every = "24h"')

    code, out, err = arena("--db", db, "tournament", "schedule", str(path))
    assert (code, err) == (0, "")
    assert re.fullmatch(rf"scheduled 'sched': every 24h, next run at {WHEN}\n", out), out

    code, out, err = arena("--db", db, "tournament", "schedule", str(path), "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert {k: data[k] for k in ("tournament", "every", "every_s", "cron", "enabled")} == {
        "tournament": "sched",
        "every": "24h",
        "every_s": 86400.0,
        "cron": None,
        "enabled": True,
    }
    assert data["source_path"] == str(path.resolve())
    assert data["created"] is False and data["last_run_at"] is None

    code, out, err = arena("--db", db, "scheduler", "run", "--once")
    assert (code, err) == (0, "")
    assert re.fullmatch(rf"ran 'sched' run 1: 2 match\(es\) played; next run at {WHEN}\n", out)

    assert arena("--db", db, "scheduler", "run", "--once") == (0, "nothing due\n", "")
    assert arena("--db", db, "scheduler", "run", "--once", "--json") == (0, "[]\n", "")


def test_cli_run_once_json(tmp_path: Path) -> None:
    db = url_for(tmp_path)
    assert arena("--db", db, "tournament", "schedule", str(tournament_file(tmp_path)))[0] == 0
    code, out, err = arena("--db", db, "scheduler", "run", "--once", "--json")
    assert (code, err) == (0, "")
    [row] = json.loads(out)
    assert set(row) == {"tournament", "started_at", "ok", "error", "played", "run", "next_run_at"}
    assert (row["tournament"], row["ok"], row["error"], row["played"], row["run"]) == (
        "sched",
        True,
        None,
        2,
        1,
    )


def test_cli_cron_schedule_and_errors(tmp_path: Path) -> None:
    db = url_for(tmp_path)
    path = tournament_file(tmp_path, schedule='cron = "0 3 * * *"')
    code, out, err = arena("--db", db, "tournament", "schedule", str(path))
    assert (code, err) == (0, "")
    assert re.fullmatch(
        rf"scheduled 'sched': cron \"0 3 \* \* \*\" \(UTC\), next run at {WHEN}\n", out
    )

    bare = tournament_file(tmp_path, schedule="", file="bare.toml")
    assert arena("--db", db, "tournament", "schedule", str(bare)) == (
        1,
        "",
        f'error: {bare}: no [schedule] table to schedule (add every = "24h" or '
        'cron = "0 3 * * *")\n',
    )
    other_env = tournament_file(tmp_path, env="connect_four_v3", file="c4.toml")
    assert arena("--db", db, "tournament", "schedule", str(other_env)) == (
        1,
        "",
        f"error: {other_env}: [tournament].name: 'sched' already exists on env "
        "tictactoe_v3; choose another name\n",
    )
    broken = tournament_file(tmp_path, name="other", file="broken.toml")
    broken.write_text(broken.read_text().replace('"one-ply"', '"nope"'))
    code, out, err = arena("--db", db, "tournament", "schedule", str(broken))
    assert (code, out) == (1, "")
    assert err.startswith(f"error: {broken}: entrants[2].agent: unknown agent 'nope'")
    assert err.count("\n") == 1


def test_cli_deleted_file_is_one_error_line_and_exit_1(tmp_path: Path) -> None:
    db = url_for(tmp_path)
    path = tournament_file(tmp_path)
    assert arena("--db", db, "tournament", "schedule", str(path))[0] == 0
    path.unlink()
    code, out, err = arena("--db", db, "scheduler", "run", "--once")
    assert (code, out) == (1, "")
    assert re.fullmatch(
        rf"error: 'sched': {re.escape(str(path.resolve()))}: tournament file not found; "
        rf"next run at {WHEN}\n",
        err,
    ), err
    with session_factory(connect(db))() as s:
        row = s.scalar(select(m.Schedule))
        assert row is not None and row.last_run_at is not None
        assert row.next_run_at > row.last_run_at


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_cli_scheduler_loop_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    db = url_for(tmp_path)
    assert arena("--db", db, "tournament", "schedule", str(tournament_file(tmp_path)))[0] == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "arena.cli", "--db", db, "scheduler", "run"],
        cwd=ROOT,
        env={**os.environ, "ARENA_HOME": str(tmp_path / "home")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell's background job would ignore SIGINT; be the foreground Ctrl-C case.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    watchdog = threading.Timer(60, proc.kill)  # never hang the suite
    watchdog.start()
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the first run is due at once
        assert first.startswith("ran 'sched' run 1: 2 match(es) played"), first
        time.sleep(0.3)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert err.splitlines()[-1] == "scheduler stopped"
    assert "Traceback" not in err

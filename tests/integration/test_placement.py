"""Placement matches: new submissions of a ladder's env play its entrants until rated."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from arena.errors import ArenaError
from arena.package_store import registry_dir
from arena.packages import submit_package
from arena.rating import Rating, RatingSystem
from arena.series import game_seed
from arena.sources import package_source
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.recorder import ensure_agent_version
from tests.conftest import EXAMPLE_C4
from tournaments.placement import PlacementReport, pick_opponent, place_new_submissions
from tournaments.run import TournamentOutcome
from tournaments.schedule import run_scheduler, schedule_tournament

START_SIGMA = RatingSystem().initial().sigma
T0 = datetime(2026, 3, 13, 12, 0, 0)


def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'arena.db'}"


def ladder(
    folder: Path,
    *,
    fmt: str = "ladder",
    schedule: str = "",
    entrants: tuple[str, ...] = ("random", "one-ply"),
) -> Path:
    path = folder / "ladder.toml"
    listed = "".join(f'[[entrants]]\nagent = "{a}"\n' for a in entrants)
    path.write_text(
        f"""
[tournament]
name = "c4-ladder"
env = "connect_four_v3"
format = "{fmt}"
{"rounds = 1" if fmt == "ladder" else ""}
seed = 5
{schedule}

{listed}"""
    )
    return path


def package(
    folder: Path,
    *,
    name: str = "c4-heuristic",
    version: str = "1.0.0",
    envs: str = '["connect_four_v3"]',
    code: str | None = None,
) -> Path:
    """A copy of the example c4-heuristic, with another name, version, envs or code."""
    dest = folder / f"{name}-{version}"
    shutil.copytree(EXAMPLE_C4, dest)
    manifest = dest / "agent.toml"
    text = manifest.read_text()
    text = text.replace('name = "c4-heuristic"', f'name = "{name}"')
    text = text.replace('version = "1.0.0"', f'version = "{version}"')
    text = text.replace('envs = ["connect_four_v3"]', f"envs = {envs}")
    manifest.write_text(text)
    if code is not None:
        (dest / "heuristic.py").write_text(code)
    return dest


def store(folder: Path, url: str) -> str:
    """Put a package in the registry as ``submit_package`` does, without its smoke check."""
    source = package_source(folder)
    dest = registry_dir() / source.info.name / source.info.version
    shutil.copytree(folder, dest)
    info = package_source(dest, source="registry").info
    with session_factory(connect(url)).begin() as session:
        ensure_agent_version(session, info)
    return info.content_hash


def rating(url: str, content_hash: str, env: str = "connect_four_v3") -> m.Rating | None:
    with session_factory(connect(url))() as session:
        return session.scalar(
            select(m.Rating)
            .join(m.AgentVersion, m.AgentVersion.id == m.Rating.agent_version_id)
            .where(m.AgentVersion.content_hash == content_hash, m.Rating.env_id == env)
        )


def sigmas(url: str, content_hash: str) -> list[float]:
    """The version's sigma after each of its rated games, in order."""
    with session_factory(connect(url))() as session:
        query = (
            select(m.RatingHistory.sigma)
            .join(m.Rating, m.Rating.id == m.RatingHistory.rating_id)
            .join(m.AgentVersion, m.AgentVersion.id == m.Rating.agent_version_id)
            .where(m.AgentVersion.content_hash == content_hash)
            .order_by(m.RatingHistory.match_id)
        )
        return [float(s) for s in session.scalars(query)]


def check_batches(report: PlacementReport, *, seed: int = 5) -> None:
    """Opponents rotate, seats alternate, seeds come from the hash, games are stored."""
    root = int(report.content_hash[:8], 16)
    done = 0
    for i, batch in enumerate(report.batches):
        assert batch.seed == game_seed(root, seed, done)
        assert len(batch.match_ids) == batch.games
        assert batch.wins + batch.draws + batch.losses == batch.games
        if i:
            assert batch.opponent != report.batches[i - 1].opponent
        done += batch.games
    assert done == report.games
    assert {b.opponent for b in report.batches} <= {"random", "one-ply"}


def test_a_new_submission_plays_until_its_sigma_settles(tmp_path: Path) -> None:
    url, path = db(tmp_path), ladder(tmp_path)
    submitted = submit_package(package(tmp_path), db_url=url)
    target, cap = 2.5, 30  # the defaults

    [report] = place_new_submissions(url, tournament_path=path)

    assert (report.agent, report.version) == ("c4-heuristic", "1.0.0")
    assert report.content_hash == submitted.content_hash
    assert (report.start_mu, report.start_sigma) == (None, None)
    assert report.games >= 4 and report.games == report.total_games
    check_batches(report)
    row = rating(url, submitted.content_hash)
    assert row is not None
    assert (row.games, row.sigma, row.mu) == (report.games, report.sigma, report.mu)
    assert row.sigma < START_SIGMA
    if report.status == "settled":
        assert row.sigma <= target
    else:
        assert (report.status, report.games) == ("max_games", cap)
    # It stopped at the first batch that brought sigma to the target, not later.
    history = sigmas(url, submitted.content_hash)
    assert len(history) == report.games
    assert all(history[k - 1] > target for k in range(4, report.games, 4))
    # Placement games are ordinary rated matches, not part of a tournament run.
    with session_factory(connect(url))() as session:
        ids = [i for b in report.batches for i in b.match_ids]
        assert set(session.scalars(select(m.Match.run_id).where(m.Match.id.in_(ids)))) == {None}

    # Settled now: a second call has nothing to do.
    assert place_new_submissions(url, tournament_path=path) == []

    # The same submission on a fresh database plays the same placement.
    other = db(tmp_path / "again")
    submit_package(package(tmp_path / "again"), db_url=other)
    [again] = place_new_submissions(other, tournament_path=path)
    assert again.batches == [
        replace(b, match_ids=a.match_ids)
        for b, a in zip(report.batches, again.batches, strict=True)
    ]
    assert (again.mu, again.sigma) == (report.mu, report.sigma)


def test_placement_stops_at_max_games_and_does_not_start_again(tmp_path: Path) -> None:
    url, path = db(tmp_path), ladder(tmp_path)
    submitted = submit_package(package(tmp_path), db_url=url)

    [report] = place_new_submissions(
        url, tournament_path=path, sigma_target=0.5, max_games=10, batch=4
    )

    assert report.status == "max_games"
    assert [b.games for b in report.batches] == [4, 4, 2]  # the last batch fits the cap
    check_batches(report)
    assert report.total_games == report.games == 10
    row = rating(url, submitted.content_hash)
    assert row is not None and row.games == 10
    assert 0.5 < row.sigma < START_SIGMA
    # The cap counts every rated game on the env, so the next call leaves it be.
    assert place_new_submissions(url, tournament_path=path, sigma_target=0.5, max_games=10) == []


def test_settled_other_env_and_broken_versions(tmp_path: Path) -> None:
    url, path = db(tmp_path), ladder(tmp_path)
    broken = store(
        package(tmp_path, name="c4-broken", code="raise RuntimeError('no import')\n"), url
    )
    other = store(package(tmp_path, name="ttt-only", envs='["tictactoe_v3"]'), url)
    settled = submit_package(package(tmp_path, name="c4-settled"), db_url=url).content_hash
    fresh = submit_package(package(tmp_path, name="c4-fresh"), db_url=url).content_hash
    with session_factory(connect(url)).begin() as session:
        vid = session.scalar(
            select(m.AgentVersion.id).where(m.AgentVersion.content_hash == settled)
        )
        assert vid is not None
        session.add(
            m.Rating(agent_version_id=vid, env_id="connect_four_v3", mu=30.0, sigma=1.0, games=50)
        )

    reports = place_new_submissions(url, tournament_path=path, sigma_target=7.5, batch=2)

    # Oldest submission first; the settled and the tic-tac-toe versions are not there.
    assert [(r.agent, r.status) for r in reports] == [
        ("c4-broken", "error"),
        ("c4-fresh", "settled"),
    ]
    assert reports[0].games == 0 and "no import" in (reports[0].error or "")
    assert rating(url, broken) is None
    assert reports[1].games >= 2 and rating(url, fresh) is not None
    row = rating(url, settled)
    assert row is not None and (row.games, row.sigma) == (50, 1.0)
    assert rating(url, other) is None and rating(url, other, "tictactoe_v3") is None


def test_results_are_the_newcomers_even_when_names_clash(tmp_path: Path) -> None:
    url = db(tmp_path)
    path = ladder(tmp_path, entrants=("random", str(EXAMPLE_C4)))
    fresh = submit_package(package(tmp_path, version="1.0.1"), db_url=url).content_hash

    [report] = place_new_submissions(url, tournament_path=path, sigma_target=0.5, max_games=8)

    assert [b.opponent for b in report.batches] == ["random", "c4-heuristic"]
    with session_factory(connect(url))() as session:
        for batch in report.batches:
            outcomes = session.scalars(
                select(m.Participant.outcome)
                .join(m.AgentVersion, m.AgentVersion.id == m.Participant.agent_version_id)
                .where(m.Participant.match_id.in_(batch.match_ids))
                .where(m.AgentVersion.content_hash == fresh)
            ).all()
            assert len(outcomes) == batch.games
            assert (batch.wins, batch.draws, batch.losses) == tuple(
                outcomes.count(o) for o in ("win", "draw", "loss")
            )


def test_only_ladders_get_placement(tmp_path: Path) -> None:
    with pytest.raises(ArenaError, match="placement matches are for ladder tournaments"):
        place_new_submissions(db(tmp_path), tournament_path=ladder(tmp_path, fmt="round-robin"))
    with pytest.raises(ArenaError, match="sigma_target must be positive"):
        place_new_submissions(db(tmp_path), tournament_path=ladder(tmp_path), sigma_target=0)


def test_pick_opponent_prefers_quality_and_rotates() -> None:
    new = RatingSystem().initial()
    strong, even, weak = Rating(40.0, 2.0), Rating(25.0, 3.0), Rating(10.0, 2.0)
    assert pick_opponent(new, [strong, even, weak], None) == 1
    assert pick_opponent(new, [strong, even, weak], 1) in (0, 2)
    assert pick_opponent(new, [None, even], 1) == 1  # the only one left plays again
    assert pick_opponent(new, [even, even], None) == 0  # ties: the earlier entrant
    assert pick_opponent(new, [None, None], None) is None


def test_the_scheduler_places_after_a_ladder_run(tmp_path: Path) -> None:
    url = db(tmp_path)
    path = ladder(tmp_path, schedule='[schedule]\nevery = "1h"')
    schedule_tournament(path, db_url=url, now=T0)
    submitted = submit_package(package(tmp_path), db_url=url)
    clock = [T0]

    [run] = run_scheduler(db_url=url, once=True, now=lambda: clock[0], sleep=lambda _s: None)

    assert run.ok and run.played == 2  # one round, one pairing, two games
    assert run.placements is not None and run.placement_error is None
    [report] = run.placements
    assert report.content_hash == submitted.content_hash and report.games >= 4
    data = run.to_dict()
    assert data["placements"][0]["agent"] == "c4-heuristic"
    assert data["placement_error"] is None


def test_a_placement_failure_does_not_fail_the_run(tmp_path: Path) -> None:
    url = db(tmp_path)
    path = ladder(tmp_path, schedule='[schedule]\nevery = "1h"')
    schedule_tournament(path, db_url=url, now=T0)

    def run(_path: Path, **_kwargs: object) -> TournamentOutcome:
        return TournamentOutcome("c4-ladder", "connect_four_v3", 1, 2, 2, 0, False, 0)

    def place(*_args: object, **_kwargs: object) -> list[PlacementReport]:
        raise ArenaError("placement went wrong")

    [result] = run_scheduler(
        db_url=url, once=True, now=lambda: T0, sleep=lambda _s: None, run=run, place=place
    )
    assert result.ok and result.error is None
    assert (result.placements, result.placement_error) == (None, "placement went wrong")
    assert result.next_run_at == T0 + timedelta(hours=1)
    assert result.to_dict()["placement_error"] == "placement went wrong"


def test_scheduler_cli_prints_placement_results(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from arena.cli import app

    runner = CliRunner()
    package = tmp_path / "c4-heuristic"
    shutil.copytree(EXAMPLE_C4, package)
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert runner.invoke(app, ["--db", db, "agent", "submit", str(package)]).exit_code == 0
    league = tmp_path / "league.toml"
    league.write_text(
        '[tournament]\nname="c4-ladder"\nenv="connect_four_v3"\nformat="ladder"\nrounds=1\n'
        'games_per_pairing=2\n[schedule]\nevery="24h"\n'
        '[[entrants]]\nagent="random"\n[[entrants]]\nagent="one-ply"\n'
    )
    assert runner.invoke(app, ["--db", db, "tournament", "schedule", str(league)]).exit_code == 0
    result = runner.invoke(app, ["--db", db, "scheduler", "run", "--once"])
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("  placement ")]
    assert len(lines) == 1
    assert lines[0].startswith("  placement c4-heuristic 1.0.0: ")
    assert "game(s), sigma " in lines[0]

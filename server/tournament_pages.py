"""Tournament pages: ``/tournaments`` and ``/tournaments/NAME`` with live standings per format.

Nothing is scored here. A run's progress is ``arena tournament status``'s
(:func:`tournaments.status.tournament_status`); the standings of every format
are the leaderboard rated from the tournament's own matches
(:func:`tournaments.leaderboard.leaderboard`); Swiss rounds, knockout brackets
and ladder rounds are the HTML report's
(:func:`tournaments.report.structure.run_structures`, which replays the format's
own pairing and standings over the stored games). The server adds the requests
that queued or scheduled the tournament (:mod:`server.tournament_queue`).

The page refreshes on the ``match`` and ``tournament`` events
(``static/live.js``), and ``GET /api/tournaments/by-name/NAME`` is its JSON twin.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine

from arena.storage.queries.ratings import history_points
from server.access import app_state, signed_in, viewer
from server.pages import error_page, render
from server.queries import ListedMatch, match_list
from server.tournament_queue import RequestView, requests, schedules, shown_to
from server.users import UserInfo
from tournaments.leaderboard import LeaderboardRow, leaderboard
from tournaments.report import data
from tournaments.report.naming import naming
from tournaments.report.rounds import SWISS_TIE_BREAK, Bracket, Round, SwissTable
from tournaments.report.structure import RunStructure, Timeline, run_structures
from tournaments.schedule import ScheduleInfo
from tournaments.status import tournament_status

router = APIRouter()
#: The events that refresh a tournament page (its <body data-live>).
LIVE = "match tournament"
RECENT_MATCHES = 30


@dataclass
class Line:
    """One entrant's line in a bracket's tie."""

    seed: int | None
    name: str  # "" for an empty line (a bye) or a line not decided yet
    points: float | None
    won: bool


@dataclass
class Box:
    """One tie of a drawn bracket, ready to draw."""

    slot: int
    lines: list[Line]
    games: int
    tiebreaks: int
    bye: bool
    decided: bool
    drawn: bool  # False: a later round the format has not drawn yet


@dataclass
class TournamentView:
    """Everything ``/tournaments/NAME`` shows."""

    name: str
    env: str
    format: str
    description: str
    status: str
    played: int
    planned: int
    runs: list[dict[str, Any]]  # tournament_status rows, newest first
    requests: list[RequestView]
    schedule: ScheduleInfo | None
    standings: list[LeaderboardRow]
    structures: list[RunStructure]
    matches: list[ListedMatch] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON twin: entrants by name (their labels), not by index."""
        return {
            "name": self.name,
            "env": self.env,
            "format": self.format,
            "description": self.description,
            "status": self.status,
            "played": self.played,
            "planned": self.planned,
            "runs": self.runs,
            "requests": [r.to_dict() for r in self.requests],
            "schedule": None if self.schedule is None else public_schedule(self.schedule),
            "standings": [r.to_dict() for r in self.standings],
            "structure": [_structure_dict(s) for s in self.structures],
        }


def public_schedule(schedule: ScheduleInfo) -> dict[str, Any]:
    """A schedule as anyone may see it: without the file it runs (the server's folders)."""
    row = schedule.to_dict()
    del row["source_path"], row["created"]
    return row


def bracket_rounds(bracket: Bracket, names: list[str]) -> list[list[Box]]:
    """Every round of the bracket, drawn or not: round r has 2^(total - r) ties."""
    out: list[list[Box]] = []
    for number in range(1, bracket.total_rounds + 1):
        if number <= len(bracket.rounds):
            boxes = []
            for t in bracket.rounds[number - 1]:
                lines = []
                for who, pts in ((t.high, t.high_points), (t.low, t.low_points)):
                    lines.append(
                        Line(
                            None if who is None else bracket.seeds[who],
                            "" if who is None else names[who],
                            None if t.bye else pts,
                            who is not None and who == t.winner,
                        )
                    )
                boxes.append(
                    Box(t.slot, lines, t.games, t.tiebreaks, t.bye, t.winner is not None, True)
                )
            out.append(boxes)
        else:
            empty = [Line(None, "", None, False), Line(None, "", None, False)]
            ties = 2 ** (bracket.total_rounds - number)
            out.append([Box(slot, list(empty), 0, 0, False, False, False) for slot in range(ties)])
    return out


def _round_dict(r: Round, names: list[str]) -> dict[str, Any]:
    return {
        "round": r.number,
        "complete": r.complete,
        "pairings": [
            {
                "board": p.board + 1,
                "first": names[p.first],
                "second": names[p.second],
                "first_points": p.first_points,
                "second_points": p.second_points,
                "games": p.games,
            }
            for p in r.pairings
        ],
        "byes": [names[e] for e in r.byes],
        "totals": None if r.totals is None else {names[e]: v for e, v in r.totals.items()},
    }


def _swiss_dict(t: SwissTable, names: list[str]) -> dict[str, Any]:
    return {
        "rounds": [_round_dict(r, names) for r in t.rounds],
        "completed": t.completed,
        "total_rounds": t.total_rounds,
        "bye_points": t.bye_points,
        "tie_break": SWISS_TIE_BREAK,
        "standings": [
            {
                "rank": s.rank,
                "entrant": names[s.entrant],
                "points": s.points,
                "byes": s.byes,
                "rating": s.rating,
                "decided_by": s.decided_by,
            }
            for s in t.standings
        ],
    }


def _bracket_dict(b: Bracket, names: list[str]) -> dict[str, Any]:
    return {
        "total_rounds": b.total_rounds,
        "seeds": {names[e]: seed for e, seed in sorted(b.seeds.items(), key=lambda x: x[1])},
        "champion": None if b.champion is None else names[b.champion],
        "rounds": [
            [{k: v for k, v in asdict(box).items() if k != "drawn"} for box in boxes]
            for boxes in bracket_rounds(b, names)[: len(b.rounds)]
        ],
    }


def _structure_dict(s: RunStructure) -> dict[str, Any]:
    return {
        "run": s.run,
        "entrants": s.entrants,
        "swiss": None if s.swiss is None else _swiss_dict(s.swiss, s.entrants),
        "bracket": None if s.bracket is None else _bracket_dict(s.bracket, s.entrants),
        "ladder": None if s.ladder is None else [_round_dict(r, s.entrants) for r in s.ladder],
        "problem": s.problem,
    }


def tournament_view(
    engine: Engine, name: str, user: UserInfo | None = None
) -> TournamentView | None:
    """The tournament called ``name`` (stored, or only requested so far); None if neither.

    ``user``: who looks (a request's error text is for organisers only).
    """
    info = next((t for t in data.tournaments(engine) if t.name == name), None)
    asked = [shown_to(r, user) for r in requests(engine, name=name)]
    if info is None and not asked:
        return None
    schedule = next((s for s in schedules(engine) if s.tournament == name), None)
    if info is None:  # queued, not started: no run, no standings yet
        first = asked[0]
        return TournamentView(
            name=name,
            env=first.env_id,
            format="",
            description="",
            status=first.status,
            played=first.played,
            planned=first.planned,
            runs=[],
            requests=asked,
            schedule=schedule,
            standings=[],
            structures=[],
        )
    runs = tournament_status(engine, name=name)
    latest = runs[0] if runs else None
    status = latest["status"] if latest else (asked[0].status if asked else "not run yet")
    structures = run_structures(
        engine,
        tournament_id=info.tournament_id,
        env=info.env,
        format_name=info.format,
        config=info.config,
        timeline=Timeline(history_points(engine)),
        labels=naming(engine).labels,
    )
    return TournamentView(
        name=info.name,
        env=info.env,
        format=info.format,
        description=info.description,
        status=status,
        played=latest["played"] if latest else 0,
        planned=latest["planned"] if latest else 0,
        runs=runs,
        requests=asked,
        schedule=schedule,
        standings=leaderboard(engine, tournament=name) if runs else [],
        structures=structures,
        matches=match_list(engine, tournament=name, limit=RECENT_MATCHES),
    )


def tournament_index(engine: Engine) -> list[dict[str, Any]]:
    """One row per tournament (stored or requested), with its latest run's progress."""
    latest: dict[str, dict[str, Any]] = {}
    for row in tournament_status(engine):
        latest.setdefault(row["tournament"], row)  # newest run first within a tournament
    rows = {
        t.name: {
            "name": t.name,
            "env": t.env,
            "format": t.format,
            "status": latest.get(t.name, {}).get("status", "not run yet"),
            "played": latest.get(t.name, {}).get("played", 0),
            "planned": latest.get(t.name, {}).get("planned", 0),
            "runs": len(t.runs),
        }
        for t in data.tournaments(engine)
    }
    for r in requests(engine, limit=200):
        rows.setdefault(
            r.name,
            {
                "name": r.name,
                "env": r.env_id,
                "format": "",
                "status": r.status,
                "played": r.played,
                "planned": r.planned,
                "runs": 0,
            },
        )
    return sorted(rows.values(), key=lambda row: str(row["name"]))


@router.get("/tournaments", response_class=HTMLResponse)
def tournaments_page(request: Request) -> HTMLResponse:
    engine = app_state(request).engine
    return render(
        request,
        "tournaments.html",
        session=signed_in(request),
        tournaments=tournament_index(engine),
        schedules=schedules(engine),
        live=LIVE,
    )


@router.get("/tournaments/{name:path}", response_class=HTMLResponse)
def tournament_page(request: Request, name: str) -> HTMLResponse:
    view = tournament_view(app_state(request).engine, name, viewer(request))
    if view is None:
        return error_page(request, 404, f"no tournament '{name}'")
    brackets = {s.run: bracket_rounds(s.bracket, s.entrants) for s in view.structures if s.bracket}
    return render(
        request,
        "tournament.html",
        session=signed_in(request),
        t=view,
        brackets=brackets,
        tie_break=SWISS_TIE_BREAK,
        live=LIVE,
    )


@router.get("/api/tournaments/by-name/{name:path}")
def tournament_json(request: Request, name: str) -> dict[str, Any]:
    """What ``/tournaments/NAME`` shows, as JSON."""
    view = tournament_view(app_state(request).engine, name, viewer(request))
    if view is None:
        raise HTTPException(404, f"no tournament '{name}'")
    return view.to_dict()


@router.get("/api/schedules")
def schedules_json(request: Request) -> list[dict[str, Any]]:
    """Every scheduled tournament, next due first."""
    return [public_schedule(s) for s in schedules(app_state(request).engine)]

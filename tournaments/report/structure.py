"""Per run of a tournament: its entrants and its format's structure, read from the database.

The entrants are the tournament file's ``[[entrants]]``, by position; a stored
game says which entrant sat in each seat (its planned row) and which agent
version that was (its participants), so every entrant who played is named by
its version (:mod:`arena.labels`). Ratings come from the rating history: an
entrant's rating right after a given match is its latest history point up to
that match, or the initial rating.

In a role-asymmetric env the runner stores each format game as its duplicate
matches (``KEY/d0``, ``KEY/d1``, or a role contest's ``KEY/b0-0``...): they are
read back as one game per ``KEY``, its result the pair's
(:meth:`tournaments.duplicates.Duplicates.result`), as the format saw it.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from arena.errors import ArenaError
from arena.rating import PairSeat, RatingSystem
from arena.registry import env_specs
from arena.series import asymmetric
from arena.storage.queries.ratings import HistoryPoint
from tournaments.duplicates import Duplicates, parent_key
from tournaments.formats import FORMATS, Knockout, Ladder, Swiss, make_format
from tournaments.report import reads
from tournaments.report.rounds import (
    Bracket,
    RatingsAt,
    Round,
    RunGame,
    SwissTable,
    check_fits,
    knockout_bracket,
    ladder_rounds,
    swiss_table,
)

#: the formats whose pages show rounds or a bracket
STRUCTURED = ("swiss", "knockout", "ladder")


class Timeline:
    """Every agent version's rating after each rated match, per env."""

    def __init__(self, points: Iterable[HistoryPoint]) -> None:
        self._points: dict[tuple[str, str], list[tuple[int, float, float]]] = defaultdict(list)
        for p in points:
            if getattr(p, "role", "") == "":  # per-role rows (asymmetric envs) are not seeding
                self._points[(p.env_id, p.hash)].append((p.match_id, p.mu, p.sigma))
        for series in self._points.values():
            series.sort()

    def at(self, env: str, content_hash: str, match_id: int) -> tuple[float, float] | None:
        """The rating right after match ``match_id`` (None: not rated by then)."""
        series = self._points.get((env, content_hash), [])
        i = bisect.bisect_right(series, (match_id, float("inf"), float("inf")))
        if i == 0:
            return None
        _, mu, sigma = series[i - 1]
        return mu, sigma


@dataclass
class RunStructure:
    """One run: who its entrants are and, for structured formats, its rounds or bracket."""

    run: int
    entrants: list[str]  # display label per entrant index
    swiss: SwissTable | None = None
    bracket: Bracket | None = None
    ladder: list[Round] | None = None
    problem: str = ""  # why the structure could not be drawn


@dataclass
class _Run:
    games: list[RunGame] = field(default_factory=list)
    versions: dict[int, int] = field(default_factory=dict)  # entrant -> agent version id


def _runs(seats: Sequence[reads.RunSeat], duplicates: Duplicates | None = None) -> dict[int, _Run]:
    runs: dict[int, _Run] = defaultdict(_Run)
    by_match: dict[int, list[reads.RunSeat]] = defaultdict(list)
    for seat in seats:
        by_match[seat.match_id].append(seat)
    # run -> format game -> suffix -> (agent codes, seats): the duplicate matches
    pairs: dict[int, dict[str, dict[str, _Sub]]] = defaultdict(lambda: defaultdict(dict))
    for match_id, rows in by_match.items():
        first = rows[0]
        run = runs[first.run]
        slots: dict[int, reads.RunSeat] = {}
        for row in rows:
            slots.setdefault(row.slot, row)  # a team's seats share the slot's rank
        ordered = [slots[s] for s in sorted(slots)]
        planned = first.planned
        if planned is None or len(planned) != len(ordered):
            continue  # not a game the format drew
        for entrant, row in zip(planned, ordered, strict=True):
            if entrant >= 0:  # background agents (negative codes) are no entrants
                run.versions.setdefault(entrant, row.agent_version_id)
        key = parent_key(first.game_key)
        if duplicates is not None and key != first.game_key:
            suffix = first.game_key[len(key) + 1 :]
            codes = tuple(planned)
            pair_seats = [
                PairSeat(codes[r.slot], r.role, r.team, r.reward, r.forfeit) for r in rows
            ]
            pairs[first.run][key][suffix] = _Sub(match_id, codes, pair_seats)
            continue
        run.games.append(
            RunGame(first.game_key, match_id, tuple(planned), tuple(r.rank for r in ordered))
        )
    for number, games in pairs.items():
        for key, subs in games.items():
            assert duplicates is not None  # pairs are only collected with it
            result = duplicates.result(key, {k: (s.codes, s.seats) for k, s in subs.items()})
            if result is None:
                continue  # the pair is not complete yet: the format has not seen it either
            last = max(s.match_id for s in subs.values())
            runs[number].games.append(RunGame(key, last, result.spec.entrants, result.ranks))
    for run in runs.values():
        run.games.sort(key=lambda g: g.match_id)
    return dict(runs)


@dataclass
class _Sub:
    """One stored match of a duplicate game."""

    match_id: int
    codes: tuple[int, ...]  # agent codes in side order (tournaments.duplicates)
    seats: list[PairSeat]


def _duplicates(env: str, config: Mapping[str, Any]) -> Duplicates | None:
    """Duplicate scoring as the runner set it up for ``env`` (None: one match per game)."""
    spec = env_specs().get(env)
    if spec is None or not asymmetric(spec):
        return None
    table = config.get("tournament")
    role = table.get("role", "") if isinstance(table, dict) else ""
    background = config.get("background")
    pools: dict[str, list[int]] = {}
    k = 0  # background agents are numbered across the pools, as the runner numbers them
    for pool_role, agents in (background if isinstance(background, dict) else {}).items():
        count = len(agents) if isinstance(agents, list) else 1
        pools[str(pool_role)] = list(range(k, k + count))
        k += count
    try:
        return Duplicates(spec, str(role or ""), pools)
    except ArenaError:
        return None


def _ratings_at(timeline: Timeline, env: str, hashes: dict[int, str]) -> RatingsAt:
    """Entrant -> rating right after a match, for the entrants who were rated by then."""

    def at(match_id: int) -> dict[int, tuple[float, float]]:
        found = {e: timeline.at(env, h, match_id) for e, h in hashes.items()}
        return {e: r for e, r in found.items() if r is not None}

    return at


def _options(config: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    table = config.get("tournament")
    table = table if isinstance(table, dict) else {}
    return {k: table[k] for k in names if k in table}


def run_structures(
    engine: Engine,
    *,
    tournament_id: int,
    env: str,
    format_name: str,
    config: Mapping[str, Any],
    timeline: Timeline,
    labels: Mapping[str, str],
) -> list[RunStructure]:
    """Every run of the tournament that stored a game, by run number.

    Args:
        labels: display label per content hash.
    """
    raw = config.get("entrants")
    files = [str(e.get("agent", "?")) if isinstance(e, dict) else "?" for e in raw or []]
    with engine.connect() as conn:
        runs = _runs(reads.run_seats(conn, tournament_id), _duplicates(env, config))
        versions = reads.all_versions(conn)
    first = RatingSystem().initial()
    start = (first.mu, first.sigma)
    out = []
    for number in sorted(runs):
        run = runs[number]
        hashes = {e: versions[vid].hash for e, vid in run.versions.items() if vid in versions}
        n = max([len(files), *(e + 1 for e in hashes)])
        names = [labels.get(hashes[e], files[e]) if e in hashes else files[e] for e in range(n)]
        ratings_at = _ratings_at(timeline, env, hashes)
        structure = RunStructure(number, names)
        if format_name in STRUCTURED:
            try:
                check_fits(format_name, run.games)
                fmt = make_format(format_name, _options(config, FORMATS[format_name].OPTIONS))
                if isinstance(fmt, Swiss):
                    structure.swiss = swiss_table(fmt, n, run.games, ratings_at, start)
                elif isinstance(fmt, Knockout):
                    structure.bracket = knockout_bracket(fmt, n, run.games, ratings_at, start)
                elif isinstance(fmt, Ladder):
                    structure.ladder = ladder_rounds(fmt, n, run.games, ratings_at, start)
            except (ArenaError, ValueError, KeyError) as exc:  # a run the format cannot read
                structure.problem = f"the stored games do not fit the {format_name} format: {exc}"
        out.append(structure)
    return out

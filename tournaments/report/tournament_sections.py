"""The structure of a tournament's runs as HTML: Swiss rounds and standings, brackets, ladders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tournaments.report.html import Num, esc, table
from tournaments.report.rounds import SWISS_TIE_BREAK, Bracket, Round, SwissTable
from tournaments.report.structure import RunStructure


def _pts(value: float) -> str:
    return f"{value:g}"


def run_sections(name: str, structures: Sequence[RunStructure]) -> str:
    """One section per run that has a structure to show (empty for other formats)."""
    parts = []
    for s in structures:
        title = f"{name}, run {s.run}"
        ident = f"run-{s.run}"
        if s.problem:
            inner = f"<p>{esc(s.problem)}</p>"
        elif s.swiss is not None:
            inner = _swiss(title, s.swiss, s.entrants)
        elif s.bracket is not None:
            inner = _bracket(title, s.bracket, s.entrants)
        elif s.ladder is not None:
            inner = _ladder(title, s.ladder, s.entrants)
        else:
            continue
        parts.append(
            f'<section id="{ident}" aria-labelledby="h-{ident}">'
            f'<h2 id="h-{ident}">Run {s.run}</h2>{inner}</section>'
        )
    return "".join(parts)


def _swiss(title: str, t: SwissTable, names: Sequence[str]) -> str:
    out: list[str] = []
    for r in t.rounds:
        state = "" if r.complete else " (in progress)"
        rows: list[list[Any]] = []
        for p in r.pairings:
            for me, other, got in (
                (p.first, p.second, p.first_points),
                (p.second, p.first, p.second_points),
            ):
                after = "–" if r.totals is None else _pts(r.totals[me])
                rows.append(
                    [
                        Num(p.board + 1),
                        names[me],
                        names[other],
                        Num(f"{_pts(got)} of {p.games}"),
                        Num(after),
                    ]
                )
        for e in r.byes:
            after = "–" if r.totals is None else _pts(r.totals[e])
            rows.append(["bye", names[e], "–", Num(f"bye: +{t.bye_points}"), Num(after)])
        out.append(
            table(
                f"{title}: round {r.number} of {t.total_rounds}{state}",
                ["Board", "Entrant", "Opponent", "Points this round", "Points after the round"],
                rows,
                row_header=1,
            )
        )
    if t.completed:
        standings = table(
            f"{title}: standings after round {t.completed} of {t.total_rounds}",
            ["Rank", "Entrant", "Points", "Byes", f"{SWISS_TIE_BREAK} (tie-break)", "Placed by"],
            [
                [
                    Num(s.rank),
                    names[s.entrant],
                    Num(_pts(s.points)),
                    Num(s.byes),
                    Num(f"{s.rating:.2f}"),
                    s.decided_by or "–",
                ]
                for s in t.standings
            ],
            row_header=1,
        )
        out.append(standings)
    out.append(
        "<p>Each game scores 1 for a win, 0.5 for a draw and 0 for a loss (a forfeit loses); "
        f"a bye scores {t.bye_points}, as if every game of a pairing were won, and is not a "
        "game. Equal points are ordered by the conservative rating mu−3σ as it stood after "
        "the last completed round, then by the order of the tournament file: the format's "
        "own standings. <em>Placed by</em> says what put an entrant below the one above.</p>"
    )
    return "".join(out)


def _seeded(names: Sequence[str], seeds: dict[int, int], entrant: int | None) -> str:
    return "–" if entrant is None else f"({seeds[entrant]}) {names[entrant]}"


def _bracket(title: str, b: Bracket, names: Sequence[str]) -> str:
    out: list[str] = []
    for ties in b.rounds:
        number = ties[0].round
        what = " (final)" if number == b.total_rounds else ""
        rows: list[list[Any]] = []
        for t in ties:
            if t.bye:
                rows.append(
                    [
                        Num(t.slot + 1),
                        _seeded(names, b.seeds, t.high),
                        "bye",
                        "–",
                        "–",
                        Num(0),
                        _seeded(names, b.seeds, t.winner),
                    ]
                )
                continue
            games = f"{t.games}" + (f" ({t.tiebreaks} tie-break(s))" if t.tiebreaks else "")
            rows.append(
                [
                    Num(t.slot + 1),
                    _seeded(names, b.seeds, t.high),
                    _seeded(names, b.seeds, t.low),
                    Num(_pts(t.high_points)),
                    Num(_pts(t.low_points)),
                    Num(games),
                    "to be decided" if t.winner is None else _seeded(names, b.seeds, t.winner),
                ]
            )
        out.append(
            table(
                f"{title}: round {number} of {b.total_rounds}{what}",
                [
                    "Tie",
                    "Higher seed",
                    "Lower seed",
                    "Higher seed's points",
                    "Lower seed's points",
                    "Games",
                    "Goes through",
                ],
                rows,
            )
        )
    drawn = len(b.rounds)
    if drawn < b.total_rounds:
        out.append(f"<p>Rounds {drawn + 1} to {b.total_rounds}: not drawn yet.</p>")
    if b.champion is not None:
        out.append(f"<p>Champion: <strong>{esc(_seeded(names, b.seeds, b.champion))}</strong>.</p>")
    out.append(
        "<p>Seeds (in brackets) by the conservative rating mu−3σ when the bracket was drawn; "
        "a tie is won on points (win 1, draw 0.5), level ties go to tie-breaks of two games, "
        "and the higher seed goes through after 10 drawn tie-breaks.</p>"
    )
    return "".join(out)


def _ladder(title: str, rounds: Sequence[Round], names: Sequence[str]) -> str:
    out: list[str] = []
    for r in rounds:
        state = "" if r.complete else " (in progress)"
        rows = [
            [
                Num(p.board + 1),
                names[p.first],
                Num(_pts(p.first_points)),
                names[p.second],
                Num(_pts(p.second_points)),
                Num(p.games),
            ]
            for p in r.pairings
        ]
        out.append(
            table(
                f"{title}: round {r.number}{state}",
                ["Board", "Entrant", "Entrant's points", "Opponent", "Opponent's points", "Games"],
                rows,
            )
        )
        if r.byes:
            out.append(
                f"<p>Sat round {r.number} out: {esc(', '.join(names[e] for e in r.byes))}.</p>"
            )
    return "".join(out)

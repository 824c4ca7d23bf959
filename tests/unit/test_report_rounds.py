"""The report's Swiss standings, byes and knockout ties: the formats' own numbers."""

from __future__ import annotations

from tournaments.formats import Knockout, Swiss
from tournaments.report.rounds import Pairing, RunGame, Standing, knockout_bracket, swiss_table

START = (25.0, 25.0 / 3)  # conservative 0.00


def test_equal_points_are_ordered_by_rating_then_file_order() -> None:
    games = [RunGame("r1-p0-g0", 1, (0, 2), (1, 2)), RunGame("r1-p1-g0", 2, (1, 3), (1, 2))]

    def ratings_at(match_id: int) -> dict[int, tuple[float, float]]:
        return {1: (30.0, 1.0)} if match_id >= 2 else {}

    table = swiss_table(Swiss(rounds=1, games_per_pairing=1), 4, games, ratings_at, START)
    (round_,) = table.rounds
    assert round_.complete and round_.byes == []
    assert round_.pairings == [Pairing(0, 0, 2, 1.0, 0.0, 1), Pairing(1, 1, 3, 1.0, 0.0, 1)]
    assert round_.totals == {0: 1.0, 1: 1.0, 2: 0.0, 3: 0.0}
    assert table.standings == [
        Standing(1, 1, 1.0, 0, 27.0, ""),
        Standing(2, 0, 1.0, 0, 0.0, "mu−3σ"),
        Standing(3, 2, 0.0, 0, 0.0, "points"),
        Standing(4, 3, 0.0, 0, 0.0, "file order"),
    ]


def test_byes_score_a_won_pairing_and_are_counted() -> None:
    games = [RunGame("r1-p0-g0", 1, (0, 1), (1, 1)), RunGame("r2-p0-g0", 2, (2, 0), (2, 1))]
    table = swiss_table(Swiss(rounds=2, games_per_pairing=1), 3, games, lambda _: {}, START)
    assert [r.byes for r in table.rounds] == [[2], [1]]
    assert [r.totals for r in table.rounds] == [
        {0: 0.5, 1: 0.5, 2: 1.0},
        {0: 1.5, 1: 1.5, 2: 1.0},
    ]
    assert [(s.entrant, s.points, s.byes, s.decided_by) for s in table.standings] == [
        (0, 1.5, 0, ""),
        (1, 1.5, 1, "file order"),
        (2, 1.0, 1, "points"),
    ]
    assert (table.completed, table.total_rounds, table.bye_points) == (2, 2, 1)


def test_an_unfinished_round_shows_no_totals() -> None:
    games = [RunGame("r1-p0-g0", 1, (0, 1), (1, 2))]  # g1 of the pairing not played yet
    table = swiss_table(Swiss(rounds=2, games_per_pairing=2), 2, games, lambda _: {}, START)
    (round_,) = table.rounds
    assert not round_.complete and round_.totals is None and table.completed == 0


def test_a_knockout_tie_decided_in_a_tie_break() -> None:
    games = [
        RunGame("r1-p0-g0", 1, (0, 1), (1, 1)),
        RunGame("r1-p0-g1", 2, (1, 0), (1, 1)),
        RunGame("r1-p0-tb1-g0", 3, (0, 1), (1, 1)),
        RunGame("r1-p0-tb1-g1", 4, (1, 0), (1, 2)),  # the lower seed wins the tie-break
    ]
    bracket = knockout_bracket(Knockout(games_per_pairing=2), 2, games, lambda _: {}, START)
    ((tie,),) = bracket.rounds
    assert (tie.high, tie.low, tie.high_points, tie.low_points) == (0, 1, 1.5, 2.5)
    assert (tie.games, tie.tiebreaks, tie.winner) == (4, 1, 1)
    assert bracket.champion == 1 and bracket.seeds == {0: 1, 1: 2}

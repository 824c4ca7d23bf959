"""``swiss``: a fixed number of rounds, each pairing entrants with equal or nearest score.

Options:
    rounds (default ceil(log2(entrants)), at least 1): rounds to play.
    games_per_pairing (default 2): games per pairing, seats alternating; games ``2k``
        and ``2k + 1`` share a seed.

Scoring: each game scores 1 for a win, 0.5 for a draw, 0 for a loss (a forfeit ranks
last, so it loses). A bye scores as many points as winning every game of a pairing
(``games_per_pairing``, i.e. 1 with one game per pairing), is not a game, and is not
stored: a completed round's bye is whoever did not play in it.

Standings order entrants by score, then conservative rating ``mu - 3 sigma`` (the
ratings passed with that call), then file order. Round 1 is therefore seeded by rating.

Pairing, each round:

- Odd field: the bye goes to the lowest-ranked entrant who has had the fewest byes
  (nobody gets a second bye while someone has none); among those, the lowest-ranked one
  with which the rest can be paired without a rematch.
- The highest-ranked unpaired entrant is paired first. Its candidates are, in order: the
  other unpaired entrants with the same score, starting half-way down that score group
  and going down, then back up (the Dutch "top half against bottom half" fold, so round
  1 pairs seed 1 with seed n/2 + 1); then entrants with other scores, nearest score
  first (a "float"), higher-ranked first.
- No rematches: a backtracking search tries the candidates in that order and takes the
  first complete pairing without a rematch. If there is none (or the search gives up
  after 100 000 steps, which only very large fields can hit), the round is paired
  greedily allowing rematches, preferring new opponents and then the least recently
  met ones.
- Seats: in each pairing, whoever has sat on side 0 less often than on side 1 over the
  event so far (smaller ``side-0 games - side-1 games``) gets side 0 in the pairing's
  first game; a tie goes to the higher-ranked entrant. With an even games_per_pairing
  every pairing is seat-balanced, so everyone ends with equal side-0 and side-1 counts.

Keys ``r{round}-p{board}-g{game}``, board 0 being the top pairing; seed keys
``(round, board, game // 2)``. A round is one batch; finished after ``rounds`` rounds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from arena.errors import ArenaError
from tournaments.formats.base import (
    Entrant,
    FormatBase,
    GameResult,
    GameSpec,
    by_round,
    first_free,
    int_option,
    pair_games,
    pinned_pairs,
    points,
)

#: Backtracking steps the no-rematch search may take per round before falling back.
SEARCH_BUDGET = 100_000


@dataclass
class SwissState:
    """Standings after the completed rounds."""

    score: dict[int, float]
    balance: dict[int, int]  # side-0 games minus side-1 games
    byes: dict[int, int]
    met: dict[frozenset[int], int] = field(default_factory=dict)  # pair -> last round


class Swiss(FormatBase):
    """A Swiss system event; see the module docstring for the rules."""

    name = "swiss"
    OPTIONS = ("games_per_pairing", "rounds")

    def __init__(self, *, games_per_pairing: int = 2, rounds: int | None = None) -> None:
        self.games_per_pairing = int_option("games_per_pairing", games_per_pairing, 1)
        self.rounds = None if rounds is None else int_option("rounds", rounds, 1)

    def total_rounds(self, n_entrants: int) -> int:
        if self.rounds is not None:
            return self.rounds
        return max(1, math.ceil(math.log2(n_entrants)))

    # ------------------------------------------------------------------ public API

    def next_games(
        self, entrants: Sequence[Entrant], history: Sequence[GameResult]
    ) -> list[GameSpec] | None:
        return self._run(entrants, history)[0]

    def standings(
        self, entrants: Sequence[Entrant], history: Sequence[GameResult]
    ) -> list[tuple[int, float]]:
        """(entrant, score) best first, counting completed rounds (and their byes)."""
        state = self._run(entrants, history)[1]
        ratings = {e.index: e.score for e in entrants}
        order = sorted(state.score, key=lambda e: (-state.score[e], -ratings[e], e))
        return [(e, state.score[e]) for e in order]

    # ------------------------------------------------------------------ internals

    def _run(
        self, entrants: Sequence[Entrant], history: Sequence[GameResult]
    ) -> tuple[list[GameSpec] | None, SwissState]:
        field_ = self._entrants(entrants)
        ids = [e.index for e in field_]
        rating = {e.index: e.score for e in field_}
        rounds = by_round(history, self.name)
        results = {result.spec.key: result for result in history}
        state = SwissState(
            score=dict.fromkeys(ids, 0.0), balance=dict.fromkeys(ids, 0), byes=dict.fromkeys(ids, 0)
        )
        for round_ in range(1, self.total_rounds(len(ids)) + 1):
            rank = {
                e: i
                for i, e in enumerate(sorted(ids, key=lambda e: (-state.score[e], -rating[e], e)))
            }
            boards = self._pair_round(round_, ids, rank, state, rounds.get(round_, []))
            games = [
                game
                for board, (first, second) in sorted(boards.items())
                for game in pair_games(round_, board, first, second, self.games_per_pairing)
            ]
            if not all(game.key in results for game in games):
                return games, state
            playing: set[int] = set()
            for first, second in boards.values():
                playing.update((first, second))
                state.met[frozenset((first, second))] = round_
            for game in games:
                a, b = game.entrants
                pa, pb = points(GameResult(game, results[game.key].ranks))
                state.score[a] += pa
                state.score[b] += pb
                state.balance[a] += 1
                state.balance[b] -= 1
            for e in ids:
                if e not in playing:
                    state.byes[e] += 1
                    state.score[e] += self.games_per_pairing
        return None, state

    def _pair_round(
        self,
        round_: int,
        ids: list[int],
        rank: dict[int, int],
        state: SwissState,
        played: list[GameResult],
    ) -> dict[int, tuple[int, int]]:
        """Board -> (side 0 of game 0, other): pairings already in history, then the rest."""
        boards = pinned_pairs(played, self.name)
        pinned = {e for pair in boards.values() for e in pair}
        unknown = pinned - set(ids)
        if unknown:
            raise ArenaError(
                f"round {round_} of the run's history seats unknown entrants {sorted(unknown)}"
            )
        free = sorted((e for e in ids if e not in pinned), key=rank.__getitem__)
        pairs = self._pair(free, rank, state)
        numbers = first_free(set(boards))
        for a, b in pairs:
            ka, kb = (state.balance[a], rank[a]), (state.balance[b], rank[b])
            boards[next(numbers)] = (a, b) if ka <= kb else (b, a)
        return boards

    def _pair(
        self, players: list[int], rank: dict[int, int], state: SwissState
    ) -> list[tuple[int, int]]:
        """Pairs for ``players`` (best first), leaving out the bye if their number is odd."""
        budget = [SEARCH_BUDGET]
        if len(players) % 2 == 0:
            strict = _match(players, state, strict=True, budget=budget)
            return strict if strict is not None else _relaxed(players, state)
        fewest = min(state.byes[e] for e in players)
        candidates = [e for e in reversed(players) if state.byes[e] == fewest]
        for bye in candidates:
            rest = [e for e in players if e != bye]
            strict = _match(rest, state, strict=True, budget=budget)
            if strict is not None:
                return strict
        return _relaxed([e for e in players if e != candidates[0]], state)


def _candidates(top: int, rest: list[int], state: SwissState) -> list[int]:
    """Opponents for ``top`` in order of preference (see the module docstring)."""
    score = state.score[top]
    group = [e for e in rest if state.score[e] == score]
    # top is position 0 of its score group of k = len(group) + 1 members; the fold
    # opponent is position k // 2, i.e. group[k // 2 - 1]. Go down from it, then back up.
    start = max(0, (len(group) + 1) // 2 - 1)
    ordered = group[start:] + list(reversed(group[:start]))
    others = sorted(
        (e for e in rest if state.score[e] != score),
        key=lambda e: (abs(state.score[e] - score), rest.index(e)),
    )
    return ordered + others


def _match(
    players: list[int], state: SwissState, *, strict: bool, budget: list[int]
) -> list[tuple[int, int]] | None:
    """First pairing of ``players`` (in candidate order) with no rematch, or None."""
    if not players:
        return []
    budget[0] -= 1
    if budget[0] < 0:
        return None
    top, rest = players[0], players[1:]
    for opponent in _candidates(top, rest, state):
        if strict and frozenset((top, opponent)) in state.met:
            continue
        sub = _match([e for e in rest if e != opponent], state, strict=strict, budget=budget)
        if sub is not None:
            return [(top, opponent), *sub]
        if budget[0] < 0:
            return None
    return None


def _relaxed(players: list[int], state: SwissState) -> list[tuple[int, int]]:
    """Greedy pairing allowing rematches: new opponents first, then least recently met."""
    pairs = []
    remaining = list(players)
    while remaining:
        top, rest = remaining[0], remaining[1:]
        order = _candidates(top, rest, state)
        opponent = min(
            order,
            key=lambda e: (state.met.get(frozenset((top, e)), 0), order.index(e)),
        )
        pairs.append((top, opponent))
        remaining = [e for e in rest if e != opponent]
    return pairs

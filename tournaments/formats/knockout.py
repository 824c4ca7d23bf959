"""``knockout``: single elimination over a bracket seeded by rating.

Options:
    games_per_pairing (default 2): games per tie (pairing), seats alternating with the
        higher seed on side 0 in even games; games ``2k`` and ``2k + 1`` share a seed.

Seeding: seed 1 has the best conservative rating ``mu - 3 sigma`` when the bracket is
drawn (ties to the earlier entrant in the file). The bracket has ``2^R`` lines,
``R = ceil(log2(entrants))`` rounds, and the standard order (1 v N, 2 v N-1 ... placed so
seeds 1 and 2 can only meet in the final, 1-4 in the semi-finals, and so on). When the
field is not a power of two the missing lines are byes, which therefore go to the top
seeds; a bye is not a game and only happens in round 1.

A tie is won on points (win 1, draw 0.5; a forfeit loses). If the points are level after
``games_per_pairing`` games, a tie-break of two more games (one on each side, sharing a
seed) follows, repeated until one entrant scores more in a tie-break; after 10 drawn
tie-breaks the higher seed advances.

Keys: ``r{round}-p{slot}-g{game}`` (``slot`` is the tie's position in that round's
bracket, so round-1 slots of byes have no games) and ``r{round}-p{slot}-tb{k}-g{game}``
for tie-break ``k`` (1-based); seed keys ``(round, slot, k, game // 2)`` with ``k = 0``
for the regular games. A batch is everything of the current round known so far: all its
ties' games and the tie-breaks that became necessary. Finished once the final is won;
`Knockout.champion` names the winner.

Resuming: the bracket is read back from the run's history (a round-1 game fixes both
players' seeds; a round-2 game fixes the seed of a player who had a bye), and only
entrants with no game yet are placed by their current rating. Those entrants have not
played in the run, so their order, and hence the bracket, is the one originally drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from arena.errors import ArenaError
from tournaments.formats.base import (
    Entrant,
    FormatBase,
    GameResult,
    GameSpec,
    int_option,
    parse_key,
    points,
    seed_rank,
)

#: Tie-breaks (of two games each) before the higher seed advances.
MAX_TIEBREAKS = 10


def bracket_order(size: int) -> list[int]:
    """Seeds (1-based) in bracket line order, e.g. 8 -> [1, 8, 4, 5, 2, 7, 3, 6]."""
    order = [1]
    while len(order) < size:
        total = 2 * len(order) + 1
        order = [s for seed in order for s in (seed, total - seed)]
    return order


@dataclass(frozen=True)
class Bracket:
    """The state of a knockout: what to play next, or who won."""

    games: list[GameSpec] | None
    champion: int | None
    seeds: dict[int, int]  # entrant -> seed (1 = best)


class Knockout(FormatBase):
    """Single elimination; see the module docstring for the rules."""

    name = "knockout"
    OPTIONS = ("games_per_pairing",)

    def __init__(self, *, games_per_pairing: int = 2) -> None:
        self.games_per_pairing = int_option("games_per_pairing", games_per_pairing, 1)

    def next_games(
        self, entrants: Sequence[Entrant], history: Sequence[GameResult]
    ) -> list[GameSpec] | None:
        return self.bracket(entrants, history).games

    def champion(self, entrants: Sequence[Entrant], history: Sequence[GameResult]) -> int | None:
        """The winner once the final is decided, else None."""
        return self.bracket(entrants, history).champion

    def bracket(self, entrants: Sequence[Entrant], history: Sequence[GameResult]) -> Bracket:
        field = self._entrants(entrants)
        n = len(field)
        rounds = math.ceil(math.log2(n))
        order = bracket_order(2**rounds)
        seeds = _seeds(field, history, order, self.name)
        by_seed = {seed: e for e, seed in seeds.items()}
        results = {result.spec.key: result for result in history}
        lines: list[int | None] = [by_seed.get(seed) for seed in order]
        for round_ in range(1, rounds + 1):
            batch: list[GameSpec] = []
            winners: list[int | None] = []
            for slot in range(len(lines) // 2):
                a, b = lines[2 * slot], lines[2 * slot + 1]
                if a is None or b is None:
                    winners.append(a if b is None else b)  # a bye (round 1 only)
                    continue
                high, low = (a, b) if seeds[a] < seeds[b] else (b, a)
                games, winner = self._tie(round_, slot, high, low, results)
                batch.extend(games)
                winners.append(winner)
            if any(w is None for w in winners):
                return Bracket(batch, None, seeds)
            lines = winners
        return Bracket(None, lines[0], seeds)

    def _tie(
        self, round_: int, slot: int, high: int, low: int, results: dict[str, GameResult]
    ) -> tuple[list[GameSpec], int | None]:
        """The games of one tie so far, and its winner once decided."""
        games = [
            GameSpec(
                key=f"r{round_}-p{slot}-g{g}",
                round=round_,
                entrants=(high, low) if g % 2 == 0 else (low, high),
                seed_keys=(round_, slot, 0, g // 2),
            )
            for g in range(self.games_per_pairing)
        ]
        stage = games
        for tiebreak in range(MAX_TIEBREAKS + 1):
            if not all(game.key in results for game in stage):
                return games, None
            margin = 0.0
            for game in stage:
                first, second = points(GameResult(game, results[game.key].ranks))
                margin += first - second if game.entrants[0] == high else second - first
            if margin != 0:
                return games, high if margin > 0 else low
            if tiebreak == MAX_TIEBREAKS:
                break
            k = tiebreak + 1
            stage = [
                GameSpec(
                    key=f"r{round_}-p{slot}-tb{k}-g{g}",
                    round=round_,
                    entrants=(high, low) if g == 0 else (low, high),
                    seed_keys=(round_, slot, k, 0),
                )
                for g in range(2)
            ]
            games.extend(stage)
        return games, high  # MAX_TIEBREAKS drawn tie-breaks: the higher seed advances


def _seeds(
    field: Sequence[Entrant], history: Sequence[GameResult], order: list[int], fmt: str
) -> dict[int, int]:
    """Entrant -> seed: read back from the history where it shows, else by rating."""
    n = len(field)
    seed_of: dict[int, int] = {}
    entrant_of: dict[int, int] = {}

    def assign(entrant: int, seed: int) -> None:
        if (
            seed_of.setdefault(entrant, seed) != seed
            or entrant_of.setdefault(seed, entrant) != entrant
        ):
            raise ArenaError(
                "the run's history does not fit one knockout bracket "
                f"(entrant {entrant} and seed {seed})"
            )

    def seats(result: GameResult) -> tuple[int, int]:
        """(higher seed, lower seed) of a regular game: higher seed first in even games."""
        key = parse_key(result.spec.key, fmt)
        a, b = result.spec.entrants
        return (a, b) if key.game % 2 == 0 else (b, a)

    regular = [
        (parse_key(r.spec.key, fmt), r)
        for r in sorted(history, key=lambda r: r.spec.key)
        if parse_key(r.spec.key, fmt).tiebreak == 0 and parse_key(r.spec.key, fmt).round <= 2
    ]
    for key, result in regular:
        if key.round == 1 and 2 * key.board + 1 < len(order):
            high, low = seats(result)
            pair = sorted(order[2 * key.board : 2 * key.board + 2])
            assign(high, pair[0])
            assign(low, pair[1])
    for key, result in regular:
        if key.round != 2 or 4 * key.board + 3 >= len(order):
            continue
        high, low = seats(result)
        lines = [order[4 * key.board + i] for i in range(4)]
        byes = [min(pair) for pair in (lines[:2], lines[2:]) if max(pair) > n]
        if len(byes) == 2:
            assign(high, min(byes))
            assign(low, max(byes))
        elif len(byes) == 1:
            for entrant in (high, low):
                if entrant not in seed_of:
                    assign(entrant, byes[0])
    unplaced = [e for e in seed_rank(field) if e not in seed_of]
    free = [seed for seed in range(1, n + 1) if seed not in entrant_of]
    for entrant, seed in zip(unplaced, free, strict=True):
        assign(entrant, seed)
    return seed_of

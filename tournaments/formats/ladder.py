"""``ladder``: continuous matchmaking by TrueSkill match quality.

Options:
    rounds: rounds to play. Default: unlimited when ``sigma_threshold`` is set, else 10.
    sigma_threshold (default off): stop before a round once every entrant's sigma is
        below this. TrueSkill's drift ``tau`` keeps sigma from shrinking much below about
        1 with the default model, so a threshold below that may never be reached; set
        ``rounds`` as a cap too.
    games_per_pairing (default 2): games per pairing, seats alternating; games ``2k``
        and ``2k + 1`` share a seed.

Each round pairs every entrant once. With an odd field one entrant sits the round out:
whoever has sat out least, then the lowest sigma (most certain rating), then the later
entrant in the file. The others are paired greedily: of all pairs, take the one with the
highest match quality (``RatingSystem().quality``, the draw probability relative to the
most even match) whose entrants are both free, and repeat; a pair that met in the
previous round is only taken when no other pair is left for its entrants. Seats: whoever
has sat on side 0 less often over the run so far takes side 0 in the first game (tie:
the earlier entrant).

The runner must pass the current ratings on every call (matchmaking and the sigma
threshold read them). A round's pairings with a stored game stay as they are on resume;
the rest of that round is matched again from the current ratings.

Keys ``r{round}-p{board}-g{game}``, board 0 being the best-quality pairing; seed keys
``(round, board, game // 2)``. A round is one batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

from arena.errors import ArenaError
from arena.rating import Rating, RatingSystem
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
    positive_option,
)

DEFAULT_ROUNDS = 10


class Ladder(FormatBase):
    """Quality-first matchmaking rounds; see the module docstring for the rules."""

    name = "ladder"
    OPTIONS = ("games_per_pairing", "rounds", "sigma_threshold")

    def __init__(
        self,
        *,
        games_per_pairing: int = 2,
        rounds: int | None = None,
        sigma_threshold: float | None = None,
    ) -> None:
        self.games_per_pairing = int_option("games_per_pairing", games_per_pairing, 1)
        self.sigma_threshold = (
            None if sigma_threshold is None else positive_option("sigma_threshold", sigma_threshold)
        )
        if rounds is not None:
            self.rounds: int | None = int_option("rounds", rounds, 1)
        else:
            self.rounds = DEFAULT_ROUNDS if self.sigma_threshold is None else None
        self._ratings = RatingSystem()

    def quality(self, a: Entrant, b: Entrant) -> float:
        """TrueSkill match quality of ``a`` against ``b``."""
        return self._ratings.quality([[Rating(a.mu, a.sigma)], [Rating(b.mu, b.sigma)]])

    def next_games(
        self, entrants: Sequence[Entrant], history: Sequence[GameResult]
    ) -> list[GameSpec] | None:
        field = self._entrants(entrants)
        ids = [e.index for e in field]
        rounds = by_round(history, self.name)
        results = {result.spec.key for result in history}
        balance = dict.fromkeys(ids, 0)
        sat_out = dict.fromkeys(ids, 0)
        previous: set[frozenset[int]] = set()
        round_ = 1
        while self.rounds is None or round_ <= self.rounds:
            played = rounds.get(round_, [])
            if (
                not played
                and self.sigma_threshold is not None
                and all(e.sigma < self.sigma_threshold for e in field)
            ):
                return None
            boards = self._pair_round(round_, field, played, previous, balance, sat_out)
            games = [
                game
                for board, (first, second) in sorted(boards.items())
                for game in pair_games(round_, board, first, second, self.games_per_pairing)
            ]
            if not games:
                raise ArenaError("ladder: no pairing possible")  # pragma: no cover
            if not all(game.key in results for game in games):
                return games
            for game in games:
                balance[game.entrants[0]] += 1
                balance[game.entrants[1]] -= 1
            playing = {e for pair in boards.values() for e in pair}
            for e in ids:
                if e not in playing:
                    sat_out[e] += 1
            previous = {frozenset(pair) for pair in boards.values()}
            round_ += 1
        return None

    def _pair_round(
        self,
        round_: int,
        field: list[Entrant],
        played: list[GameResult],
        previous: set[frozenset[int]],
        balance: dict[int, int],
        sat_out: dict[int, int],
    ) -> dict[int, tuple[int, int]]:
        boards = pinned_pairs(played, self.name)
        pinned = {e for pair in boards.values() for e in pair}
        if pinned - {e.index for e in field}:
            raise ArenaError(f"round {round_} of the run's history seats unknown entrants")
        free = [e for e in field if e.index not in pinned]
        if len(free) % 2 == 1:
            rest = min(free, key=lambda e: (sat_out[e.index], e.sigma, -e.index))
            free = [e for e in free if e is not rest]
        candidates = sorted(
            combinations(free, 2),
            key=lambda pair: (
                frozenset((pair[0].index, pair[1].index)) in previous,
                -self.quality(*pair),
                pair[0].index,
                pair[1].index,
            ),
        )
        numbers = first_free(set(boards))
        taken: set[int] = set()
        for a, b in candidates:
            if a.index in taken or b.index in taken:
                continue
            taken.update((a.index, b.index))
            ka, kb = (balance[a.index], a.index), (balance[b.index], b.index)
            boards[next(numbers)] = (a.index, b.index) if ka <= kb else (b.index, a.index)
        return boards

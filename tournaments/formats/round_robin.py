"""``round-robin``: every entrant meets every other, seats alternating; one batch.

Options:
    games_per_pairing (default 2): games per pair. Game ``g`` of a pair puts the
        earlier entrant (in file order) on side 0 when ``g`` is even; games ``2k`` and
        ``2k + 1`` share a seed (paired seeds), so the deal or start position cancels out.
    sprt (default off): a head-to-head with early stopping, for exactly two entrants:
        ``sprt = {elo0 = 0, elo1 = 10, alpha = 0.05, beta = 0.05}`` (or ``sprt = true``
        for these defaults). Games then come in batches of one seat-swapped pair; the run
        stops once the log-likelihood ratio of "the first entrant is ``elo1`` Elo
        stronger" against "... ``elo0`` Elo stronger" crosses a bound, or after
        ``games_per_pairing`` games (then the maximum, so set it high, e.g. 1000).
        `RoundRobin.decision` reports ``"H1"``, ``"H0"`` or None (undecided).

Keys are ``p{pair}-g{game}`` and seed keys ``(pair, game // 2)``, exactly those of
the first release's planner (kept as the oracle in tests/unit/test_formats.py),
with pairs numbered in ``itertools.combinations`` order and games interleaved
(every pair's game 0, then every pair's game 1 ...), so a run stopped early has
sampled every pair evenly and runs stored before formats existed resume unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Any

from arena.errors import ArenaError
from tournaments.formats.base import Entrant, FormatBase, GameResult, GameSpec, int_option
from tournaments.formats.sprt import SprtConfig, sprt_decision


def pairing_plan(pairs: Sequence[tuple[int, int]], games: int, round_: int = 1) -> list[GameSpec]:
    """Games of ``pairs`` (keys ``p{i}-g{g}``), interleaved game by game, seats alternating."""
    return [
        GameSpec(
            key=f"p{index}-g{game}",
            round=round_,
            entrants=(a, b) if game % 2 == 0 else (b, a),
            seed_keys=(index, game // 2),
        )
        for game in range(games)
        for index, (a, b) in enumerate(pairs)
    ]


class RoundRobin(FormatBase):
    """Every pair plays ``games_per_pairing`` games (optionally an SPRT head-to-head)."""

    name = "round-robin"
    OPTIONS = ("games_per_pairing", "sprt")

    def __init__(self, *, games_per_pairing: int = 2, sprt: Any = None) -> None:
        self.games_per_pairing = int_option("games_per_pairing", games_per_pairing, 1)
        self.sprt: SprtConfig | None = SprtConfig.from_option(sprt)

    def check(self, n_entrants: int) -> None:
        super().check(n_entrants)
        if self.sprt is not None and n_entrants != 2:
            raise ArenaError(
                f"[tournament].sprt: an SPRT head-to-head needs exactly two entrants, "
                f"got {n_entrants}"
            )

    def plan(self, n_entrants: int) -> list[GameSpec]:
        """Every game of the round robin (what one batch holds without SPRT)."""
        return pairing_plan(list(combinations(range(n_entrants), 2)), self.games_per_pairing)

    def next_games(
        self, entrants: Sequence[Entrant], history: Sequence[GameResult]
    ) -> list[GameSpec] | None:
        field = self._entrants(entrants)
        stored = {result.spec.key for result in history}
        if self.sprt is None:
            plan = self.plan(len(field))
            return None if all(game.key in stored for game in plan) else plan
        batch = 1
        while True:
            first = 2 * (batch - 1)
            if first >= self.games_per_pairing:
                return None
            games = [
                GameSpec(
                    key=f"p0-g{g}",
                    round=batch,
                    entrants=(0, 1) if g % 2 == 0 else (1, 0),
                    seed_keys=(0, g // 2),
                )
                for g in range(first, min(first + 2, self.games_per_pairing))
            ]
            done = [game.key in stored for game in games]
            if any(done) and not all(done):
                return games  # a batch cut short: finish it before deciding
            if not any(done):
                return None if self.decision(history) is not None else games
            batch += 1

    def score(self, history: Sequence[GameResult]) -> tuple[int, int, int]:
        """(wins, draws, losses) of the first entrant against the second."""
        wins = draws = losses = 0
        for result in history:
            if 0 not in result.spec.entrants:
                continue
            mine = result.ranks[result.spec.entrants.index(0)]
            others = [r for e, r in zip(result.spec.entrants, result.ranks, strict=True) if e != 0]
            if all(mine < r for r in others):
                wins += 1
            elif all(mine == r for r in others):
                draws += 1
            else:
                losses += 1
        return wins, draws, losses

    def llr(self, history: Sequence[GameResult]) -> float | None:
        """The SPRT log-likelihood ratio so far (None without ``sprt``)."""
        if self.sprt is None:
            return None
        return sprt_decision(*self.score(history), self.sprt)[0]

    def decision(self, history: Sequence[GameResult]) -> str | None:
        """``"H1"`` (first entrant ``elo1`` stronger), ``"H0"``, or None (undecided/no SPRT)."""
        if self.sprt is None:
            return None
        return sprt_decision(*self.score(history), self.sprt)[1]

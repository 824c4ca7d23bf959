"""Round-robin pairing: every entrant meets every other, seats alternating.

Game ``g`` of a pairing puts the first entrant on side 0 when ``g`` is even and on
side 1 when it is odd. Both seat orders of a pair of games share one seed (paired
seeds), so luck of the deal or start position cancels out within a pairing.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from arena.play import game_seed


@dataclass(frozen=True)
class PlannedGame:
    """One game of a tournament plan.

    Attributes:
        key: unique within a run, e.g. ``p3-g1``; the database refuses a second
            match with the same run and key, which makes resuming safe.
        entrants: entrant indices in side order (who sits where).
        seed: the match seed.
    """

    key: str
    entrants: tuple[int, ...]
    seed: int


def round_robin(
    n_entrants: int, games_per_pairing: int, *, seed: int, run: int
) -> list[PlannedGame]:
    """Plan every pairing of ``n_entrants`` for ``games_per_pairing`` games each.

    Games are interleaved by round (all pairings' game 0, then game 1...), so a run
    stopped early has still sampled every pairing evenly.
    """
    pairs = list(combinations(range(n_entrants), 2))
    plan = []
    for game in range(games_per_pairing):
        for index, (a, b) in enumerate(pairs):
            order = (a, b) if game % 2 == 0 else (b, a)
            plan.append(
                PlannedGame(
                    key=f"p{index}-g{game}",
                    entrants=order,
                    seed=game_seed(seed, run, index, game // 2),
                )
            )
    return plan

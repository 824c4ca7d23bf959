"""``gauntlet``: one challenger plays every other entrant; the others never meet.

Options:
    challenger (default 0, the first entrant): the challenger's 0-based position in the
        file (the runner maps the file's ``challenger = "agent"`` string to it).
    games_per_pairing (default 2): games against each opponent, seats alternating with
        the challenger on side 0 in even games; games ``2k`` and ``2k + 1`` share a seed.

One batch. Opponents are numbered in file order skipping the challenger; keys are
``p{opponent number}-g{game}``, seed keys ``(opponent number, game // 2)``, games
interleaved (every opponent's game 0, then game 1 ...) as in round-robin.
"""

from __future__ import annotations

from collections.abc import Sequence

from arena.errors import ArenaError
from tournaments.formats.base import Entrant, FormatBase, GameResult, GameSpec, int_option
from tournaments.formats.round_robin import pairing_plan


class Gauntlet(FormatBase):
    """The challenger against everyone else, ``games_per_pairing`` games each."""

    name = "gauntlet"
    OPTIONS = ("games_per_pairing", "challenger")

    def __init__(self, *, games_per_pairing: int = 2, challenger: int = 0) -> None:
        self.games_per_pairing = int_option("games_per_pairing", games_per_pairing, 1)
        self.challenger = int_option("challenger", challenger, 0)

    def check(self, n_entrants: int) -> None:
        super().check(n_entrants)
        if self.challenger >= n_entrants:
            raise ArenaError(
                f"[tournament].challenger: entrant {self.challenger} does not exist "
                f"(entrants are numbered 0 to {n_entrants - 1})"
            )

    def plan(self, n_entrants: int) -> list[GameSpec]:
        others = [e for e in range(n_entrants) if e != self.challenger]
        pairs = [(self.challenger, other) for other in others]
        return pairing_plan(pairs, self.games_per_pairing)

    def next_games(
        self, entrants: Sequence[Entrant], history: Sequence[GameResult]
    ) -> list[GameSpec] | None:
        plan = self.plan(len(self._entrants(entrants)))
        stored = {result.spec.key for result in history}
        return None if all(game.key in stored for game in plan) else plan

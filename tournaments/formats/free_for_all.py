"""``free-for-all``: N-player games (e.g. hold'em at a table of six); one round.

Options:
    group_size (default: every entrant at one table): players per game. Must divide the
        number of entrants (the env seats a fixed number of players) and be at least 2.
    games_per_pairing (default: group_size): games per group. Seats rotate: game ``g``
        seats the group's members shifted by ``g`` (member ``(i + g) mod size`` on side
        ``i``), so ``group_size`` games put everyone in every seat once; the games of one
        full rotation share a seed.

Groups are drawn by rating, snake-wise: entrants in conservative-rating order
(``mu - 3 sigma``, ties to the earlier entrant) go to groups 0, 1, ..., m-1, m-1, ...,
1, 0, 0, 1, ..., which spreads the strong entrants evenly over the tables. Within a
group, members are in that rating order, so game 0 seats the best-rated on side 0.
Groups with a stored game keep their members on resume; the others are drawn again from
the current ratings of the entrants not yet placed.

Keys ``r1-p{group}-g{game}``; seed keys ``(1, group, game // group_size)``. One batch.
"""

from __future__ import annotations

from collections.abc import Sequence

from arena.errors import ArenaError
from tournaments.formats.base import (
    Entrant,
    FormatBase,
    GameResult,
    GameSpec,
    int_option,
    parse_key,
    seed_rank,
)


class FreeForAll(FormatBase):
    """Groups of ``group_size`` play ``games_per_pairing`` games each, seats rotating."""

    name = "free-for-all"
    OPTIONS = ("games_per_pairing", "group_size")

    def __init__(
        self, *, games_per_pairing: int | None = None, group_size: int | None = None
    ) -> None:
        self.games_per_pairing = (
            None
            if games_per_pairing is None
            else int_option("games_per_pairing", games_per_pairing, 1)
        )
        self.group_size = None if group_size is None else int_option("group_size", group_size, 2)

    def players_per_game(self, n_entrants: int) -> int:
        return self.group_size or n_entrants

    def check(self, n_entrants: int) -> None:
        super().check(n_entrants)
        size = self.players_per_game(n_entrants)
        if size > n_entrants:
            raise ArenaError(
                f"[tournament].group_size: {size} is more than the {n_entrants} entrants"
            )
        if n_entrants % size:
            raise ArenaError(
                f"[tournament].group_size: {n_entrants} entrants do not split into groups "
                f"of {size} (it must divide the number of entrants)"
            )

    def groups(
        self, entrants: Sequence[Entrant], history: Sequence[GameResult]
    ) -> dict[int, tuple[int, ...]]:
        """Group number -> members in seat order of the group's game 0."""
        field = self._entrants(entrants)
        size = self.players_per_game(len(field))
        count = len(field) // size
        groups: dict[int, tuple[int, ...]] = {}
        for result in sorted(history, key=lambda r: r.spec.key):
            key = parse_key(result.spec.key, self.name)
            seats = result.spec.entrants
            if key.round != 1 or key.board >= count or len(seats) != size:
                raise ArenaError(
                    f"game {result.spec.key} in the run's history does not fit "
                    f"{count} group(s) of {size}"
                )
            members = tuple(seats[(i - key.game) % size] for i in range(size))
            if groups.setdefault(key.board, members) != members:
                raise ArenaError(
                    f"games of group {key.board} in the run's history seat different entrants"
                )
        placed = [e for members in groups.values() for e in members]
        if len(set(placed)) != len(placed):
            raise ArenaError("an entrant plays in two groups in the run's history")
        open_groups = [g for g in range(count) if g not in groups]
        drawn: dict[int, list[int]] = {g: [] for g in open_groups}
        for i, entrant in enumerate(e for e in seed_rank(field) if e not in placed):
            lap, pos = divmod(i, len(open_groups))
            drawn[open_groups[pos if lap % 2 == 0 else len(open_groups) - 1 - pos]].append(entrant)
        groups.update({g: tuple(members) for g, members in drawn.items()})
        return dict(sorted(groups.items()))

    def next_games(
        self, entrants: Sequence[Entrant], history: Sequence[GameResult]
    ) -> list[GameSpec] | None:
        groups = self.groups(entrants, history)
        size = self.players_per_game(len(entrants))
        games = self.games_per_pairing or size
        plan = [
            GameSpec(
                key=f"r1-p{group}-g{g}",
                round=1,
                entrants=tuple(members[(i + g) % size] for i in range(size)),
                seed_keys=(1, group, g // size),
            )
            for g in range(games)
            for group, members in groups.items()
        ]
        stored = {result.spec.key for result in history}
        return None if all(game.key in stored for game in plan) else plan

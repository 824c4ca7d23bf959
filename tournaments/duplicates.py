"""Duplicate scoring: how a run in a role-asymmetric env turns format games into matches.

In simple_tag the predators win almost every match whoever plays them, so one
match measures the role, not the agent. Like duplicate bridge, the runner
compares like with like: each game a format draws, ``(A, B)``, is played as a
duplicate pair of matches on the game's own seed,

- ``{key}/d0``: A on side 0 (A's predators), B on side 1 (B's prey);
- ``{key}/d1``: B on side 0, A on side 1,

and each role is a contest between the two teams that played it (A's
predators against B's predators, B's prey against A's prey; the higher team
score wins, see :func:`arena.rating.compare_pair`). The game's result, the one
:class:`~tournaments.formats.GameResult` its format sees, goes to whoever has
more role points (win 1, draw 0.5); equal points draw. So every format runs
unchanged, and a pairing's games each get their own seed (the seat-swapped
game of ``pair_games`` would otherwise replay the same pair).

A role contest (``[tournament].role`` with a ``[background]`` pool) compares
entrants in one role: for every background set ``k`` (the k-th agent of each
other role's pool, cycling through shorter pools),

- ``{key}/b{k}-0``: A in the contest role, background set k in the others;
- ``{key}/b{k}-1``: B in the contest role, the same background, same seed,

and the game goes to whoever has more contest points over the sets.

Matches are stored (and their pairs rated) as they come, so a run resumes
after ``kill -9`` without replaying a stored match; a game enters the format's
history once all its matches are stored. Agents of a match are written as
codes: an entrant's index, or ``-1 - k`` for background agent ``k``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from arena.errors import ArenaError
from arena.rating import PairSeat, compare_pair
from arena.series import game_seed
from arena.specs import EnvSpec
from tournaments.formats import GameResult, GameSpec

__all__ = ["Duplicates", "SubMatch", "background_code", "parent_key"]

SEPARATOR = "/"


def background_code(k: int) -> int:
    """The agent code of background agent ``k`` (entrants are ``0, 1, ...``)."""
    return -1 - k


def parent_key(key: str) -> str:
    """The format game a match key belongs to (``p0-g1/d0`` -> ``p0-g1``)."""
    return key.split(SEPARATOR, 1)[0]


@dataclass(frozen=True)
class SubMatch:
    """One match of a format game.

    Attributes:
        key: the match's game key, ``{game key}/{suffix}``.
        agents: agent codes in side order.
        pair_key: the key of the other match of its duplicate pair.
    """

    key: str
    agents: tuple[int, ...]
    pair_key: str


class Duplicates:
    """The matches of each format game, and each game's result from its stored matches.

    Args:
        spec: a role-asymmetric env with one side per role and two teams.
        role: the contest role, or "" for full duplicates (entrants play every role).
        pools: for a role contest, each other role's background agents
            (indices into the run's background agents).

    Raises:
        ArenaError: the env's sides do not fit duplicate scoring.
    """

    def __init__(
        self, spec: EnvSpec, role: str = "", pools: Mapping[str, Sequence[int]] | None = None
    ) -> None:
        roles = [side.role for side in spec.sides]
        if len(set(roles)) != len(roles) or len(spec.sides) != 2 or len(spec.teams) != 2:
            raise ArenaError(
                f"env '{spec.env_id}': duplicate scoring needs two sides, one per role, "
                f"on two teams; it has {len(spec.sides)} side(s) in {len(spec.teams)} team(s)"
            )
        self.spec = spec
        self.role = role
        self.pools = {r: tuple(agents) for r, agents in (pools or {}).items()}
        self.sets = max((len(agents) for agents in self.pools.values()), default=0)

    def seed(self, root: int, run: int, game: GameSpec) -> int:
        """The game's own seed: its seed keys plus its key, so no two games share one."""
        return game_seed(root, run, *game.seed_keys, zlib.crc32(game.key.encode()) + 1)

    def expand(self, game: GameSpec) -> list[SubMatch]:
        """The matches of ``game`` (two entrants), in play order."""
        if len(game.entrants) != 2:
            raise ArenaError(f"game {game.key}: duplicate scoring pairs two entrants")
        a, b = game.entrants
        if not self.role:
            first, second = f"{game.key}{SEPARATOR}d0", f"{game.key}{SEPARATOR}d1"
            return [SubMatch(first, (a, b), second), SubMatch(second, (b, a), first)]
        matches = []
        for k in range(self.sets):
            keys = [f"{game.key}{SEPARATOR}b{k}-{j}" for j in (0, 1)]
            for j, entrant in enumerate((a, b)):
                agents = tuple(
                    entrant
                    if side.role == self.role
                    else background_code(self.pools[side.role][k % len(self.pools[side.role])])
                    for side in self.spec.sides
                )
                matches.append(SubMatch(keys[j], agents, keys[1 - j]))
        return matches

    def suffixes(self) -> set[str]:
        """The key suffixes every complete game has."""
        if not self.role:
            return {"d0", "d1"}
        return {f"b{k}-{j}" for k in range(self.sets) for j in (0, 1)}

    def result(
        self, key: str, matches: Mapping[str, tuple[tuple[int, ...], Sequence[PairSeat]]]
    ) -> GameResult | None:
        """The format's result of game ``key``, or None until all its matches are stored.

        Args:
            matches: by suffix (``d0``...), each stored match's agent codes in
                side order and its seats, whose ``vid`` is the seat's agent code.
        """
        if set(matches) != self.suffixes():
            return None
        if not self.role:
            pairs = [("d0", "d1")]
        else:
            pairs = [(f"b{k}-0", f"b{k}-1") for k in range(self.sets)]
        contest_side = next(
            (i for i, side in enumerate(self.spec.sides) if side.role == self.role), 0
        )
        entrants = (matches[pairs[0][0]][0][contest_side], matches[pairs[0][1]][0][contest_side])
        points = dict.fromkeys(entrants, 0.0)
        for one, two in pairs:
            for contest in compare_pair(matches[one][1], matches[two][1]):
                if contest.role and contest.a in points and contest.b in points:
                    points[contest.a] += contest.score_a
                    points[contest.b] += 1.0 - contest.score_a
        a, b = (points[e] for e in entrants)
        ranks = (1 if a >= b else 2, 1 if b >= a else 2)
        spec = GameSpec(key=key, round=0, entrants=entrants, seed_keys=())
        return GameResult(spec=spec, ranks=ranks)

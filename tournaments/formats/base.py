"""The interface every tournament format implements, and helpers they share.

A format is pure pairing logic: given the entrants (with their current ratings) and the
results played so far in a run, it returns the next batch of games, or None when the run
is finished. It never touches the database or an env.

Contract between a format and the runner:

- ``entrants`` are every entrant of the tournament file, in file order
  (``entrants[i].index == i``), each with its current TrueSkill rating.
- ``history`` holds every stored result of the run, in any order. Formats identify a
  game by its ``key`` and seating (``spec.entrants``) only; ``spec.round`` and
  ``spec.seed_keys`` of history entries are not read, so the runner may rebuild them
  from stored matches with placeholders.
- A returned batch is the current round's full list of games, including games that are
  already in ``history`` (the runner skips stored keys); it always holds at least one
  game that is not stored yet. Play the whole batch, then call ``next_games`` again.
- Once any game of a pairing (or group) is in ``history``, that pairing keeps its
  entrants, seats and keys whatever the ratings do later. So a resumed run gets the same
  keys for every stored game even if ratings changed in between; only pairings with no
  stored game may be re-planned from the current ratings.
- Errors in the options or in the field size are `ArenaError`\\ s naming the key, e.g.
  ``[tournament].rounds: expected an integer >= 1, got 0``; the caller prefixes the file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from arena.errors import ArenaError
from arena.rating import conservative

__all__ = [
    "Entrant",
    "Format",
    "FormatBase",
    "GameResult",
    "GameSpec",
]


@dataclass(frozen=True)
class Entrant:
    """One entrant of the tournament, as a format sees it.

    Attributes:
        index: position in the tournament file (0-based).
        label: display name.
        mu: current TrueSkill mean (for seeding and matchmaking).
        sigma: current TrueSkill deviation.
    """

    index: int
    label: str
    mu: float
    sigma: float

    @property
    def score(self) -> float:
        """Conservative rating ``mu - 3 sigma``, what seeding sorts by."""
        return conservative(self.mu, self.sigma)


@dataclass(frozen=True)
class GameSpec:
    """One game a format asks the runner to play.

    Attributes:
        key: unique in the run and deterministic, e.g. ``r2-p3-g1``.
        round: 1-based round number (for display; a round may span several batches).
        entrants: entrant indices in side order (who sits where).
        seed_keys: the runner seeds the game with
            ``game_seed(tournament_seed, run, *seed_keys)``; games meant to see the same
            deal (a seat-swapped pair) share them.
    """

    key: str
    round: int
    entrants: tuple[int, ...]
    seed_keys: tuple[int, ...]


@dataclass(frozen=True)
class GameResult:
    """A played game.

    Attributes:
        spec: the game.
        ranks: one rank per position of ``spec.entrants``: 1 is best, equal ranks tie,
            a forfeit ranks last.
    """

    spec: GameSpec
    ranks: tuple[int, ...]


@runtime_checkable
class Format(Protocol):
    """Pairing logic of one tournament format."""

    name: str

    def check(self, n_entrants: int) -> None:
        """Raise `ArenaError` if this format cannot run with ``n_entrants`` entrants."""
        ...

    def players_per_game(self, n_entrants: int) -> int:
        """How many entrants each game seats (what the env must support)."""
        ...

    def next_games(
        self, entrants: Sequence[Entrant], history: Sequence[GameResult]
    ) -> list[GameSpec] | None:
        """The next batch of games given everything played so far (None = finished).

        Deterministic given ``(entrants, history)``, whatever the order of ``history``.
        """
        ...


class FormatBase:
    """Shared plumbing: option names, entrant checks. Subclasses set the rest."""

    name: str = ""
    #: The [tournament] keys this format accepts (as keyword arguments).
    OPTIONS: ClassVar[tuple[str, ...]] = ()
    MIN_ENTRANTS: ClassVar[int] = 2

    def check(self, n_entrants: int) -> None:
        if n_entrants < self.MIN_ENTRANTS:
            raise ArenaError(
                f"[[entrants]]: format '{self.name}' needs at least {self.MIN_ENTRANTS} "
                f"entrants, got {n_entrants}"
            )

    def players_per_game(self, n_entrants: int) -> int:
        return 2

    def _entrants(self, entrants: Sequence[Entrant]) -> list[Entrant]:
        """Validates the entrant list against the contract and the field size."""
        for position, entrant in enumerate(entrants):
            if entrant.index != position:
                raise ValueError(
                    f"entrants must be in file order: entrants[{position}].index is {entrant.index}"
                )
        self.check(len(entrants))
        return list(entrants)


# ----------------------------------------------------------------------------- options


def int_option(key: str, value: Any, minimum: int) -> int:
    """``value`` as an integer >= ``minimum`` (bools refused), else an ArenaError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ArenaError(f"[tournament].{key}: expected an integer >= {minimum}, got {value!r}")
    return value


def positive_option(key: str, value: Any) -> float:
    """``value`` as a finite number > 0, else an ArenaError."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ArenaError(f"[tournament].{key}: expected a positive number, got {value!r}")
    return float(value)


# ----------------------------------------------------------------------------- games

KEY_RE = re.compile(r"^r(\d+)-p(\d+)(?:-tb(\d+))?-g(\d+)$")


@dataclass(frozen=True)
class Key:
    """A parsed ``r{round}-p{board}[-tb{k}]-g{game}`` key."""

    round: int
    board: int
    tiebreak: int
    game: int


def parse_key(key: str, fmt: str) -> Key:
    match = KEY_RE.match(key)
    if match is None:
        raise ArenaError(f"game key {key!r} in the run's history is not a {fmt} key")
    r, p, tb, g = match.groups()
    return Key(int(r), int(p), int(tb or 0), int(g))


def points(result: GameResult) -> tuple[float, float]:
    """Game points of a two-player game by side: win 1, draw 0.5, loss 0."""
    if len(result.ranks) != 2 or len(result.spec.entrants) != 2:
        raise ValueError(f"game {result.spec.key} is not a two-player result")
    a, b = result.ranks
    if a < b:
        return 1.0, 0.0
    if a > b:
        return 0.0, 1.0
    return 0.5, 0.5


def pair_games(
    round_: int, board: int, first: int, second: int, games: int, *, prefix: str = ""
) -> list[GameSpec]:
    """``games`` games of one pairing: ``first`` on side 0 in even games, seats alternating.

    Keys are ``r{round}-p{board}-g{g}``; both games of a seat-swapped pair share the seed
    keys ``(round, board, g // 2)``.
    """
    return [
        GameSpec(
            key=f"r{round_}-p{board}{prefix}-g{g}",
            round=round_,
            entrants=(first, second) if g % 2 == 0 else (second, first),
            seed_keys=(round_, board, g // 2),
        )
        for g in range(games)
    ]


def pinned_pairs(results: Iterable[GameResult], fmt: str) -> dict[int, tuple[int, int]]:
    """Board -> (side 0 of game 0, the other) for every board of one round in ``results``.

    These pairings are fixed: a resumed round keeps them whatever the ratings say now.
    """
    boards: dict[int, tuple[int, int]] = {}
    seen: dict[int, int] = {}
    for result in results:
        key = parse_key(result.spec.key, fmt)
        if len(result.spec.entrants) != 2:
            raise ArenaError(
                f"game {result.spec.key} in the run's history is not a two-player game"
            )
        a, b = result.spec.entrants
        pair = (a, b) if key.game % 2 == 0 else (b, a)
        if boards.setdefault(key.board, pair) != pair:
            raise ArenaError(
                f"games of board {key.board} in round {key.round} of the run's history "
                "seat different entrants"
            )
        for entrant in pair:
            if seen.setdefault(entrant, key.board) != key.board:
                raise ArenaError(
                    f"entrant {entrant} plays on two boards in round {key.round} of the "
                    "run's history"
                )
    return boards


def by_round(history: Iterable[GameResult], fmt: str) -> dict[int, list[GameResult]]:
    """History grouped by the round in each key, each group sorted by key."""
    rounds: dict[int, list[GameResult]] = {}
    for result in history:
        rounds.setdefault(parse_key(result.spec.key, fmt).round, []).append(result)
    for results in rounds.values():
        results.sort(key=lambda r: r.spec.key)
    return rounds


def seed_rank(entrants: Sequence[Entrant]) -> list[int]:
    """Entrant indices best first by conservative rating; ties go to the earlier entrant."""
    return [e.index for e in sorted(entrants, key=lambda e: (-e.score, e.index))]


def first_free(used: set[int]) -> Iterator[int]:
    """0, 1, 2, ... skipping ``used`` (board numbers for newly planned pairings)."""
    board = 0
    while True:
        if board not in used:
            yield board
        board += 1

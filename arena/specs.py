"""What the platform knows about an environment: its sides, roles and scoring.

``envs/`` fills the registry with :class:`EnvSpec` objects; ``arena/`` only reads
them, so the platform never imports a game.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from arena.errors import ArenaError

TeamScore = Literal["sum", "mean"]


class Notation(Protocol):
    """How a person names moves in one game (``arena play``, replays).

    ``env`` is the env the match runs on, in the state before the move; ``mask``
    is the seat's action mask (None where the env has none).
    """

    def legal(self, env: Any, seat: str, mask: Any) -> list[tuple[int, str]]:
        """The legal actions with their names, in the order to list them."""
        ...

    def parse(self, env: Any, seat: str, text: str, mask: Any) -> int:
        """The action ``text`` names; ValueError with the reason when it names none."""
        ...

    def describe(self, env: Any, seat: str, action: Any) -> str:
        """The name of ``action`` (before it is played)."""
        ...


@dataclass(frozen=True)
class Side:
    """The seats one package fills in a match.

    Attributes:
        role: role name, e.g. ``player``, ``adversary``.
        seats: PettingZoo agent names of the seats, e.g. ``("adversary_0", ...)``.
        team: sides with the same team index share one result (cooperative roles).
    """

    role: str
    seats: tuple[str, ...]
    team: int


@dataclass(frozen=True)
class Part:
    """A run of entries along an observation's last axis (planes, for boards).

    Attributes:
        what: what the entries hold, e.g. ``self_vel`` or ``the opponent's pieces``.
        size: how many entries.
    """

    what: str
    size: int


@dataclass(frozen=True)
class RoleNotes:
    """What one role (or one seat) observes and does; empty fields keep the env's.

    Attributes:
        observation: what the observation holds, in a sentence or two.
        layout: the observation's last axis in order; the sizes add up to its length.
        actions: what each action means.
    """

    observation: str = ""
    layout: tuple[Part, ...] = ()
    actions: str = ""


@dataclass(frozen=True)
class Kwarg:
    """An env argument a tournament may set in ``[tournament].env_kwargs``.

    Attributes:
        name: the keyword, e.g. ``max_cycles``.
        default: the env's own default (the spec's ``kwargs`` may override it).
        meaning: what it changes, in a few words.
    """

    name: str
    default: Any
    meaning: str


@dataclass(frozen=True)
class EnvNotes:
    """Notes for agent authors (``arena envs ENV``, docs/envs.md).

    Only prose lives here: the spaces (type, shape, dtype, n) are read from the
    env itself, so they cannot drift from what agents receive.

    Attributes:
        observation: what every role's observation holds, unless ``roles`` says otherwise.
        layout: every role's observation layout, unless ``roles`` says otherwise.
        actions: what every role's actions mean, unless ``roles`` says otherwise.
        roles: notes by role name, or by seat name where seats of one role differ
            (``leadadversary_0``); a seat's notes win over its role's.
        turns: how play proceeds, beyond the turn model (who moves first, episode length).
        rewards: what a seat's return is; ranks are computed from it.
        kwargs: the env arguments a tournament may set.
        reference: where the full encoding is documented.
        action_names: ``(env, seat) -> names`` read from a built env, when the
            names depend on the game (Atari's minimal action sets).
    """

    observation: str = ""
    layout: tuple[Part, ...] = ()
    actions: str = ""
    roles: Mapping[str, RoleNotes] = field(default_factory=dict)
    turns: str = ""
    rewards: str = ""
    kwargs: tuple[Kwarg, ...] = ()
    reference: str = ""
    action_names: Callable[[Any, str], Sequence[str]] | None = None

    def for_seat(self, role: str, seat: str) -> RoleNotes:
        """The notes of ``seat`` (of ``role``): the env's, then its role's, then its own."""
        notes = RoleNotes(self.observation, self.layout, self.actions)
        for key in (role, seat):
            more = self.roles.get(key)
            if more is not None:
                notes = RoleNotes(
                    more.observation or notes.observation,
                    more.layout or notes.layout,
                    more.actions or notes.actions,
                )
        return notes


@dataclass(frozen=True)
class EnvSpec:
    """One arena environment, keyed by its PettingZoo module name.

    Attributes:
        env_id: arena env id, e.g. ``connect_four_v3``.
        family: ``classic``, ``mpe`` or ``atari``.
        sides: the sides of a match, in the order ``arena match`` fills them.
        turn_based: True for AEC turn-taking games; False for simultaneous moves
            (the runner then drives the parallel API).
        action_mask: observations are dicts with ``observation`` and ``action_mask``.
        team_score: how a team's seat returns become its score (``sum`` or ``mean``);
            teams are ranked by score, higher is better.
        make_aec: factory returning a fresh PettingZoo AEC env.
        make_parallel: factory returning a fresh PettingZoo parallel env, or None.
        render_text: optional text renderer ``(aec_env) -> str`` for the terminal.
        render_board: optional board view ``(aec_env) -> dict`` for the web pages,
            JSON-ready (``envs/boards.py`` documents its keys).
        notation: optional move names for people (``arena play``, replays).
        version: version of the package providing the game (stored with matches).
        requires: import names needed to build the env (for availability checks).
        description: one line for ``arena envs``.
        notes: prose for agent authors (``arena envs ENV``), or None.
    """

    env_id: str
    family: str
    sides: tuple[Side, ...]
    turn_based: bool
    action_mask: bool
    team_score: TeamScore
    make_aec: Callable[..., Any]
    make_parallel: Callable[..., Any] | None = None
    render_text: Callable[[Any], str] | None = None
    render_board: Callable[[Any], dict[str, Any]] | None = None
    version: str = ""
    requires: tuple[str, ...] = ()
    description: str = ""
    kwargs: dict[str, Any] = field(default_factory=dict)
    notation: Notation | None = None
    notes: EnvNotes | None = None

    @property
    def roles(self) -> tuple[str, ...]:
        """Role names in side order, without repeats."""
        return tuple(dict.fromkeys(side.role for side in self.sides))

    @property
    def teams(self) -> tuple[int, ...]:
        """Team indices in side order, without repeats."""
        return tuple(dict.fromkeys(side.team for side in self.sides))

    @property
    def symmetric(self) -> bool:
        """True when every side has the same role (e.g. both board-game players)."""
        return len(self.roles) == 1 and len(self.sides) > 1

    def missing(self) -> tuple[str, ...]:
        """Import names in ``requires`` that are not installed (empty when playable)."""
        return tuple(name for name in self.requires if importlib.util.find_spec(name) is None)

    def require(self) -> None:
        """Raise an ArenaError naming what is missing when the env cannot be built."""
        missing = self.missing()
        if missing:
            hint = " (pip install 'arena[atari]')" if self.family == "atari" else ""
            raise ArenaError(f"env '{self.env_id}' needs {', '.join(missing)}, not installed{hint}")

    def build(self, **kwargs: Any) -> Any:
        """A fresh env in the API the runner drives: AEC if turn-based, else parallel.

        ``kwargs`` override the spec's default ``kwargs``.

        Raises:
            ArenaError: the env's optional dependencies are not installed.
        """
        self.require()
        factory = self.make_aec if self.turn_based else self.make_parallel
        if factory is None:
            raise ArenaError(f"env '{self.env_id}' has no parallel factory")
        return factory(**{**self.kwargs, **kwargs})

    def for_env(self, env: Any) -> EnvSpec:
        """This spec with sides matching ``env``'s agents.

        Symmetric one-seat-per-side games built with more players (hold'em with
        ``num_players=4``) get one side per seat, each its own team; other specs
        are returned unchanged.
        """
        seats = tuple(env.possible_agents)
        if seats == tuple(seat for side in self.sides for seat in side.seats):
            return self
        one_seat = all(len(side.seats) == 1 for side in self.sides)
        teams = [side.team for side in self.sides]
        if not (len(self.roles) == 1 and one_seat and len(set(teams)) == len(teams)):
            raise ArenaError(
                f"env '{self.env_id}': these arguments change its seats to {', '.join(seats)}, "
                "which the arena cannot map to sides"
            )
        role = self.sides[0].role
        sides = tuple(Side(role, (seat,), team) for team, seat in enumerate(seats))
        return dataclasses.replace(self, sides=sides)

    def seat_side(self) -> dict[str, Side]:
        """Map every seat to its side."""
        return {seat: side for side in self.sides for seat in side.seats}

"""Register the arena's environments with :mod:`arena.registry`.

:func:`register` is the ``envs`` entry point of the ``arena.plugins`` group. It
must stay cheap: no game library is imported here; every factory imports its
PettingZoo / ``mpe2`` module on first call.

Env ids are PettingZoo module names. The AEC factory is the module's own
``env(**kwargs)`` and the parallel factory its ``parallel_env(**kwargs)``; they are
loaded from the implementation module (``pettingzoo.classic.tictactoe.tictactoe``
rather than ``pettingzoo.classic.tictactoe_v3``) because the ``*_vN`` shims emit a
``DeprecationWarning`` in PettingZoo 1.27. The objects returned are identical.

Sides and roles (a side is the set of seats one package fills):

Classic (turn-based except ``rps_v2``; ``team_score="sum"``):
    * two-player zero-sum games (``tictactoe_v3``, ``connect_four_v3``,
      ``leduc_holdem_v4``, ``texas_holdem_v4``, ``texas_holdem_no_limit_v6``,
      ``chess_v6``, ``go_v5``, ``rps_v2``): two sides of role ``player``, one seat
      each, teams 0 and 1.
    * ``hanabi_v5``: cooperative; two sides of role ``player`` on the same team 0,
      ``team_score="mean"`` (both seats get the same game score).

MPE from ``mpe2`` (simultaneous; ``team_score="mean"``):
    * ``simple_v3``: ``agent`` (agent_0).
    * ``simple_spread_v3``: ``agent`` (agent_0..2).
    * ``simple_reference_v3``: ``agent`` (agent_0, agent_1).
    * ``simple_speaker_listener_v4``: ``speaker`` (speaker_0) and ``listener``
      (listener_0), same team 0.
    * ``simple_tag_v3``: ``adversary`` (adversary_0..2, team 0) vs ``agent``
      (agent_0, team 1).
    * ``simple_adversary_v3``: ``adversary`` (adversary_0) vs ``agent``
      (agent_0, agent_1).
    * ``simple_push_v3``: ``adversary`` (adversary_0) vs ``agent`` (agent_0).
    * ``simple_crypto_v3``: ``eve`` (eve_0, the eavesdropper, team 0) vs ``coder``
      (bob_0 and alice_0, who share a key, team 1).
    * ``simple_world_comm_v3``: ``adversary`` (leadadversary_0, adversary_0..2)
      vs ``agent`` (agent_0, agent_1).

Two-player Atari through ``pettingzoo.atari`` (optional ``arena[atari]`` extra;
simultaneous; seats ``first_0`` / ``second_0``, role ``player``; teams 0 and 1,
``team_score="sum"``), except ``entombed_cooperative_v3`` whose two seats always
get identical rewards, so both sides are team 0 (``mean``). The ROMs shipped in
``ale_py`` are used unless the caller passes ``auto_rom_install_path``.

Kwargs that change the seats (``players`` for Hanabi, ``num_players`` for Pong,
``N`` for ``simple_spread``...) are passed through but break the sides above, so
matches must not use them.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from functools import cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any

from arena.registry import register_env
from arena.specs import EnvSpec, Side, TeamScore
from envs import render
from envs.notation import NOTATIONS

__all__ = ["ATARI_GAMES", "CLASSIC_GAMES", "MPE_GAMES", "register"]


@dataclass(frozen=True)
class _Factory:
    """Lazy, picklable ``module:attr`` constructor.

    Attributes:
        module: module path imported on first call.
        attr: ``env`` or ``parallel_env``.
        atari: point ALE at the ROMs bundled with ``ale_py`` by default.
    """

    module: str
    attr: str
    atari: bool = False

    def __call__(self, **kwargs: Any) -> Any:
        if self.atari and "auto_rom_install_path" not in kwargs:
            kwargs["auto_rom_install_path"] = _ale_rom_dir()
        return getattr(importlib.import_module(self.module), self.attr)(**kwargs)


def _ale_rom_dir() -> str:
    # find_spec locates ale_py without importing it (its import registers gym envs).
    spec = importlib.util.find_spec("ale_py")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("ale_py is needed for the Atari ROMs")
    return str(Path(spec.origin).parent / "roms")


@cache
def _version(*dists: str) -> str:
    # Reads installed metadata only; the packages themselves are not imported.
    parts = []
    for dist in dists:
        try:
            parts.append(f"{dist} {dist_version(dist)}")
        except PackageNotFoundError:
            continue
    return ", ".join(parts)


def _players(a: str, b: str, *, coop: bool = False) -> tuple[Side, ...]:
    return (Side("player", (a,), 0), Side("player", (b,), 0 if coop else 1))


# env id -> (implementation module, seat names, description, extra requires)
CLASSIC_GAMES: dict[str, tuple[str, tuple[str, str], str, tuple[str, ...]]] = {
    "tictactoe_v3": (
        "pettingzoo.classic.tictactoe.tictactoe",
        ("player_1", "player_2"),
        "Tic-tac-toe on a 3x3 board",
        ("pygame",),
    ),
    "connect_four_v3": (
        "pettingzoo.classic.connect_four.connect_four",
        ("player_0", "player_1"),
        "Connect Four on a 6x7 board",
        ("pygame",),
    ),
    "leduc_holdem_v4": (
        "pettingzoo.classic.rlcard_envs.leduc_holdem",
        ("player_0", "player_1"),
        "Leduc hold'em, a six-card poker (RLCard)",
        ("rlcard", "pygame"),
    ),
    "texas_holdem_v4": (
        "pettingzoo.classic.rlcard_envs.texas_holdem",
        ("player_0", "player_1"),
        "Heads-up limit Texas hold'em (RLCard)",
        ("rlcard", "pygame"),
    ),
    "texas_holdem_no_limit_v6": (
        "pettingzoo.classic.rlcard_envs.texas_holdem_no_limit",
        ("player_0", "player_1"),
        "Heads-up no-limit Texas hold'em (RLCard)",
        ("rlcard", "pygame"),
    ),
    "chess_v6": (
        "pettingzoo.classic.chess.chess",
        ("player_0", "player_1"),
        "Chess (python-chess); player_0 plays white",
        ("chess", "pygame"),
    ),
    "go_v5": (
        "pettingzoo.classic.go.go",
        ("black_0", "white_0"),
        "Go on a 19x19 board (board_size kwarg), komi 7.5",
        ("pygame",),
    ),
    "hanabi_v5": (
        "pettingzoo.classic.hanabi.hanabi",
        ("player_0", "player_1"),
        "Two-player cooperative Hanabi (OpenSpiel via Shimmy)",
        ("shimmy", "pyspiel"),
    ),
    "rps_v2": (
        "pettingzoo.classic.rps.rps",
        ("player_0", "player_1"),
        "Rock-paper-scissors, 15 simultaneous rounds",
        ("pygame",),
    ),
}

_CLASSIC_RENDER = {
    "tictactoe_v3": render.tictactoe,
    "connect_four_v3": render.connect_four,
    "leduc_holdem_v4": render.holdem,
    "texas_holdem_v4": render.holdem,
    "texas_holdem_no_limit_v6": render.holdem,
    "chess_v6": render.chess,
    "go_v5": render.go,
    "rps_v2": render.rps,
}

# env id -> (sides, description); seats follow the env's possible_agents order.
MPE_GAMES: dict[str, tuple[tuple[Side, ...], str]] = {
    "simple_v3": (
        (Side("agent", ("agent_0",), 0),),
        "One agent reaching a landmark",
    ),
    "simple_spread_v3": (
        (Side("agent", ("agent_0", "agent_1", "agent_2"), 0),),
        "Three cooperating agents covering three landmarks",
    ),
    "simple_tag_v3": (
        (
            Side("adversary", ("adversary_0", "adversary_1", "adversary_2"), 0),
            Side("agent", ("agent_0",), 1),
        ),
        "Predator-prey: three slow adversaries chase one fast agent",
    ),
    "simple_adversary_v3": (
        (Side("adversary", ("adversary_0",), 0), Side("agent", ("agent_0", "agent_1"), 1)),
        "Two agents guard the target landmark from an adversary that must find it",
    ),
    "simple_push_v3": (
        (Side("adversary", ("adversary_0",), 0), Side("agent", ("agent_0",), 1)),
        "An adversary pushes an agent away from its landmark",
    ),
    "simple_speaker_listener_v4": (
        (Side("speaker", ("speaker_0",), 0), Side("listener", ("listener_0",), 0)),
        "Cooperative: a mute speaker guides a blind listener to a landmark",
    ),
    "simple_reference_v3": (
        (Side("agent", ("agent_0", "agent_1"), 0),),
        "Two agents tell each other which landmark to reach",
    ),
    "simple_crypto_v3": (
        (Side("eve", ("eve_0",), 0), Side("coder", ("bob_0", "alice_0"), 1)),
        "Alice sends Bob an encrypted message; Eve tries to read it",
    ),
    "simple_world_comm_v3": (
        (
            Side(
                "adversary",
                ("leadadversary_0", "adversary_0", "adversary_1", "adversary_2"),
                0,
            ),
            Side("agent", ("agent_0", "agent_1"), 1),
        ),
        "Adversaries led by a leader chase agents that gather food in forests",
    ),
}

# env id -> description; all two-player, seats first_0 / second_0.
ATARI_GAMES: dict[str, str] = {
    "basketball_pong_v3": "Atari Pong, basketball variant (two players)",
    "boxing_v2": "Atari Boxing, top-down boxing match",
    "combat_plane_v2": "Atari Combat, biplane dogfight",
    "combat_tank_v2": "Atari Combat, tank battle",
    "double_dunk_v3": "Atari Double Dunk, two-on-two basketball",
    "entombed_competitive_v3": "Atari Entombed, outlast the other player in a maze",
    "entombed_cooperative_v3": "Atari Entombed, cooperate to get deep into a maze",
    "flag_capture_v2": "Atari Flag Capture, find the flag first",
    "ice_hockey_v2": "Atari Ice Hockey, two-on-two hockey",
    "joust_v3": "Atari Joust, mixed-sum flying joust",
    "mario_bros_v3": "Atari Mario Bros, mixed-sum platformer",
    "maze_craze_v3": "Atari Maze Craze, race out of a maze",
    "othello_v3": "Atari Othello",
    "pong_v3": "Atari Pong",
    "space_invaders_v2": "Atari Space Invaders, mixed-sum two-ship version",
    "space_war_v2": "Atari Space War, spaceship duel",
    "surround_v2": "Atari Surround, light-cycle duel",
    "tennis_v3": "Atari Tennis",
    "video_checkers_v4": "Atari Video Checkers",
    "wizard_of_wor_v3": "Atari Wizard of Wor, mixed-sum dungeon shooter",
}

# Both seats always get the same reward: one team, not two.
_COOPERATIVE_ATARI = frozenset({"entombed_cooperative_v3"})

ATARI_REQUIRES = ("multi_agent_ale_py", "ale_py")


def _classic_specs() -> list[EnvSpec]:
    version = _version("pettingzoo")
    specs = []
    for env_id, (module, (a, b), description, extra) in CLASSIC_GAMES.items():
        coop = env_id == "hanabi_v5"
        simultaneous = env_id == "rps_v2"
        team_score: TeamScore = "mean" if coop else "sum"
        specs.append(
            EnvSpec(
                env_id=env_id,
                family="classic",
                sides=_players(a, b, coop=coop),
                turn_based=not simultaneous,
                action_mask=not simultaneous,
                team_score=team_score,
                make_aec=_Factory(module, "env"),
                make_parallel=_Factory(module, "parallel_env") if simultaneous else None,
                render_text=_CLASSIC_RENDER.get(env_id),
                notation=NOTATIONS.get(env_id),
                version=version,
                requires=("pettingzoo", *extra),
                description=description,
            )
        )
    return specs


def _mpe_specs() -> list[EnvSpec]:
    version = _version("mpe2", "pettingzoo")
    specs = []
    for env_id, (sides, description) in MPE_GAMES.items():
        base = env_id.rsplit("_v", 1)[0]
        module = f"mpe2.{base}.{base}"
        specs.append(
            EnvSpec(
                env_id=env_id,
                family="mpe",
                sides=sides,
                turn_based=False,
                action_mask=False,
                team_score="mean",
                make_aec=_Factory(module, "env"),
                make_parallel=_Factory(module, "parallel_env"),
                version=version,
                requires=("mpe2", "pettingzoo", "pygame"),
                description=description,
            )
        )
    return specs


def _atari_specs() -> list[EnvSpec]:
    # Registered even when the extra is missing: envs.available() tells them apart.
    version = _version("pettingzoo", "multi-agent-ale-py", "ale-py")
    specs = []
    for env_id, description in ATARI_GAMES.items():
        base = env_id.rsplit("_v", 1)[0]
        module = f"pettingzoo.atari.{base}.{base}"
        coop = env_id in _COOPERATIVE_ATARI
        team_score: TeamScore = "mean" if coop else "sum"
        specs.append(
            EnvSpec(
                env_id=env_id,
                family="atari",
                sides=_players("first_0", "second_0", coop=coop),
                turn_based=False,
                action_mask=False,
                team_score=team_score,
                make_aec=_Factory(module, "env", atari=True),
                make_parallel=_Factory(module, "parallel_env", atari=True),
                version=version,
                requires=("pettingzoo", "pygame", *ATARI_REQUIRES),
                description=description,
            )
        )
    return specs


def register() -> None:
    """Register every arena env with :func:`arena.registry.register_env`.

    Cheap by design: reads package metadata for versions but imports no game.
    """
    for spec in (*_classic_specs(), *_mpe_specs(), *_atari_specs()):
        register_env(spec)

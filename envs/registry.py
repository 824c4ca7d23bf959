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

Every spec carries :class:`~arena.specs.EnvNotes` for agent authors (``arena envs
ENV``, docs/envs.md): what the observation entries and the actions mean, the
rewards, the kwargs a tournament may set. Only prose: :mod:`arena.env_notes`
reads the spaces from the env, and ``tests/unit/test_env_notes.py`` checks the
layouts, the kwarg defaults and the MPE moves against the libraries. The Atari
games share one note (their layouts are the same; the action names are read
from each game's minimal action set).
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
from arena.specs import EnvNotes, EnvSpec, Kwarg, Part, RoleNotes, Side, TeamScore
from envs import boards, render
from envs.notation import NOTATIONS

__all__ = [
    "ALE_ACTIONS",
    "ATARI_GAMES",
    "ATARI_NOTES",
    "CLASSIC_GAMES",
    "CLASSIC_NOTES",
    "MPE_GAMES",
    "MPE_NOTES",
    "atari_action_names",
    "register",
]


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

_CLASSIC_BOARD = {
    "tictactoe_v3": boards.tictactoe,
    "connect_four_v3": boards.connect_four,
    "chess_v6": boards.chess,
    "leduc_holdem_v4": boards.holdem,
    "texas_holdem_v4": boards.holdem,
    "texas_holdem_no_limit_v6": boards.holdem,
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


# Author notes (``arena envs ENV``, docs/envs.md): prose only; the spaces are read
# from the env. Layouts and action meanings follow each library's source:
# pettingzoo.classic (observe()), rlcard (_extract_state), mpe2 (Scenario.observation,
# SimpleEnv._set_action) and pettingzoo.atari.base_atari_env.

_WIN_LOSS_DRAW = "+1 for a win, -1 for a loss, 0 for a draw."
_POKER_TURNS = "Who posts the small blind is drawn at random each hand (from the match seed)."
_POKER_CARDS = (
    "cards seen: own hand and the board, one-hot over 52 (spades A-K, hearts, diamonds, clubs)"
)
_NUM_PLAYERS = Kwarg(
    "num_players", 2, "players at the table; more than 2 gives one side (and team) per seat"
)

CLASSIC_NOTES: dict[str, EnvNotes] = {
    "tictactoe_v3": EnvNotes(
        observation=(
            "Two 3x3 planes. Entry [i, j] is cell 3*i + j, the action that marks it: "
            "i is the column shown by arena play, j the row."
        ),
        layout=(Part("the observing seat's marks", 1), Part("the opponent's marks", 1)),
        actions=(
            "0-8: the cell to mark, numbered column by column (0 1 2 down the left "
            "column, 3 4 5 the middle, 6 7 8 the right), as arena play shows them."
        ),
        turns="player_1 (X) moves first.",
        rewards=_WIN_LOSS_DRAW,
        reference="https://pettingzoo.farama.org/environments/classic/tictactoe/",
    ),
    "connect_four_v3": EnvNotes(
        observation="Two 6x7 planes, row 0 at the top, column 0 on the left.",
        layout=(Part("the observing seat's pieces", 1), Part("the opponent's pieces", 1)),
        actions="0-6: the column to drop a piece into (0 = leftmost); full columns are masked.",
        turns="player_0 (X) moves first.",
        rewards=_WIN_LOSS_DRAW + " A full board is a draw.",
        reference="https://pettingzoo.farama.org/environments/classic/connect_four/",
    ),
    "leduc_holdem_v4": EnvNotes(
        observation="A vector of one-hot groups (a six-card deck: J, Q, K in two suits).",
        layout=(
            Part("own card: J, Q, K", 3),
            Part("public card: J, Q, K (zeros until it is dealt)", 3),
            Part("own chips in the pot: 0-14", 15),
            Part("the opponent's chips in the pot: 0-14", 15),
        ),
        actions="0 call, 1 raise, 2 fold, 3 check.",
        turns=_POKER_TURNS + " Two betting rounds; the small blind acts first.",
        rewards="The chips won or lost, in big blinds (zero-sum).",
        reference="https://pettingzoo.farama.org/environments/classic/leduc_holdem/",
    ),
    "texas_holdem_v4": EnvNotes(
        observation="A vector: the cards seen, then the raises of each betting round (one-hot).",
        layout=(
            Part(_POKER_CARDS, 52),
            Part("raises in round 1 (pre-flop): 0-4", 5),
            Part("raises in round 2 (flop): 0-4", 5),
            Part("raises in round 3 (turn): 0-4", 5),
            Part("raises in round 4 (river): 0-4", 5),
        ),
        actions="0 call, 1 raise, 2 fold, 3 check.",
        turns=_POKER_TURNS + " The seat after the big blind acts first.",
        rewards="The chips won or lost, in big blinds (zero-sum).",
        kwargs=(_NUM_PLAYERS,),
        reference="https://pettingzoo.farama.org/environments/classic/texas_holdem/",
    ),
    "texas_holdem_no_limit_v6": EnvNotes(
        observation="A vector: the cards seen, then two chip counts.",
        layout=(
            Part(_POKER_CARDS, 52),
            Part("own chips in the pot", 1),
            Part("the most chips any seat has in the pot", 1),
        ),
        actions="0 fold, 1 check or call, 2 raise half the pot, 3 raise the pot, 4 all in.",
        turns=_POKER_TURNS + " The seat after the big blind acts first.",
        rewards="The chips won or lost (zero-sum).",
        kwargs=(_NUM_PLAYERS,),
        reference="https://pettingzoo.farama.org/environments/classic/texas_holdem_no_limit/",
    ),
    "chess_v6": EnvNotes(
        observation=(
            "8x8 planes in AlphaZero's style, seen from the observing seat's side: "
            "black's view is mirrored, so a seat's own pieces always start on rows 6-7."
        ),
        layout=(
            Part(
                "castling rights (all ones when allowed): own kingside, own queenside, "
                "the opponent's kingside, the opponent's queenside",
                4,
            ),
            Part("all ones when the observing seat is black (player_1)", 1),
            Part(
                "fifty-move clock: entry n (flattened) set after 2n plies without a "
                "capture or pawn move",
                1,
            ),
            Part("all ones (marks the board's edges for convolutions)", 1),
            Part(
                "the position now: own pawns, knights, bishops, rooks, queens, king, "
                "then the opponent's six",
                12,
            ),
            Part("all ones when the position now has been seen before", 1),
            Part("the 7 positions before, 13 planes each, newest first (zeros until played)", 91),
        ),
        actions=(
            "4672 = 8 x 8 x 73, AlphaZero's move encoding: action a picks up the piece on "
            "file a // 584 (0 = a) and rank (a // 73) % 8 (0 = rank 1), seen from the "
            "mover's side, and moves it by plane a % 73: 0-55 queen-like moves (8 "
            "directions x 1-7 squares), 56-63 knight moves, 64-72 underpromotions (other "
            "promotions make a queen). e2e4 is 4*584 + 1*73 + 12 = 2421. arena play and "
            "replays name moves in SAN (e4, Nf3, O-O) or UCI (e2e4), see envs/notation.py."
        ),
        turns="player_0 plays white and moves first.",
        rewards=_WIN_LOSS_DRAW,
        reference="https://pettingzoo.farama.org/environments/classic/chess/",
    ),
    "go_v5": EnvNotes(
        observation=(
            "N x N planes (N = board_size, 19 by default), row 0 at the top. Each of the "
            "last 8 positions, newest first, takes 2 planes: the stones of the player who "
            "made the move leading to it, then the other player's. So for the seat to "
            "move, plane 0 holds the opponent's stones and plane 1 its own; planes 2-3 "
            "the other way round, and so on."
        ),
        layout=(
            Part("the last 8 positions, 2 planes each (see above)", 16),
            Part("all 0 for black_0, all 1 for white_0", 1),
        ),
        actions="row * N + column places a stone (0 = top left); N * N passes.",
        turns="black_0 moves first; white gets komi.",
        rewards="+1 for a win, -1 for a loss (area scoring with komi; a tie goes to white).",
        kwargs=(
            Kwarg("board_size", 19, "the board is board_size x board_size"),
            Kwarg("komi", 7.5, "points given to white"),
        ),
        reference="https://pettingzoo.farama.org/environments/classic/go/",
    ),
    "hanabi_v5": EnvNotes(
        observation=(
            "OpenSpiel's canonical Hanabi encoding, 0/1 entries. A card is one-hot over "
            "colour * 5 + rank (red, yellow, green, white, blue; ranks 1-5). The layout "
            "below is for the default arguments (PettingZoo's table)."
        ),
        layout=(
            Part("the other player's hand: 5 cards x 25", 125),
            Part("per player: its hand is missing a card", 2),
            Part("cards left in the deck, unary", 40),
            Part("fireworks: the highest rank played per colour, one-hot, 5 x 5", 25),
            Part("information tokens left, unary", 8),
            Part("life tokens left, unary", 3),
            Part("discard pile, thermometer per colour and rank", 50),
            Part(
                "the last action: who, move type, target, colour, rank, cards revealed, "
                "position, the card played or discarded, firework added, token added",
                55,
            ),
            Part("what this player knows of its own 5 cards, 35 each", 175),
            Part("what the other player knows of its 5 cards, 35 each", 175),
        ),
        actions=(
            "0-4 discard the card at position 0-4, 5-9 play it, 10-14 tell the other "
            "player which of its cards are red, yellow, green, white, blue, 15-19 which "
            "are of rank 1-5."
        ),
        turns="player_0 moves first.",
        rewards=(
            "Both seats get the change of the fireworks score each step (the sum of each "
            "colour's highest card); losing the last life takes the score back to 0."
        ),
        kwargs=(
            Kwarg("colors", 5, "colours in the deck (2-5)"),
            Kwarg("ranks", 5, "ranks in the deck (2-5)"),
            Kwarg("hand_size", 5, "cards in a hand (2-5)"),
            Kwarg("max_information_tokens", 8, "information tokens"),
            Kwarg("max_life_tokens", 3, "life tokens"),
            Kwarg("observation_type", "card_knowledge", "'minimal', 'card_knowledge' or 'seer'"),
            Kwarg("random_start_player", False, "draw who moves first"),
        ),
        reference="https://pettingzoo.farama.org/environments/classic/hanabi/",
    ),
    "rps_v2": EnvNotes(
        observation=(
            "The opponent's move in the last round: 0 rock, 1 paper, 2 scissors, 3 none yet."
        ),
        actions="0 rock, 1 paper, 2 scissors.",
        turns="A step is one round; a match lasts max_cycles rounds (15).",
        rewards="+1 for each round won, -1 for each round lost, 0 for a tie, summed.",
        kwargs=(
            Kwarg("num_actions", 3, "odd number of moves; 5 adds lizard and Spock"),
            Kwarg("max_cycles", 15, "rounds per match"),
        ),
        reference="https://pettingzoo.farama.org/environments/classic/rps/",
    ),
}

# mpe2's SimpleEnv._set_action: discrete 1/2 push along -x/+x, 3/4 along -y/+y;
# continuous entries 1-4 are the same pushes, the force is (e2 - e1, e4 - e3).
# The arena builds envs with their defaults: MPE matches play Discrete actions.
_DISCRETE_BY_DEFAULT = (
    "Matches play the env's default, discrete actions; a tournament may set "
    "continuous_actions = true in its env_kwargs (arena match always plays the defaults)."
)
_MOVES = (
    "0 no-op, 1 left (-x), 2 right (+x), 3 down (-y), 4 up (+y). With "
    "continuous_actions: Box(0, 1, (5,)) [no-op, left, right, down, up], the push is "
    f"(right - left, up - down). {_DISCRETE_BY_DEFAULT}"
)


def _talk_and_move(words: int) -> str:
    return (
        f"Movement a % 5 (0 no-op, 1 left, 2 right, 3 down, 4 up) and the word a // 5 "
        f"(0-{words - 1}) sent to the others. With continuous_actions: "
        f"Box(0, 1, ({5 + words},)), the 5 movement entries then the {words} message "
        f"entries. {_DISCRETE_BY_DEFAULT}"
    )


def _talk(words: int) -> str:
    return (
        f"The word to send (it cannot move). With continuous_actions: "
        f"Box(0, 1, ({words},)), the message itself. {_DISCRETE_BY_DEFAULT}"
    )


_MPE_OBSERVATION = "Positions are relative to the observer (rel_pos) unless marked self_pos."
_MPE_TURNS = "An episode lasts max_cycles steps."
_MPE_KWARGS = (
    Kwarg("max_cycles", 25, "steps per episode"),
    Kwarg("continuous_actions", False, "Box actions instead of Discrete (see the actions)"),
)
_PARTIAL = (
    Kwarg("num_agent_neighbors", None, "see only the N nearest other agents (zero-padded)"),
    Kwarg("num_landmark_neighbors", None, "see only the N nearest landmarks (zero-padded)"),
)
_TERMINATE = Kwarg("terminate_on_success", False, "end the episode at the first success")


def _mpe(
    roles: dict[str, RoleNotes], rewards: str, *extra: Kwarg, observation: str = ""
) -> EnvNotes:
    return EnvNotes(
        observation=observation or _MPE_OBSERVATION,
        actions=_MOVES,
        roles=roles,
        turns=_MPE_TURNS,
        rewards=rewards,
        kwargs=(*_MPE_KWARGS, *extra),
        reference="https://mpe2.farama.org/",
    )


MPE_NOTES: dict[str, EnvNotes] = {
    "simple_v3": _mpe(
        {"agent": RoleNotes(layout=(Part("self_vel", 2), Part("landmark_rel_pos", 2)))},
        "Minus the squared distance to the landmark, each step.",
    ),
    "simple_spread_v3": _mpe(
        {
            "agent": RoleNotes(
                layout=(
                    Part("self_vel", 2),
                    Part("self_pos", 2),
                    Part("landmark_rel_pos, 3 landmarks", 6),
                    Part("other_agents_rel_pos, 2 agents", 4),
                    Part("other_agents_comm (always 0: the agents are silent)", 4),
                )
            )
        },
        "local_ratio * (-1 per collision) + (1 - local_ratio) * (minus the sum, over "
        "the landmarks, of the distance to the nearest agent), each step.",
        Kwarg("local_ratio", 0.5, "weight of the seat's own reward against the shared one"),
        _TERMINATE,
        *_PARTIAL,
    ),
    "simple_tag_v3": _mpe(
        {
            "adversary": RoleNotes(
                layout=(
                    Part("self_vel", 2),
                    Part("self_pos", 2),
                    Part("landmark_rel_pos, 2 obstacles", 4),
                    Part("other_agents_rel_pos: the 2 other adversaries, then the agent", 6),
                    Part("the agent's velocity", 2),
                )
            ),
            "agent": RoleNotes(
                layout=(
                    Part("self_vel", 2),
                    Part("self_pos", 2),
                    Part("landmark_rel_pos, 2 obstacles", 4),
                    Part("other_agents_rel_pos: the 3 adversaries", 6),
                )
            ),
        },
        "Adversaries: +10 each whenever any adversary touches the agent. The agent: "
        "-10 for each adversary touching it, and a penalty for leaving the square "
        "(|x| or |y| above 0.9). The agent is faster (max speed 1.3 against 1.0).",
        Kwarg("num_obstacles", 2, "obstacles (changes the landmark entries)"),
        _TERMINATE,
        *_PARTIAL,
    ),
    "simple_adversary_v3": _mpe(
        {
            "adversary": RoleNotes(
                observation="It is not told which landmark is the goal.",
                layout=(
                    Part("landmark_rel_pos, 2 landmarks", 4),
                    Part("other_agents_rel_pos: agent_0, agent_1", 4),
                ),
            ),
            "agent": RoleNotes(
                layout=(
                    Part("goal_rel_pos", 2),
                    Part("landmark_rel_pos, 2 landmarks", 4),
                    Part("other_agents_rel_pos: the adversary, then the other agent", 4),
                )
            ),
        },
        "The adversary: minus its distance to the goal. The agents: the adversary's "
        "distance to the goal minus the nearest agent's distance to it.",
        *_PARTIAL,
    ),
    "simple_push_v3": _mpe(
        {
            "adversary": RoleNotes(
                layout=(
                    Part("self_vel", 2),
                    Part("landmark_rel_pos, 2 landmarks", 4),
                    Part("other_agents_rel_pos: the agent", 2),
                )
            ),
            "agent": RoleNotes(
                observation="Its own colour tells which landmark is the goal.",
                layout=(
                    Part("self_vel", 2),
                    Part("goal_rel_pos", 2),
                    Part("own colour (RGB)", 3),
                    Part("landmark_rel_pos, 2 landmarks", 4),
                    Part("landmark colours (RGB)", 6),
                    Part("other_agents_rel_pos: the adversary", 2),
                ),
            ),
        },
        "The agent: minus its distance to the goal. The adversary: the agent's distance "
        "to the goal minus its own.",
    ),
    "simple_speaker_listener_v4": _mpe(
        {
            "speaker": RoleNotes(
                observation="It sees only the goal, never the landmarks.",
                layout=(Part("the goal landmark's colour (RGB)", 3),),
                actions=_talk(3),
            ),
            "listener": RoleNotes(
                layout=(
                    Part("self_vel", 2),
                    Part("landmark_rel_pos, 3 landmarks", 6),
                    Part("the speaker's message", 3),
                )
            ),
        },
        "Both: minus the squared distance from the listener to the goal landmark.",
    ),
    "simple_reference_v3": _mpe(
        {
            "agent": RoleNotes(
                layout=(
                    Part("self_vel", 2),
                    Part("landmark_rel_pos, 3 landmarks", 6),
                    Part("the colour of the landmark the other agent must reach", 3),
                    Part("the other agent's message", 10),
                ),
                actions=_talk_and_move(10),
            )
        },
        "(1 - local_ratio) * the mean of both seats' rewards + local_ratio * its own: "
        "minus the other agent's distance to the landmark this seat knows.",
        Kwarg("local_ratio", 0.5, "weight of the seat's own reward against the shared one"),
    ),
    "simple_crypto_v3": _mpe(
        {
            "eve": RoleNotes(layout=(Part("alice's message", 4),), actions=_talk(4)),
            "coder": RoleNotes(actions=_talk(4)),
            "alice_0": RoleNotes(
                observation="Alice sends the goal encrypted with the key.",
                layout=(
                    Part("the goal to send, one-hot (one of 2)", 4),
                    Part("the key, one-hot (one of 2)", 4),
                ),
            ),
            "bob_0": RoleNotes(
                observation="Bob's message is his guess of the goal.",
                layout=(Part("the key, one-hot (one of 2)", 4), Part("alice's message", 4)),
            ),
        },
        "Eve: minus the squared error of her message against the goal. The coders: "
        "Eve's squared error minus Bob's (a seat that has sent nothing yet counts 0).",
        observation="Nobody moves: the game is the messages. Eve's message is her guess.",
    ),
    "simple_world_comm_v3": _mpe(
        {
            "adversary": RoleNotes(
                observation=(
                    "Forests hide whoever is in them from seats outside (their entries "
                    "are 0); the leader sees everyone and talks to the others."
                ),
                layout=(
                    Part("self_vel", 2),
                    Part("self_pos", 2),
                    Part("landmark_rel_pos: the obstacle, 2 food, 2 forests", 10),
                    Part("other_agents_rel_pos: the 5 other seats", 10),
                    Part("the 2 agents' velocities", 4),
                    Part("in each forest: +1 yes, -1 no", 2),
                    Part("the leader's message", 4),
                ),
            ),
            "leadadversary_0": RoleNotes(actions=_talk_and_move(4)),
            "agent": RoleNotes(
                layout=(
                    Part("self_vel", 2),
                    Part("self_pos", 2),
                    Part("landmark_rel_pos: the obstacle, 2 food, 2 forests", 10),
                    Part("other_agents_rel_pos: the 5 other seats", 10),
                    Part("in each forest: +1 yes, -1 no", 2),
                    Part("the other agent's velocity", 2),
                )
            ),
        },
        "Adversaries: +5 each whenever any adversary touches an agent, minus 0.1 x the "
        "distance to the nearest agent. Agents: -5 for each adversary touching it, +2 "
        "on food, minus 0.05 x the distance to the nearest food, and a penalty for "
        "leaving the square.",
        Kwarg("num_obstacles", 1, "obstacles (changes the landmark entries)"),
        Kwarg("num_food", 2, "food (changes the landmark entries)"),
        Kwarg("num_forests", 2, "forests (changes the landmark and forest entries)"),
    ),
}

# ALE's action numbering (ale_py.Action), which the minimal action sets index into.
ALE_ACTIONS = (
    "NOOP", "FIRE", "UP", "RIGHT", "LEFT", "DOWN", "UPRIGHT", "UPLEFT", "DOWNRIGHT",
    "DOWNLEFT", "UPFIRE", "RIGHTFIRE", "LEFTFIRE", "DOWNFIRE", "UPRIGHTFIRE",
    "UPLEFTFIRE", "DOWNRIGHTFIRE", "DOWNLEFTFIRE",
)  # fmt: skip


def atari_action_names(env: Any, seat: str) -> list[str]:
    """The names of ``env``'s actions: action i is ALE action ``action_mapping[i]``."""
    return [ALE_ACTIONS[int(a)] for a in env.unwrapped.action_mapping]


ATARI_NOTES = EnvNotes(
    observation=(
        "The screen as an RGB frame, the same for both seats: (210, 160, 3) uint8 for "
        "most games, taller for a few (250 or 256 rows)."
    ),
    actions=(
        "The game's minimal action set, numbered from 0 (full_action_space gives all 18 "
        "ALE actions: NOOP, FIRE, UP, RIGHT, LEFT, DOWN, then the combinations)."
    ),
    turns="An episode ends with the game, or after max_cycles steps.",
    rewards="The points the game scores for the seat (in most duels +1 for a point won, "
    "-1 for a point lost).",
    kwargs=(
        Kwarg("obs_type", "rgb_image", "'grayscale_image' (H, W, 1) or 'ram' (128 bytes)"),
        Kwarg("full_action_space", False, "all 18 ALE actions instead of the game's own"),
        Kwarg("max_cycles", 100000, "steps per episode"),
    ),
    reference="https://pettingzoo.farama.org/environments/atari/",
    action_names=atari_action_names,
)


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
                render_board=_CLASSIC_BOARD.get(env_id),
                notation=NOTATIONS.get(env_id),
                version=version,
                requires=("pettingzoo", *extra),
                description=description,
                notes=CLASSIC_NOTES[env_id],
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
                notes=MPE_NOTES[env_id],
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
                notes=ATARI_NOTES,
            )
        )
    return specs


def register() -> None:
    """Register every arena env with :func:`arena.registry.register_env`.

    Cheap by design: reads package metadata for versions but imports no game.
    """
    for spec in (*_classic_specs(), *_mpe_specs(), *_atari_specs()):
        register_env(spec)

"""Conformance of the registered envs: PettingZoo API, seeding, specs, renderers."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import warnings
from typing import Any

import pytest

import envs
from arena.errors import ArenaError
from arena.registry import env_specs, get_env
from arena.specs import EnvSpec

pytest.importorskip("pettingzoo")

with warnings.catch_warnings():
    # pettingzoo.test imports the deprecated connect_four_v3 shim itself.
    warnings.simplefilter("ignore", DeprecationWarning)
    from pettingzoo.test import api_test, parallel_api_test
    from pettingzoo.test.seed_test import parallel_seed_test, seed_test

# api_test's hints about all-zero or non-array observations are expected here.
pytestmark = pytest.mark.filterwarnings("ignore:Observation:UserWarning")

SPECS = env_specs()
ENV_IDS = sorted(SPECS)
PARALLEL_IDS = [env_id for env_id in ENV_IDS if not SPECS[env_id].turn_based]

# Short episodes keep the file fast; api_test needs only a few steps per env.
SHORT = {"mpe": {"max_cycles": 25}, "atari": {"max_cycles": 20}}
CYCLES = {"classic": 100, "mpe": 30, "atari": 10}
SEED_IDS = [
    "tictactoe_v3",
    "connect_four_v3",
    "leduc_holdem_v4",
    "texas_holdem_v4",
    "texas_holdem_no_limit_v6",
    "chess_v6",
    "go_v5",
    "hanabi_v5",
    "rps_v2",
    "simple_spread_v3",
    "simple_tag_v3",
    "simple_world_comm_v3",
    "pong_v3",
    "boxing_v2",
]


def _spec(env_id: str) -> EnvSpec:
    spec = SPECS[env_id]
    if not envs.available(env_id):
        pytest.skip(f"{env_id} needs {', '.join(envs.missing_requirements(env_id))}")
    return spec


def _short_kwargs(spec: EnvSpec) -> dict[str, Any]:
    return dict(SHORT.get(spec.family, {}))


def _play(env: Any, actions: list[int]) -> None:
    for action in actions:
        env.step(action)


def test_every_family_is_registered() -> None:
    families = {spec.family for spec in SPECS.values()}
    assert families == {"classic", "mpe", "atari"}
    for env_id in ("tictactoe_v3", "go_v5", "rps_v2", "simple_tag_v3", "pong_v3", "tennis_v3"):
        assert env_id in SPECS


def test_register_imports_no_game_library() -> None:
    # The entry point runs on every CLI start, so it must not import a game.
    code = (
        "import sys, envs.registry as r; r.register(); "
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('pettingzoo', 'mpe2', 'ale_py', 'multi_agent_ale_py', 'pygame', 'chess', 'rlcard')]; "
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_api(env_id: str) -> None:
    spec = _spec(env_id)
    env = envs.make(env_id, **_short_kwargs(spec))
    api_test(env, num_cycles=CYCLES[spec.family], verbose_progress=False)


@pytest.mark.parametrize("env_id", PARALLEL_IDS)
def test_parallel_api(env_id: str) -> None:
    spec = _spec(env_id)
    env = envs.make_parallel(env_id, **_short_kwargs(spec))
    parallel_api_test(env, num_cycles=CYCLES[spec.family])


@pytest.mark.parametrize("env_id", SEED_IDS)
def test_same_seed_same_rollout(env_id: str) -> None:
    spec = _spec(env_id)
    kwargs = _short_kwargs(spec)
    seed_test(lambda: envs.make(env_id, **kwargs), num_cycles=10)
    if not spec.turn_based:
        parallel_seed_test(lambda: envs.make_parallel(env_id, **kwargs), num_cycles=10)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_spec_matches_env(env_id: str) -> None:
    spec = _spec(env_id)
    seats = [seat for side in spec.sides for seat in side.seats]
    assert len(seats) == len(set(seats)), "a seat is in two sides"
    assert spec.teams == tuple(range(len(spec.teams))), "teams are numbered 0, 1, ..."
    assert spec.team_score in ("sum", "mean")
    assert spec.version and spec.description and spec.requires

    env = envs.make(env_id, **_short_kwargs(spec))
    env.reset(seed=0)
    assert set(seats) == set(env.possible_agents)
    first = env.agent_selection
    obs = env.observe(first)
    has_mask = isinstance(obs, dict) and "action_mask" in obs
    assert has_mask == spec.action_mask
    env.close()

    # Simultaneous games, and only those, come with a parallel factory.
    assert (spec.make_parallel is None) == spec.turn_based
    if spec.turn_based:
        with pytest.raises(ArenaError, match="turn-based"):
            envs.make_parallel(env_id)
    else:
        par = envs.make_parallel(env_id, **_short_kwargs(spec))
        par.reset(seed=0)
        assert set(par.possible_agents) == set(seats)
        par.close()


@pytest.mark.parametrize("env_id", [i for i in ENV_IDS if SPECS[i].render_text is not None])
def test_renderer_runs_through_a_game(env_id: str) -> None:
    spec = _spec(env_id)
    assert spec.render_text is not None
    env = envs.make(env_id)
    env.reset(seed=0)
    assert spec.render_text(env)
    for agent in env.agent_iter(max_iter=60):
        obs, _, term, trunc, _ = env.last()
        mask = obs["action_mask"] if isinstance(obs, dict) else None
        env.step(None if term or trunc else env.action_space(agent).sample(mask))
        assert isinstance(spec.render_text(env), str)
    env.close()


def test_tictactoe_render() -> None:
    env = envs.make("tictactoe_v3")
    env.reset(seed=0)
    render = get_env("tictactoe_v3").render_text
    assert render is not None
    assert render(env) == (
        " 0 | 3 | 6\n---+---+---\n 1 | 4 | 7\n---+---+---\n 2 | 5 | 8\nto move: player_1 (X)"
    )
    # Actions number cells column by column: 0 is top-left, 1 below it, 3 right of it.
    _play(env, [0, 4, 3])
    assert render(env) == (
        " X | X | 6\n---+---+---\n 1 | O | 7\n---+---+---\n 2 | 5 | 8\nto move: player_2 (O)"
    )
    _play(env, [1, 6])  # X completes the top row.
    assert render(env) == (
        " X | X | X\n---+---+---\n O | O | 7\n---+---+---\n 2 | 5 | 8\ngame over"
    )
    assert env.rewards == {"player_1": 1, "player_2": -1}


def test_connect_four_render() -> None:
    env = envs.make("connect_four_v3")
    env.reset(seed=0)
    render = get_env("connect_four_v3").render_text
    assert render is not None
    _play(env, [3, 3, 4, 2])
    assert render(env) == (
        ". . . . . . .\n"
        ". . . . . . .\n"
        ". . . . . . .\n"
        ". . . . . . .\n"
        ". . . O . . .\n"
        ". . O X X . .\n"
        "0 1 2 3 4 5 6\n"
        "to move: player_0 (X)"
    )


def test_rps_render() -> None:
    par = envs.make_parallel("rps_v2")
    par.reset(seed=0)
    render = get_env("rps_v2").render_text
    assert render is not None
    assert render(par) == "round 0/15: no moves yet"
    par.step({"player_0": 0, "player_1": 1})
    assert render(par) == "round 1/15: player_0 ROCK, player_1 PAPER"


def test_holdem_render_hides_the_opponent_hand() -> None:
    env = envs.make("leduc_holdem_v4")
    env.reset(seed=0)
    render = get_env("leduc_holdem_v4").render_text
    assert render is not None
    text = render(env)
    mover = env.agent_selection
    assert f"to move: {mover}" in text
    hidden = [line for line in text.splitlines() if "hand ??" in line]
    assert len(hidden) == 1 and mover not in hidden[0]


def test_go_render_small_board() -> None:
    env = envs.make("go_v5", board_size=5)
    env.reset(seed=0)
    render = get_env("go_v5").render_text
    assert render is not None
    _play(env, [6, 12])  # black at (1, 1), white at (2, 2)
    assert render(env) == (
        "     0  1  2  3  4\n"
        "  0  .  .  .  .  .\n"
        "  1  .  X  .  .  .\n"
        "  2  .  .  O  .  .\n"
        "  3  .  .  .  .  .\n"
        "  4  .  .  .  .  .\n"
        "action = row * 5 + col, pass = 25\n"
        "to move: black_0 (X)"
    )


def test_unknown_env_is_an_arena_error() -> None:
    with pytest.raises(ArenaError, match="unknown env"):
        envs.make("no_such_env_v0")
    with pytest.raises(ArenaError, match="unknown env"):
        envs.available("no_such_env_v0")


def test_missing_atari_extra_is_an_arena_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def fake(name: str, *args: Any) -> Any:
        return None if name == "multi_agent_ale_py" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", fake)
    assert not envs.available("pong_v3")
    assert envs.available("tictactoe_v3")
    with pytest.raises(ArenaError, match=r"multi_agent_ale_py.*arena\[atari\]"):
        envs.make("pong_v3")


def test_atari_rom_path_can_be_overridden(tmp_path: Any) -> None:
    _spec("pong_v3")
    with pytest.raises(OSError, match="rom pong is not installed"):
        envs.make("pong_v3", auto_rom_install_path=str(tmp_path))

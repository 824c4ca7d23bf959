"""Author notes: the prose in envs/registry.py against the envs themselves, and docs/envs.md."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from typing import Any

import numpy as np
import pytest

from arena import env_notes
from arena.errors import ArenaError
from arena.registry import env_specs, get_env
from envs.registry import ALE_ACTIONS
from tests.conftest import ROOT

SPECS = env_specs()
ENV_IDS = sorted(SPECS)
DOC = ROOT / "docs" / "envs.md"


def _available(env_id: str) -> None:
    missing = SPECS[env_id].missing()
    if missing:
        pytest.skip(f"{env_id} needs {', '.join(missing)}")


def _without_atari(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def fake(name: str, *args: Any) -> Any:
        return None if name == "multi_agent_ale_py" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", fake)


def test_every_env_has_notes_for_every_seat() -> None:
    for env_id, spec in SPECS.items():
        assert spec.notes is not None, env_id
        assert spec.notes.rewards and spec.notes.reference, env_id
        for side in spec.sides:
            for seat in side.seats:
                notes = spec.notes.for_seat(side.role, seat)
                assert notes.actions, (env_id, seat)
                assert notes.observation or notes.layout, (env_id, seat)


@pytest.mark.parametrize("env_id", [i for i in ENV_IDS if SPECS[i].family != "atari"])
def test_layouts_add_up_to_the_observation(env_id: str) -> None:
    _available(env_id)
    info = env_notes.describe(env_id)
    for entry in info["roles"]:
        if entry["layout"]:
            assert entry["layout"][-1]["last"] + 1 == entry["observation"]["shape"][-1], entry
            assert [r["first"] for r in entry["layout"][1:]] == [
                r["last"] + 1 for r in entry["layout"][:-1]
            ]


def _constructor_defaults(env_id: str) -> dict[str, Any]:
    spec = SPECS[env_id]
    module = importlib.import_module(spec.make_aec.module)
    params = dict(inspect.signature(module.raw_env).parameters)
    if spec.family == "atari":  # raw_env(**kwargs) hands the rest to the base env
        from pettingzoo.atari.base_atari_env import ParallelAtariEnv

        params.update(inspect.signature(ParallelAtariEnv.__init__).parameters)
    return {name: p.default for name, p in params.items()}


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_documented_kwargs_exist_with_their_defaults(env_id: str) -> None:
    _available(env_id)
    notes = SPECS[env_id].notes
    assert notes is not None
    defaults = _constructor_defaults(env_id)
    assert {kw.name: kw.default for kw in notes.kwargs} == {
        kw.name: defaults[kw.name] for kw in notes.kwargs
    }


def test_mpe_discrete_moves_are_noop_left_right_down_up() -> None:
    _available("simple_v3")
    velocities = []
    for action in range(5):
        env = get_env("simple_v3").build()
        env.reset(seed=0)
        for _ in range(3):
            obs, *_ = env.step({"agent_0": action})
        velocities.append(np.sign(obs["agent_0"][:2]).tolist())  # self_vel
        env.close()
    assert velocities == [[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]]


def test_connect_four_plane_0_is_the_observers_pieces() -> None:
    _available("connect_four_v3")
    env = get_env("connect_four_v3").build()
    env.reset(seed=0)
    env.step(3)  # player_0 drops into column 3: it lands on row 5, the bottom
    theirs = env.observe("player_1")["observation"]
    mine = env.observe("player_0")["observation"]
    assert np.argwhere(mine[:, :, 0]).tolist() == [[5, 3]]
    assert np.argwhere(theirs[:, :, 1]).tolist() == [[5, 3]]
    assert not theirs[:, :, 0].any() and not mine[:, :, 1].any()


def test_describe_reads_each_roles_spaces() -> None:
    _available("simple_tag_v3")
    roles = {e["role"]: e for e in env_notes.describe("simple_tag_v3")["roles"]}
    adversary, agent = roles["adversary"], roles["agent"]
    assert adversary["seats"] == ["adversary_0", "adversary_1", "adversary_2"]
    assert adversary["observation"]["shape"] == [16]
    assert adversary["observation"]["dtype"] == "float32"
    assert agent["observation"]["shape"] == [14]
    assert adversary["action"]["n"] == agent["action"]["n"] == 5
    assert agent["action_notes"].startswith("0 no-op, 1 left (-x), 2 right (+x), 3 down")


def test_a_seat_that_differs_from_its_role_is_described_apart() -> None:
    _available("simple_world_comm_v3")
    entries = env_notes.describe("simple_world_comm_v3")["roles"]
    assert [(e["role"], e["seats"], e["action"]["n"]) for e in entries] == [
        ("adversary", ["leadadversary_0"], 20),
        ("adversary", ["adversary_0", "adversary_1", "adversary_2"], 5),
        ("agent", ["agent_0", "agent_1"], 5),
    ]
    assert entries[0]["action_notes"].startswith("Movement a % 5 (0 no-op")
    assert entries[0]["layout"] == entries[1]["layout"]


def test_masked_envs_describe_the_inner_observation_and_the_mask() -> None:
    _available("connect_four_v3")
    [entry] = env_notes.describe("connect_four_v3")["roles"]
    assert entry["observation"]["shape"] == [6, 7, 2]
    assert entry["action_mask"]["shape"] == [7] and entry["action_mask"]["dtype"] == "int8"
    assert entry["action"]["n"] == 7


def test_atari_action_names_come_from_the_game() -> None:
    _available("pong_v3")
    import ale_py

    by_value = sorted(ale_py.Action.__members__.values(), key=lambda a: a.value)
    assert ALE_ACTIONS == tuple(a.name for a in by_value)
    [entry] = env_notes.describe("pong_v3")["roles"]
    assert entry["action_names"] == ["NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"]
    assert entry["action"]["n"] == 6


def test_atari_frames_are_as_the_shared_note_says() -> None:
    atari = [i for i in ENV_IDS if SPECS[i].family == "atari"]
    _available(atari[0])
    for env_id in atari:
        [entry] = env_notes.describe(env_id)["roles"]
        height, width, channels = entry["observation"]["shape"]
        assert (width, channels, entry["observation"]["dtype"]) == (160, 3, "uint8"), env_id
        assert height in (210, 250, 256), env_id


def test_an_env_missing_its_extra_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_atari(monkeypatch)
    info = env_notes.describe("pong_v3")
    reason = "env 'pong_v3' needs multi_agent_ale_py, not installed (pip install 'arena[atari]')"
    assert info["unavailable"] == reason
    assert [(e["seats"], e["observation"]) for e in info["roles"]] == [
        (["first_0", "second_0"], None)
    ]
    text = env_notes.text("pong_v3")
    assert (
        "Spaces: not read here: env 'pong_v3' needs multi_agent_ale_py, not installed\n"
        "  (pip install 'arena[atari]')\n"
    ) in text


def test_unknown_env_is_one_line() -> None:
    with pytest.raises(ArenaError) as caught:
        env_notes.describe("nosuch_v0")
    assert str(caught.value) == "unknown env 'nosuch_v0' (see arena envs)"


def test_every_envs_notes_fit_80_columns() -> None:
    for env_id in ENV_IDS:
        long = [line for line in env_notes.text(env_id).splitlines() if len(line) > 80]
        assert long == [], env_id


def _doc_needs_building() -> list[str]:
    """Envs whose spaces the page reads: the ones with notes of their own."""
    return [s.env_id for s in SPECS.values() if s.family != "atari" and s.missing()]


def test_docs_envs_md_is_up_to_date(monkeypatch: pytest.MonkeyPatch) -> None:
    if _doc_needs_building():
        pytest.skip(f"the page reads spaces from {', '.join(_doc_needs_building())}")
    # The Atari part comes from the shared note alone: the page is the same without ALE.
    _without_atari(monkeypatch)
    expected = env_notes.markdown()
    assert DOC.read_text() == expected, (
        "docs/envs.md is out of date: .venv/bin/python -m arena.env_notes > docs/envs.md"
    )


def test_chess_board_has_coordinates() -> None:
    """envs/render.py: the board arena play and replays print, with ranks and files."""
    _available("chess_v6")
    spec = get_env("chess_v6")
    assert spec.render_text is not None
    env = spec.build()
    env.reset(seed=0)
    env.step(2421)  # e2e4, as the chess note says
    assert spec.render_text(env) == (
        "8 r n b q k b n r\n"
        "7 p p p p p p p p\n"
        "6 . . . . . . . .\n"
        "5 . . . . . . . .\n"
        "4 . . . . P . . .\n"
        "3 . . . . . . . .\n"
        "2 P P P P . P P P\n"
        "1 R N B Q K B N R\n"
        "  a b c d e f g h\n"
        "to move: player_1 (black)"
    )

"""Every built-in agent (and the example package) passes :func:`arena.agent_test.agent_test`.

Also checks that ``agent_test`` itself catches the usual mistakes, and that the
random agent samples correctly from every kind of action space.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces

from arena.agent_test import agent_test
from arena.protocol import AgentContext
from arena.registry import builtin_agents, env_specs
from arena.specs import EnvSpec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agents" / "c4-heuristic"

# Slow games (chess and go at a few thousand steps/s, Atari's emulator start-up)
# get one short game: enough to check legality and determinism.
_SLOW = {"chess_v6", "go_v5"}


def _budget(spec: EnvSpec) -> dict[str, int]:
    if spec.family == "atari" or spec.env_id in _SLOW:
        return {"games": 1, "max_steps": 60}
    if spec.family == "mpe":
        return {"games": 2, "max_steps": 200}
    return {"games": 3, "max_steps": 2_000}


def _missing(spec: EnvSpec) -> list[str]:
    return [m for m in spec.requires if importlib.util.find_spec(m) is None]


def _cases() -> list[Any]:
    env_ids = sorted(env_specs())
    return [
        pytest.param(name, env_id, id=f"{name}-{env_id}")
        for name, builtin in sorted(builtin_agents().items())
        for env_id in env_ids
        if builtin.supports(env_id)
    ]


@pytest.mark.parametrize(("agent", "env_id"), _cases())
def test_builtin_agent_conforms(agent: str, env_id: str) -> None:
    spec = env_specs()[env_id]
    missing = _missing(spec)
    if missing:
        pytest.skip(f"{env_id} needs {', '.join(missing)}")
    agent_test(builtin_agents()[agent].factory, env_id, seed=7, **_budget(spec))


def test_builtin_names_are_valid() -> None:
    pattern = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
    names = builtin_agents()
    assert {"random", "one-ply"} <= set(names)
    for name, builtin in names.items():
        assert pattern.match(name), name
        assert builtin.name == name


def test_registering_builtins_is_cheap() -> None:
    code = (
        "import sys, agents.builtin as b; b.register(); "
        "print(sorted(m for m in ('torch', 'pettingzoo', 'gymnasium') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_example_c4_heuristic_conforms() -> None:
    from arena.sources import package_source

    source = package_source(EXAMPLE)
    assert source.info.name == "c4-heuristic"
    agent_test(source.factory(), "connect_four_v3", games=4, package_dir=EXAMPLE)


def test_example_c4_heuristic_imports_only_numpy() -> None:
    text = (EXAMPLE / "heuristic.py").read_text()
    imports = set(re.findall(r"^(?:from|import) (\w+)", text, flags=re.M))
    assert imports <= {"__future__", "typing", "numpy"}, imports


# --- agent_test catches broken agents -------------------------------------------------


class _Fixed:
    """Always plays ``action``: column 0 fills up after six moves."""

    def __init__(self, action: Any) -> None:
        self.action = action

    def reset(self, *, seed: int | None = None) -> None:
        pass

    def act(self, observation: Any, *, action_mask: Any = None) -> Any:
        return self.action


class _Unseeded:
    """Random legal moves from an unseeded generator: legal but not reproducible."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng()

    def reset(self, *, seed: int | None = None) -> None:
        pass

    def act(self, observation: Any, *, action_mask: Any = None) -> int:
        return int(self.rng.choice(np.flatnonzero(action_mask)))


class _Raises(_Fixed):
    def act(self, observation: Any, *, action_mask: Any = None) -> Any:
        raise RuntimeError("boom")


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda ctx: _Fixed(0), "masked out"),
        (lambda ctx: _Fixed(9), "outside Discrete"),
        (lambda ctx: _Fixed(1.0), "integer"),
        (lambda ctx: _Fixed(True), "integer"),
        (lambda ctx: _Unseeded(), "same seeds gave"),
        (lambda ctx: _Raises(0), "act .* raised"),
        (lambda ctx: object(), "no reset"),
        (lambda ctx: 1 / 0, "make_agent"),
    ],
    ids=["masked", "out-of-range", "float", "bool", "unseeded", "raises", "no-methods", "factory"],
)
def test_agent_test_catches(factory: Any, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        agent_test(factory, "connect_four_v3", games=2)


def test_agent_test_checks_box_actions() -> None:
    spec = env_specs()["simple_spread_v3"]
    if _missing(spec):
        pytest.skip("mpe2 not installed")
    continuous = {"continuous_actions": True}
    agent_test(
        builtin_agents()["random"].factory, "simple_spread_v3", games=1, env_kwargs=continuous
    )
    too_big = lambda ctx: _Fixed(np.full(5, 2.0, np.float32))  # noqa: E731
    with pytest.raises(AssertionError, match="outside Box"):
        agent_test(too_big, "simple_spread_v3", games=1, env_kwargs=continuous)
    nan = lambda ctx: _Fixed(np.full(5, np.nan, np.float32))  # noqa: E731
    with pytest.raises(AssertionError, match="NaN"):
        agent_test(nan, "simple_spread_v3", games=1, env_kwargs=continuous)
    with pytest.raises(AssertionError, match="integer"):
        agent_test(lambda ctx: _Fixed(np.zeros(5, np.float32)), "simple_spread_v3", games=1)


# --- the random agent on every kind of space ------------------------------------------


def _random(space: Any, seed: int = 0) -> Any:
    ctx = AgentContext(
        env_id="test", agent_id="a", role="a", observation_space=None,
        action_space=space, package_dir=None, seed=seed,
    )  # fmt: skip
    return builtin_agents()["random"].factory(ctx)


@pytest.mark.parametrize(
    "space",
    [
        spaces.Discrete(5),
        spaces.Discrete(4, start=-2),
        spaces.Box(0.0, 1.0, (5,), np.float32),
        spaces.Box(np.array([-1.0, 0.0]), np.array([1.0, np.inf]), dtype=np.float32),
        spaces.Box(-np.inf, np.inf, (3,), np.float64),
        spaces.Box(0, 10, (2, 2), np.int64),
        spaces.MultiDiscrete([3, 4]),
        spaces.MultiBinary(4),
        spaces.Tuple((spaces.Discrete(2), spaces.Discrete(3))),
    ],
    ids=repr,
)
def test_random_samples_inside_every_space(space: Any) -> None:
    agent = _random(space)
    samples = [agent.act(None) for _ in range(200)]
    for sample in samples:
        assert space.contains(sample), sample
    agent.reset(seed=5)
    again = _random(space, seed=123)
    again.reset(seed=5)
    first, second = agent.act(None), again.act(None)
    assert np.array_equal(np.asarray(first, dtype=object), np.asarray(second, dtype=object))


def test_random_discrete_is_uniform_over_legal_actions() -> None:
    agent = _random(spaces.Discrete(7), seed=1)
    mask = np.array([1, 0, 1, 0, 0, 0, 1], dtype=np.int8)
    picks = [agent.act(None, action_mask=mask) for _ in range(3000)]
    assert all(type(p) is int for p in picks)
    counts = np.bincount(picks, minlength=7)
    assert counts[[1, 3, 4, 5]].sum() == 0
    assert counts[[0, 2, 6]].min() > 900  # about 1000 each


def test_random_box_is_float32_of_the_right_shape() -> None:
    action = _random(spaces.Box(0.0, 1.0, (5,), np.float32)).act(None)
    assert isinstance(action, np.ndarray) and action.dtype == np.float32 and action.shape == (5,)

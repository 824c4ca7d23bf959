"""``arena.config_check``: one checker, a dataclass as the schema, exact one-line errors.

Each fault kind is asserted whole in both wordings: PROSE (hand-written files such as
``agent.toml`` and tournament files) and PYTHON (trainer configs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import pytest

from arena.config_check import (
    NON_NEGATIVE,
    POSITIVE,
    PROSE,
    PYTHON,
    Check,
    Prose,
    Wording,
    at_least,
    check_table,
    one_of,
)
from arena.errors import ArenaError

PATH = Path("f.toml")


@dataclass(frozen=True)
class Limits:
    timeout_s: Annotated[float, POSITIVE] = 1.0
    bank_s: Annotated[float, NON_NEGATIVE] = 0.0
    memory_mb: Annotated[int, at_least(16)] = 64
    reuse: bool = False


@dataclass(frozen=True)
class Player:
    agent: str


@dataclass(frozen=True, kw_only=True)
class Game:
    other_keys: ClassVar[tuple[str, ...]] = ("rounds",)

    name: str
    seed: int = 0
    ratio: float = 0.5
    tags: tuple[str, ...] = ()
    hidden: list[int] = field(default_factory=list)
    note: str | None = None
    mode: Literal["fast", "slow"] = "fast"
    colour: Annotated[str, one_of(("red", "blue"))] = "red"
    version: Annotated[str, Check(str.isdigit, says=lambda v: f"{v!r} is not digits")] = "1"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class File:
    protocol: Literal[1] = 1
    game: Game
    limits: Limits = field(default_factory=Limits)
    players: tuple[Player, ...] = ()


def error(table: dict[str, Any], schema: type = File, wording: Wording = PROSE, **kw: Any) -> str:
    with pytest.raises(ArenaError) as info:
        check_table(table, schema, PATH, wording=wording, **kw)
    message = str(info.value)
    assert "\n" not in message
    return message


GAME = {"name": "g"}


# --- a good table ----------------------------------------------------------------------


def test_a_good_table_becomes_the_dataclass_with_its_defaults() -> None:
    got = check_table(
        {
            "game": {"name": "g", "ratio": 1, "tags": ["a"], "hidden": [64], "rounds": 3},
            "limits": {"timeout_s": 2},
            "players": [{"agent": "x"}, {"agent": "y"}],
        },
        File,
        PATH,
    )
    assert got == File(
        game=Game(name="g", ratio=1.0, tags=("a",), hidden=[64]),
        limits=Limits(timeout_s=2.0),
        players=(Player("x"), Player("y")),
    )
    assert type(got.game.ratio) is float and type(got.limits.timeout_s) is float  # int -> float
    assert check_table({"name": "g", "note": None}, Game, PATH).note is None  # from Python


def test_a_nested_table_checked_alone_is_named_by_its_dotted_name() -> None:
    assert check_table({"memory_mb": 16}, Limits, PATH, at="limits") == Limits(memory_mb=16)
    assert error({"memory_mb": 8}, Limits, at="limits") == (
        "f.toml: [limits].memory_mb: expected an integer >= 16, got 8"
    )


# --- PROSE ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "message"),
    [
        # unknown keys: at the root by name, in a table by their TOML key
        ({"gam": GAME}, "unknown key 'gam' (expected one of: protocol, game, limits, players)"),
        (
            {"game": {**GAME, "sead": 1}},
            "[game].sead: unknown key (expected one of: name, seed, ratio, tags, hidden, "
            "note, mode, colour, version, extra, rounds)",
        ),
        (
            {"game": GAME, "players": [{"agent": "x"}, {"agnet": "y"}]},
            "players[2].agnet: unknown key (expected one of: agent)",
        ),
        # missing keys and tables
        ({}, "missing [game] table"),
        ({"game": {}}, "[game].name: missing required key (string)"),
        ({"game": GAME, "players": [{}]}, "players[1].agent: missing required key (string)"),
        # wrong types show the type they got
        ({"game": {"name": 7}}, "[game].name: expected a string, got int 7"),
        ({"game": {**GAME, "seed": True}}, "[game].seed: expected an integer, got bool True"),
        ({"game": {**GAME, "seed": 1.0}}, "[game].seed: expected an integer, got float 1.0"),
        ({"game": {**GAME, "ratio": "x"}}, "[game].ratio: expected a number, got str 'x'"),
        ({"game": {**GAME, "ratio": False}}, "[game].ratio: expected a number, got bool False"),
        ({"game": {**GAME, "note": 3}}, "[game].note: expected a string, got int 3"),
        ({"game": {**GAME, "extra": 3}}, "[game].extra: expected a table, got int 3"),
        (
            {"game": {**GAME, "tags": "a"}},
            "[game].tags: expected a list of strings, got str 'a'",
        ),
        (
            {"game": {**GAME, "tags": ["a", 3]}},
            "[game].tags: expected a list of strings, got list ['a', 3]",
        ),
        (
            {"game": {**GAME, "hidden": [1.5]}},
            "[game].hidden: expected a list of integers, got list [1.5]",
        ),
        ({"game": 3}, "[game]: expected a table, got int 3"),
        ({"game": GAME, "limits": []}, "[limits]: expected a table, got list []"),
        ({"game": GAME, "players": 3}, "[[players]]: expected a list of tables, got int 3"),
        (
            {"game": GAME, "limits": {"reuse": 1}},
            "[limits].reuse: expected true or false, got int 1",
        ),
        # a checked field's type is named by its check
        (
            {"game": GAME, "limits": {"timeout_s": "1s"}},
            "[limits].timeout_s: expected a positive number, got str '1s'",
        ),
        # values: Literal, then the checks declared with the type
        ({"protocol": 2, "game": GAME}, "protocol: expected one of [1], got 2"),
        ({"protocol": True, "game": GAME}, "protocol: expected one of [1], got True"),
        (
            {"game": {**GAME, "mode": "quick"}},
            "[game].mode: expected one of ['fast', 'slow'], got 'quick'",
        ),
        (
            {"game": GAME, "limits": {"timeout_s": 0}},
            "[limits].timeout_s: expected a positive number, got 0",
        ),
        (
            {"game": GAME, "limits": {"bank_s": -0.5}},
            "[limits].bank_s: expected a number >= 0, got -0.5",
        ),
        (
            {"game": GAME, "limits": {"memory_mb": 8}},
            "[limits].memory_mb: expected an integer >= 16, got 8",
        ),
        ({"game": {**GAME, "colour": "green"}}, "[game].colour: 'green' is not one of: red, blue"),
        ({"game": {**GAME, "version": "v1"}}, "[game].version: 'v1' is not digits"),
    ],
)
def test_prose(table: dict[str, Any], message: str) -> None:
    assert error(table) == f"f.toml: {message}"


def test_prose_missing_words_are_the_callers() -> None:
    wording = Prose(missing="missing required {noun}")
    assert error({"game": {}}, wording=wording) == "f.toml: [game].name: missing required string"
    assert error({}, wording=wording) == "f.toml: missing [game] table"


# --- PYTHON --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"name": "g", "sead": 1},
            "unknown key 'sead' (known keys: colour, extra, hidden, mode, name, note, ratio, "
            "rounds, seed, tags, version)",
        ),
        ({}, "key 'name': missing (expected str)"),
        ({"name": 7}, "key 'name': expected str, got 7"),
        ({**GAME, "seed": True}, "key 'seed': expected int, got True"),
        ({**GAME, "ratio": "fast"}, "key 'ratio': expected float, got 'fast'"),
        ({**GAME, "ratio": [1]}, "key 'ratio': expected float, got [1]"),
        ({**GAME, "note": 3}, "key 'note': expected str | None, got 3"),
        ({**GAME, "hidden": 3}, "key 'hidden': expected a list of int, got 3"),
        ({**GAME, "hidden": [64, "x"]}, "key 'hidden': expected a list of int, got [64, 'x']"),
        ({**GAME, "mode": "quick"}, "key 'mode': expected one of 'fast', 'slow', got 'quick'"),
        ({**GAME, "colour": "green"}, "key 'colour': 'green' is not one of: red, blue"),
    ],
)
def test_python(table: dict[str, Any], message: str) -> None:
    assert error(table, Game, PYTHON) == f"f.toml: {message}"


def test_python_names_nested_keys_with_dots() -> None:
    assert error({"game": {"name": 1}}, File, PYTHON) == (
        "f.toml: key 'game.name': expected str, got 1"
    )
    assert error({"game": GAME, "players": [{"agent": 1}]}, File, PYTHON) == (
        "f.toml: key 'players[0].agent': expected str, got 1"
    )


# --- which fault comes first ---------------------------------------------------------


def test_an_unknown_key_is_reported_before_the_key_it_hides_is_missing() -> None:
    assert error({"game": {"nmae": "g"}}).startswith("f.toml: [game].nmae: unknown key")


def test_types_of_a_table_are_checked_before_its_values() -> None:
    limits = {"timeout_s": 0, "memory_mb": "big"}
    assert error({"game": GAME, "limits": limits}) == (
        "f.toml: [limits].memory_mb: expected an integer >= 16, got str 'big'"
    )


def test_a_sub_table_is_checked_whole_where_its_field_comes() -> None:
    table = {"game": {**GAME, "colour": "green"}, "limits": {"memory_mb": "big"}}
    assert error(table) == "f.toml: [game].colour: 'green' is not one of: red, blue"

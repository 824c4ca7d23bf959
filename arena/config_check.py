"""One checker for the arena's TOML tables: a parsed table in, a typed dataclass out.

The dataclass is the schema. Its fields are the keys, in the order errors list them; a
field's type hint is the type of its value; a default makes the key optional; and checks
declared next to the type, ``Annotated[float, POSITIVE]``, bound the value. A nested
dataclass is a sub-table (``[limits]``), a tuple of dataclasses an array of tables
(``[[entrants]]``). Types understood: ``str``, ``int`` (a bool is not one), ``float`` (an
int is accepted and made a float), ``bool``, ``Any``, ``X | None``, ``Literal[...]``,
``list[X]``, ``tuple[X, ...]``, ``dict[str, X]`` and dataclasses.

The first fault found is raised as the arena's one-line :class:`~arena.errors.ArenaError`,
``<file>: <key>: <what is wrong>``. Within a table, unknown keys come first (a typo must
be reported as a typo, not as the key it hides being missing), then missing keys and wrong
types field by field, then the checks field by field; a sub-table is checked whole where
its field comes.

How a fault is worded is the caller's, because people and tests rely on each caller's
words: :data:`PROSE` (``[agent].name: expected a string, got int 7``) for the files people
write by hand, :data:`PYTHON` (``key 'alpha': expected float, got 'fast'``) for trainer
configs, whose keys are the trainer's Python fields.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from arena.errors import ArenaError

__all__ = [
    "NON_NEGATIVE",
    "POSITIVE",
    "PROSE",
    "PYTHON",
    "Check",
    "Fault",
    "Prose",
    "Python",
    "Wording",
    "at_least",
    "check_table",
    "one_of",
]

T = typing.TypeVar("T")
Keys = tuple[str | int, ...]  # from the file's root: ("limits", "cpus"), ("entrants", 0, "agent")


@dataclass(frozen=True)
class Check:
    """A bound on a value, declared with its field's type: ``Annotated[int, at_least(1)]``.

    Attributes:
        test: True when the value, as written in the file, is good. It runs only once
            the value has the field's type.
        expected: what a good value is, shown as ``expected <expected>, got 0``; it also
            names the type when the value has the wrong one ("a positive number" says
            more than "a number").
        says: the whole complaint instead, given the bad value, for checks with their
            own words (``'x' is not a PEP 440 version``).
    """

    test: Callable[[Any], bool]
    expected: str = ""
    says: Callable[[Any], str] | None = None


# ``not v <= 0`` rather than ``v > 0``: NaN passes, as it always has in [limits].
POSITIVE = Check(lambda v: not v <= 0, "a positive number")
NON_NEGATIVE = Check(lambda v: not v < 0, "a number >= 0")


def at_least(minimum: int) -> Check:
    """An integer bound: ``memory_mb: Annotated[int, at_least(16)]``."""
    return Check(lambda v: v >= minimum, f"an integer >= {minimum}")


def one_of(choices: Collection[Any]) -> Check:
    """Membership of a set known only at run time (a fixed set is a ``Literal``)."""
    return Check(
        lambda v: v in choices,
        says=lambda v: f"{v!r} is not one of: {', '.join(map(str, choices))}",
    )


class Fault(Exception):
    """What is wrong with one key; a :class:`Wording` turns it into words.

    ``kind`` is ``unknown`` (``allowed`` lists the table's keys), ``missing``, ``type``
    (``value`` is not a ``hint``) or ``value`` (``value`` fails ``check``, or is not one of
    a ``Literal`` ``hint`` when ``check`` is None).
    """

    def __init__(
        self,
        kind: typing.Literal["unknown", "missing", "type", "value"],
        keys: Keys,
        hint: Any = None,
        value: Any = None,
        *,
        allowed: tuple[str, ...] = (),
        check: Check | None = None,
    ) -> None:
        super().__init__(kind, keys)
        self.kind = kind
        self.keys = keys
        self.hint = hint
        self.value = value
        self.allowed = allowed
        self.check = check


def check_table(
    table: Mapping[str, Any],
    schema: type[T],
    path: Path | str,
    *,
    at: str = "",
    wording: Wording | None = None,
) -> T:
    """``table`` checked against the dataclass ``schema`` and built into one.

    Args:
        table: the parsed TOML table (or any mapping of the same shape).
        schema: a dataclass; a ``ClassVar`` ``other_keys`` names further keys the table
            may hold that someone else checks (accepted, and not passed on unless they
            are fields too; errors list them last).
        path: the file, named first in every error.
        at: the table's dotted name in its file when it is not the root (``limits``,
            ``tournament.sprt``), so its keys are named ``[limits].cpus``.
        wording: how faults are worded (:data:`PROSE` by default).

    Raises:
        ArenaError: ``<path>: <the fault in the caller's words>``.
    """
    keys: Keys = tuple(at.split(".")) if at else ()
    try:
        return _table(schema, table, keys)
    except Fault as fault:
        raise ArenaError(f"{path}: {(wording or PROSE).say(fault)}") from None


# ----------------------------------------------------------------------------- checking


def _table(schema: type[T], table: Mapping[str, Any], keys: Keys) -> T:
    hints = typing.get_type_hints(schema, include_extras=True)
    fields = [f for f in dataclasses.fields(schema) if f.init]  # type: ignore[arg-type]
    names = tuple(f.name for f in fields)
    other: tuple[str, ...] = getattr(schema, "other_keys", ())
    allowed = tuple(n for n in names if n not in other) + other  # a field may be one too
    for key in table:
        if key not in allowed:
            raise Fault("unknown", (*keys, key), allowed=allowed)
    given: dict[str, Any] = {}
    for f in fields:
        if f.name in table:
            given[f.name] = _convert(hints[f.name], table[f.name], (*keys, f.name))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise Fault("missing", (*keys, f.name), hints[f.name])
    for name in given:
        _bound(hints[name], table[name], (*keys, name))
    return schema(**given)


def _convert(hint: Any, value: Any, keys: Keys) -> Any:
    """``value`` as ``hint`` (a tuple for a tuple, a float for a float), else a Fault."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin is Annotated:
        try:
            return _convert(typing.get_args(hint)[0], value, keys)
        except Fault as fault:
            if fault.keys == keys and fault.kind == "type":  # named with its checks
                raise Fault("type", keys, hint, value) from None
            raise
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            if option is type(None):
                if value is None:
                    return None
                continue
            try:
                return _convert(option, value, keys)
            except Fault as fault:
                if fault.keys != keys:  # a fault inside a sub-table is that table's
                    raise
        raise Fault("type", keys, hint, value)
    if origin is typing.Literal:
        # compared with their types too, so that true is not the protocol 1
        if any(type(value) is type(c) and value == c for c in typing.get_args(hint)):
            return value
        raise Fault("value", keys, hint, value)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            raise Fault("type", keys, hint, value)
        return _table(typing.cast(type, hint), value, keys)
    if origin in (list, tuple) or hint in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise Fault("type", keys, hint, value)
        inner = _item_hint(hint)
        items = []
        for i, item in enumerate(value):
            try:
                items.append(_convert(inner, item, (*keys, i)))
            except Fault as fault:
                if fault.keys == (*keys, i):  # a bad item: the list is what was wrong
                    raise Fault("type", keys, hint, value) from None
                raise
        return tuple(items) if tuple in (origin, hint) else items
    if origin is dict or hint is dict:
        if not isinstance(value, Mapping):
            raise Fault("type", keys, hint, value)
        inner = (typing.get_args(hint) or (str, Any))[1]
        return {k: _convert(inner, v, (*keys, k)) for k, v in value.items()}
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, bool):
        raise Fault("type", keys, hint, value)
    if isinstance(hint, type) and isinstance(value, hint):
        return value
    raise Fault("type", keys, hint, value)


def _bound(hint: Any, value: Any, keys: Keys) -> None:
    """Run the checks declared in ``hint`` on ``value`` (already known to have its type)."""
    origin = typing.get_origin(hint)
    if origin is Annotated:
        inner, *extras = typing.get_args(hint)
        _bound(inner, value, keys)
        for check in extras:
            if isinstance(check, Check) and not check.test(value):
                raise Fault("value", keys, hint, value, check=check)
    elif origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            if option is not type(None) and _has_type(option, value, keys):
                _bound(option, value, keys)
                return
    elif origin in (list, tuple):
        inner = _item_hint(hint)
        for item in value:  # a bad item is named by the list's key and shown itself
            _bound(inner, item, keys)


def _has_type(hint: Any, value: Any, keys: Keys) -> bool:
    try:
        _convert(hint, value, keys)
    except Fault:
        return False
    return True


def _item_hint(hint: Any) -> Any:
    """``X`` of ``list[X]`` or ``tuple[X, ...]``."""
    return (typing.get_args(hint) or (Any,))[0]


def _is_table(hint: Any) -> bool:
    return dataclasses.is_dataclass(hint) or typing.get_origin(hint) is dict or hint is dict


def _is_table_array(hint: Any) -> bool:
    return typing.get_origin(hint) in (list, tuple) and _is_table(_item_hint(hint))


def _checks(hint: Any) -> list[Check]:
    if typing.get_origin(hint) is not Annotated:
        return []
    return [c for c in typing.get_args(hint)[1:] if isinstance(c, Check)]


def _options(hint: Any) -> list[Any]:
    """The types a union allows, None left out (TOML cannot write it)."""
    return [o for o in typing.get_args(hint) if o is not type(None)]


# ----------------------------------------------------------------------------- wording


class Wording(ABC):
    """Turns a :class:`Fault` into the text after ``<path>: ``; subclasses choose words."""

    def say(self, fault: Fault) -> str:
        if fault.kind == "unknown":
            return self.unknown(fault.keys, fault.allowed)
        label = self.label(fault.keys, fault.hint)
        if fault.kind == "missing":
            return self.missing(label, fault.hint)
        if fault.kind == "type":
            return f"{label}: expected {self.noun(fault.hint)}, got {self.got(fault.value)}"
        check = fault.check
        if check is not None and check.says is not None:
            return f"{label}: {check.says(fault.value)}"
        expected = check.expected if check is not None else self.noun(fault.hint)
        return f"{label}: expected {expected}, got {fault.value!r}"

    @abstractmethod
    def label(self, keys: Keys, hint: Any) -> str:
        """The key as the reader knows it."""

    @abstractmethod
    def unknown(self, keys: Keys, allowed: tuple[str, ...]) -> str:
        """A key the table does not take."""

    @abstractmethod
    def missing(self, label: str, hint: Any) -> str:
        """A required key not given."""

    @abstractmethod
    def noun(self, hint: Any) -> str:
        """What a value of ``hint`` is."""

    def got(self, value: Any) -> str:
        """The value of a wrong type, as shown after ``got``."""
        return repr(value)


class Prose(Wording):
    """Words for hand-written files: ``[agent].envs: expected a list of strings, got str 'x'``.

    Keys are named as TOML writes them (``protocol``, ``[limits]``, ``[limits].cpus``,
    ``entrants[2].agent``, counting from 1); a wrong type shows the type it got.

    Args:
        missing: the words for a missing key, ``{noun}`` its type without an article
            (``missing required key (string)``, or a tournament's ``missing required string``).
    """

    def __init__(self, missing: str = "missing required key ({noun})") -> None:
        self.missing_words = missing

    def label(self, keys: Keys, hint: Any) -> str:
        head, *rest = keys
        if not rest:
            if _is_table(hint):
                return f"[{head}]"
            return f"[[{head}]]" if _is_table_array(hint) else str(head)
        text = str(head) if isinstance(rest[0], int) else f"[{head}]"
        for key in rest:
            text += f"[{key + 1}]" if isinstance(key, int) else f".{key}"
        return text

    def unknown(self, keys: Keys, allowed: tuple[str, ...]) -> str:
        listed = ", ".join(allowed)
        if len(keys) == 1:
            return f"unknown key '{keys[0]}' (expected one of: {listed})"
        return f"{self.label(keys, None)}: unknown key (expected one of: {listed})"

    def missing(self, label: str, hint: Any) -> str:
        if _is_table(hint):
            return f"missing {label} table"
        noun = re.sub(r"^an? ", "", self.noun(hint, checked=False))
        return f"{label}: {self.missing_words.format(noun=noun)}"

    def noun(self, hint: Any, *, checked: bool = True, plural: bool = False) -> str:
        origin = typing.get_origin(hint)
        if origin is Annotated:
            named = [c.expected for c in _checks(hint) if c.expected]
            if checked and named and not plural:
                return named[0]
            return self.noun(typing.get_args(hint)[0], checked=checked, plural=plural)
        if origin in (typing.Union, types.UnionType):
            return " or ".join(self.noun(o, checked=checked, plural=plural) for o in _options(hint))
        if origin is typing.Literal:
            return f"one of {list(typing.get_args(hint))}"
        if _is_table(hint):
            return "tables" if plural else "a table"
        if origin in (list, tuple) or hint in (list, tuple):
            items = self.noun(_item_hint(hint), plural=True)
            return f"{'lists' if plural else 'a list'} of {items}"
        words = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
        if hint in words:
            word = words[hint]
            return re.sub(r"^an? (.*)", r"\1s", word) if plural and hint is not bool else word
        return "values" if plural else "a value"

    def got(self, value: Any) -> str:
        return f"{type(value).__name__} {value!r}"


class Python(Wording):
    """Words for configs whose keys are Python fields: ``key 'alpha': expected float, got 'x'``.

    Types are named as Python writes them (``int | None``); unknown keys list the known
    ones sorted, as a reader scans them for the right spelling.
    """

    def label(self, keys: Keys, hint: Any) -> str:
        return f"key '{self.dotted(keys)}'"

    def dotted(self, keys: Keys) -> str:
        return "".join(
            f"[{k}]" if isinstance(k, int) else f".{k}" if i else k for i, k in enumerate(keys)
        )

    def unknown(self, keys: Keys, allowed: tuple[str, ...]) -> str:
        return f"unknown key '{self.dotted(keys)}' (known keys: {', '.join(sorted(allowed))})"

    def missing(self, label: str, hint: Any) -> str:
        return f"{label}: missing (expected {self.noun(hint)})"

    def noun(self, hint: Any) -> str:
        origin = typing.get_origin(hint)
        if origin is Annotated:
            named = [c.expected for c in _checks(hint) if c.expected]
            return named[0] if named else self.noun(typing.get_args(hint)[0])
        if origin in (typing.Union, types.UnionType):
            return " | ".join(
                "None" if o is type(None) else self.noun(o) for o in typing.get_args(hint)
            )
        if origin is typing.Literal:
            return "one of " + ", ".join(repr(c) for c in typing.get_args(hint))
        if _is_table(hint):
            return "a table"
        if origin in (list, tuple) or hint in (list, tuple):
            return f"a list of {self.noun(_item_hint(hint))}"
        return "any value" if hint is Any else getattr(hint, "__name__", str(hint))


PROSE = Prose()
PYTHON = Python()

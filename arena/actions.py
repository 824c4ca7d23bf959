"""Agents' actions: the legality check, and their form in the action log.

The runner turns an illegal action into a forfeit and :mod:`arena.agent_test`
into a failed assertion; both judge it with :func:`action_checker`, so the
conformance check is exactly as strict as a match. Each problem is worded twice:
``error`` as a match records it, ``advice`` for the agent's author, with the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ActionCheck", "IllegalAction", "action_checker", "from_log", "loggable"]


@dataclass(frozen=True)
class IllegalAction:
    """Why an action was refused."""

    error: str  # the forfeit's error text, stored with the match
    advice: str  # the same for the agent's author, saying what to return instead


# (action, mask or None) -> (the action as the env takes it, None) or (None, the problem)
ActionCheck = Callable[[Any, Any], tuple[Any, IllegalAction | None]]


def _type_name(action: Any) -> str:
    # A sandboxed agent's odd action arrives as a stand-in carrying its type's name.
    return getattr(action, "type_name", None) or type(action).__name__


def action_checker(space: Any) -> ActionCheck:
    """Build the check of actions in ``space`` (built once per seat, called every move).

    Discrete actions must be integers (Python, numpy, or 0-d integer arrays; never
    bools) in range and not masked out, and come back as a Python ``int``. Box
    actions must cast to the space's dtype and shape, be finite and in bounds, and
    come back as that array. Any other space is judged by ``space.contains``.
    """
    from gymnasium import spaces

    if isinstance(space, spaces.Discrete):
        start, n = int(space.start), int(space.n)

        def not_integer(action: Any, error: str) -> tuple[Any, IllegalAction]:
            return None, IllegalAction(
                error,
                f"act returned {type(action).__name__} {action!r:.80}; return a Python "
                f"or numpy integer for {space}",
            )

        def check_discrete(action: Any, mask: Any) -> tuple[Any, IllegalAction | None]:
            if isinstance(action, (bool, np.bool_)):
                return not_integer(action, f"expected an integer action, got bool {action!r}")
            if isinstance(action, (int, np.integer)):
                a = int(action)
            elif (
                isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu"
            ):
                a = int(action)
            else:
                shown = repr(action)[:80]
                return not_integer(
                    action, f"expected an integer action, got {_type_name(action)} {shown}"
                )
            if not start <= a < start + n:
                return None, IllegalAction(
                    f"action {a} is outside the action space {space}",
                    f"action {a} is outside {space}; return an integer in [{start}, {start + n})",
                )
            if mask is not None and not mask[a - start]:
                legal = (np.flatnonzero(np.asarray(mask)) + start).tolist()
                return None, IllegalAction(
                    f"action {a} is masked out (not legal in this position)",
                    f"action {a} is masked out (legal: {legal}); pick only actions "
                    "whose action_mask entry is 1",
                )
            return a, None

        return check_discrete

    if isinstance(space, spaces.Box):

        def check_box(action: Any, mask: Any) -> tuple[Any, IllegalAction | None]:
            try:
                arr = np.asarray(action, dtype=space.dtype)
            except (TypeError, ValueError):
                return None, IllegalAction(
                    f"expected an array of floats, got {_type_name(action)}",
                    f"act returned {type(action).__name__}; return a numpy array of {space.dtype}",
                )
            if arr.shape != space.shape:
                return None, IllegalAction(
                    f"expected an action of shape {space.shape}, got {arr.shape}",
                    f"action has shape {arr.shape}; {space} needs shape {space.shape}",
                )
            if not np.all(np.isfinite(arr)):
                return None, IllegalAction(
                    "action contains NaN or infinity",
                    "action contains NaN or infinity; return finite values",
                )
            if not space.contains(arr):
                return None, IllegalAction(
                    f"action {arr.tolist()} is outside the bounds of {space}",
                    f"action {arr.tolist()} is outside {space}; clip it to the bounds",
                )
            return arr, None

        return check_box

    def check_other(action: Any, mask: Any) -> tuple[Any, IllegalAction | None]:
        if not space.contains(action):
            return None, IllegalAction(
                f"action {action!r} is outside the action space {space}",
                f"action {action!r:.80} is not in {space}; return an element of the space",
            )
        return action, None

    return check_other


_NUMPY = (np.ndarray, np.generic)


def loggable(action: Any) -> Any:
    """An action as the log stores it (JSON): arrays become lists, numpy scalars Python ones."""
    if isinstance(action, _NUMPY):  # one test per move: this runs in the runner's hot loop
        return action.tolist()
    return action


def from_log(space: Any, logged: Any) -> Any:
    """The action the env takes for a logged one: lists go back to arrays of the space's dtype."""
    if isinstance(logged, list):
        return np.asarray(logged, dtype=space.dtype)
    return logged

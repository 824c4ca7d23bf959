"""Numbers in training output as people write them: ``episodes 51,700``, ``return -23.41``.

For the terminal only (the progress bar, ``arena train``'s summary line); the
CSV log and ``--json`` keep the values themselves.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable


def format_number(value: object) -> str:
    """Counts with thousands separators, other numbers in fixed notation, never ``5.17e+04``.

    ints: ``51,700``; floats of 1,000 and more: ``25,432``; from 0.01: two
    decimals (``-23.41``, ``0.05``); below: two significant digits (``0.0012``).
    Anything else is ``str(value)``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    if isinstance(value, numbers.Integral):  # NumPy's integers too
        return f"{int(value):,}"
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 0.01 or size == 0:
        return f"{value:.2f}"
    decimals = min(1 - math.floor(math.log10(size)), 10)
    return f"{value:.{decimals}f}"


def format_metrics(items: Iterable[tuple[str, object]], sep: str = ", ") -> str:
    """``name value`` pairs, each value through :func:`format_number`."""
    return sep.join(f"{name} {format_number(value)}" for name, value in items)

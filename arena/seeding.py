"""The one seed rule: every seed the arena hands out is derived from a root seed.

A match's seats, a series' games, a tournament's runs and the conformance
check's agents all get their seeds from :func:`derive_seed`, each with its own
integer keys. Stored matches depend on it (a replay resets the env with the
stored seed, and a rerun of a tournament must deal the same games), so the
rule must never change.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["derive_seed"]

_SEED_MASK = 0x7FFFFFFF  # 31 bits: a non-negative signed 32-bit int, which every library takes


@functools.lru_cache(maxsize=4096)  # pure, and the same keys recur across a series
def derive_seed(root: int, *keys: int) -> int:
    """A 31-bit seed for ``keys`` under ``root``, the same on every run and machine.

    ``np.random.SeedSequence([root, *keys])`` hashes the entropy words into a
    pool, mixing every bit of every word into every output word, so seeds for
    neighbouring keys (seat 0 and seat 1, game 7 and game 8) are as unrelated as
    independent draws, not ``root + k``. The first 32-bit word of its state,
    masked to 31 bits, is the seed.

    Keys are positional: ``derive_seed(s, 1, 2)`` and ``derive_seed(s, 2, 1)``
    differ. A trailing zero key may not: entropy shorter than the pool (four
    32-bit words) is padded with zeros, so ``derive_seed(s, 1) ==
    derive_seed(s, 1, 0)``. Tell uses of one root apart by a leading key, never
    by a trailing 0.
    """
    state = np.random.SeedSequence([root, *keys]).generate_state(1)[0]
    return int(state & _SEED_MASK)

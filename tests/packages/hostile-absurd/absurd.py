"""Returns an absurd action from its first act; the kind is in ``kind.txt``.

``bigint``: ``10**5000``; ``inf``: ``float('inf')``; ``deep``: a list nested
10,000 deep; ``ndarray-inf``: ``np.array([1e308 * 10])``.
"""

from pathlib import Path

import numpy as np

_KIND_FILE = Path(__file__).resolve().with_name("kind.txt")
KIND = _KIND_FILE.read_text().strip() if _KIND_FILE.exists() else "bigint"


def absurd(kind):
    if kind == "bigint":
        return 10**5000
    if kind == "inf":
        return float("inf")
    if kind == "deep":
        value = [0]
        for _ in range(10_000):
            value = [value]
        return value
    if kind == "ndarray-inf":
        return np.array([1e308 * 10])
    raise ValueError(f"unknown kind {kind!r}")


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        return absurd(KIND)


def make_agent(ctx):
    return Agent()

"""A second module of the package, imported by the entry module."""

import numpy as np


def first_legal(action_mask) -> int:
    return int(np.flatnonzero(action_mask)[0])

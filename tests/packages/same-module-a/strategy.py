"""Same module name in both same-module packages: this one picks the lowest legal action."""

import numpy as np

WHICH = "lowest"


def pick(action_mask) -> int:
    legal = np.flatnonzero(action_mask)
    return int(legal[0])

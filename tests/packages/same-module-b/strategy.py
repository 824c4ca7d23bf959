"""Same module name in both same-module packages: this one picks the highest legal action."""

import numpy as np

WHICH = "highest"


def pick(action_mask) -> int:
    legal = np.flatnonzero(action_mask)
    return int(legal[-1])

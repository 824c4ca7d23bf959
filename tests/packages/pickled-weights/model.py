"""The class the pickled weights are an instance of."""

import numpy as np


class Preference:
    """Plays the legal action that comes first in ``order``."""

    def __init__(self, order):
        self.order = list(order)

    def pick(self, action_mask) -> int:
        legal = set(np.flatnonzero(action_mask).tolist())
        return next(a for a in self.order if a in legal)

"""Both simple_tag roles, scripted: chase the prey straight on; as prey, flee and stay in.

The predator is the built-in tag-chaser's rule (the axis on which the prey is
farther away). The prey adds up "away from each predator" (1 / distance^2) and
a pull back to the middle past 0.6 on an axis, seen from where its velocity
takes it in a quarter of a second, then takes the closest move.
"""

import numpy as np

MOVES = np.array([[0.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])


def chase(observation):
    dx, dy = observation[12], observation[13]
    if abs(dx) >= abs(dy):
        return 2 if dx > 0 else 1
    return 4 if dy > 0 else 3


def flee(observation):
    shift = 0.25 * observation[0:2]  # plan from where its velocity takes it
    position = observation[2:4] + shift
    want = np.zeros(2)
    for rel in observation[8:14].reshape(3, 2) - shift:
        want -= rel / max(float(rel @ rel), 1e-3)
    for axis in range(2):
        over = abs(position[axis]) - 0.6
        if over > 0:
            want[axis] -= np.sign(position[axis]) * 8.0 * over * (1.0 + np.linalg.norm(want))
    return int(np.argmax(MOVES @ want))


class Hunter:
    def __init__(self, prey):
        self.prey = prey

    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        observation = np.asarray(observation, dtype=float)
        return flee(observation) if self.prey else chase(observation)


def make_agent(ctx):
    return Hunter(ctx.role != "adversary")

"""Entry module named agent.py in both same-module packages."""

import strategy

PACKAGE = "same-module-b"


class Agent:
    def __init__(self):
        self.which = strategy.WHICH

    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        return strategy.pick(action_mask)


def make_agent(ctx):
    return Agent()

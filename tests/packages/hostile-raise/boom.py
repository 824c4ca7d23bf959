"""Raises in act."""


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        raise ZeroDivisionError("hostile-raise: act blew up on purpose")


def make_agent(ctx):
    return Agent()

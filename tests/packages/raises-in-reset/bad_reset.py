"""reset raises."""


class Agent:
    def reset(self, *, seed=None):
        raise KeyError("raises-in-reset: deliberate failure in reset")

    def act(self, observation, *, action_mask=None):
        return 0


def make_agent(ctx):
    return Agent()

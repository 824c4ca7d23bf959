"""act raises."""


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        raise RuntimeError("raises-in-act: deliberate failure in act")


def make_agent(ctx):
    return Agent()

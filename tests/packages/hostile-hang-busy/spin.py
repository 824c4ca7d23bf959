"""Never returns from act: a busy loop, so only a kill from outside stops it."""


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        while True:
            pass


def make_agent(ctx):
    return Agent()

"""Never returns from act in practice: sleeps 1000 s."""

import time


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        time.sleep(1000)
        return 0


def make_agent(ctx):
    return Agent()

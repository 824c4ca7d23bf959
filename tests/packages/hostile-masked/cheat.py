"""Plays the first action the mask forbids (or an out-of-range one if none is)."""


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        banned = [i for i, ok in enumerate(action_mask) if not ok]
        return banned[0] if banned else len(action_mask)


def make_agent(ctx):
    return Agent()

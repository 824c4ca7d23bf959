"""Continuous MPE actions: a constant list of floats (contract: a list is allowed)."""


class Agent:
    def __init__(self, ctx):
        self.size = int(ctx.action_space.shape[0]) if ctx.action_space.shape else 1

    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        return [0.25] * self.size


def make_agent(ctx):
    print(f"box-agent make_agent {ctx.agent_id} {ctx.role}")
    return Agent(ctx)

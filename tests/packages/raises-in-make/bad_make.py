"""make_agent raises."""


def make_agent(ctx):
    raise ValueError("raises-in-make: deliberate failure in make_agent")

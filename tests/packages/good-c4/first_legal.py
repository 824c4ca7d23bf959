"""Plays the first legal action; prints to stdout in act and to stderr in make_agent."""

import sys

from good_c4_helper import first_legal


class FirstLegal:
    def __init__(self, ctx):
        self.agent_id = ctx.agent_id
        self.greeting = (ctx.package_dir / "greeting.txt").read_text().strip()

    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        action = first_legal(action_mask)
        print(f"{self.greeting}: {self.agent_id} plays {action}")
        return action


def make_agent(ctx):
    print(f"good-c4 make_agent {ctx.agent_id}", file=sys.stderr)
    return FirstLegal(ctx)

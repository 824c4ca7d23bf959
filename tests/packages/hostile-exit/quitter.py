"""Exits its process from inside act, skipping every cleanup."""

import os


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        os._exit(3)


def make_agent(ctx):
    return Agent()

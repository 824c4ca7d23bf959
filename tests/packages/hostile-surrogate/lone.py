"""Prints bytes that are not UTF-8, then raises ValueError("\\ud800 ...") in act."""

import os


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        os.write(1, b"hostile-surrogate out \xed\xa0\x80 \xff\xfe \xc3\n")
        raise ValueError("hostile-surrogate \ud800 lone surrogate \udfff end")


def make_agent(ctx):
    return Agent()

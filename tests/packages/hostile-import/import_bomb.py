"""Fails at import time."""

raise ImportError("hostile-import: this module refuses to load")


def make_agent(ctx):  # never reached
    raise AssertionError

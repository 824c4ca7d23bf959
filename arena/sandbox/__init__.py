"""Sandboxed agent workers: one process tree per package, framed messages over a socket.

Kept light on purpose: the worker imports this package before the agent's code.
"""

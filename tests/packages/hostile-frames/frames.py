"""Writes a malformed frame to every socket it holds during its first act.

The kind is in ``kind.txt`` next to this file:

- ``deep``: 4-byte length + a JSON array nested 100,000 deep;
- ``bigint``: a reply whose integer action has 5,000 digits;
- ``inf``: a float action written ``1e999``;
- ``array-inf``: an array action whose element is ``1e308*10`` (``1e309``);
- ``header-4g``: a header claiming 4 GiB, then a few bytes;
- ``truncated``: a header claiming 1,000 bytes, 10 of them, then silence (act sleeps).

Apart from ``truncated`` it then returns a legal move, as if nothing happened.
"""

import os
import select
import socket
import stat
import time
from pathlib import Path

_KIND_FILE = Path(__file__).resolve().with_name("kind.txt")
KIND = _KIND_FILE.read_text().strip() if _KIND_FILE.exists() else "deep"


def _framed(body):
    return len(body).to_bytes(4, "big") + body


def payload(kind):
    if kind == "deep":
        return _framed(b"[" * 100_000 + b"]" * 100_000)
    if kind == "bigint":
        return _framed(b'{"action": {"t": "int", "v": ' + b"7" * 5000 + b"}}")
    if kind == "inf":
        return _framed(b'{"action": {"t": "float", "v": 1e999}}')
    if kind == "array-inf":
        return _framed(b'{"action": {"t": "array", "dtype": "<f8", "shape": [1], "v": [1e309]}}')
    if kind == "header-4g":
        return b"\xff\xff\xff\xff" + b'{"action": {"t": "int", "v": 0}}'
    if kind == "truncated":
        return (1000).to_bytes(4, "big") + b'{"action":'
    raise ValueError(f"unknown kind {kind!r}")


def sockets():
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if stat.S_ISSOCK(os.fstat(int(name)).st_mode):
                found.append(int(name))
        except OSError:
            pass
    return found


def write_everywhere(data):
    """Send ``data`` to every socket, never changing their blocking mode; 5 s at most."""
    for fd in sockets():
        sock = socket.socket(fileno=os.dup(fd))
        deadline = time.monotonic() + 5
        view = memoryview(data)
        try:
            while view and time.monotonic() < deadline:
                _, ready, _ = select.select([], [sock], [], 0.1)
                if ready:
                    view = view[sock.send(view, socket.MSG_DONTWAIT) :]
        except OSError:
            pass
        finally:
            sock.close()


class Agent:
    def __init__(self):
        self.done = False

    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        if not self.done:
            self.done = True
            write_everywhere(payload(KIND))
            if KIND == "truncated":
                time.sleep(1000)
        return next(i for i, ok in enumerate(action_mask) if ok)


def make_agent(ctx):
    return Agent()

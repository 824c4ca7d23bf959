"""Messes with the socket its requests arrive on; the mode is in ``mode.txt``.

- ``peek``: a thread started in make_agent peeks (MSG_PEEK) at every socket in a
  loop and never consumes; act spins peeking too and never returns;
- ``steal``: a thread started in make_agent reads and throws away everything
  that arrives on every socket, so whoever waits for requests starves;
- ``silent``: act shrinks the receive buffer, shuts its sockets' read side and
  sleeps: it stops reading entirely;
- ``close``: act closes every socket it holds, then returns a legal move.
"""

import os
import select
import socket
import stat
import threading
import time
from pathlib import Path

_MODE_FILE = Path(__file__).resolve().with_name("mode.txt")
MODE = _MODE_FILE.read_text().strip() if _MODE_FILE.exists() else "peek"


def sockets():
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if stat.S_ISSOCK(os.fstat(int(name)).st_mode):
                found.append(int(name))
        except OSError:
            pass
    return found


def _peek_forever():
    socks = [socket.socket(fileno=os.dup(fd)) for fd in sockets()]
    while True:
        ready, _, _ = select.select(socks, [], [], 0.05)
        for sock in ready:
            try:
                sock.recv(1 << 16, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except OSError:
                pass
        time.sleep(0.001)


def _steal_forever():
    socks = [socket.socket(fileno=os.dup(fd)) for fd in sockets()]
    while True:
        ready, _, _ = select.select(socks, [], [], 0.05)
        for sock in ready:
            try:
                sock.recv(1 << 16, socket.MSG_DONTWAIT)
            except OSError:
                pass


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        if MODE == "peek":
            _peek_forever()
        elif MODE == "silent":
            for fd in sockets():
                sock = socket.socket(fileno=os.dup(fd))
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
                    sock.shutdown(socket.SHUT_RD)
                except OSError:
                    pass
                finally:
                    sock.close()
            time.sleep(1000)
        elif MODE == "close":
            for fd in sockets():
                try:
                    os.close(fd)
                except OSError:
                    pass
        return next(i for i, ok in enumerate(action_mask) if ok)


def make_agent(ctx):
    if MODE in ("peek", "steal"):
        target = _peek_forever if MODE == "peek" else _steal_forever
        threading.Thread(target=target, daemon=True).start()
    return Agent()

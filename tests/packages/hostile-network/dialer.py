"""Tries to reach the outside, prints the outcome of each attempt, plays legal moves.

A test writes ``port.txt`` (a TCP port listening on 127.0.0.1 in the arena's
network namespace) into a copy of this package, and may write ``unix.txt``: the
path of a unix socket listening on the host's file system. Each line:
``CONNECTED <what>`` or ``FAILED <what>: <error>``.
"""

import socket
from pathlib import Path


def _tcp(host, port):
    with socket.create_connection((host, port), timeout=0.5) as conn:
        conn.sendall(b"hostile-network says hello\n")


def _udp(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"hostile-network says hello\n", (host, port))


def _unix(address):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        sock.connect(address)
        sock.sendall(b"hostile-network says hello\n")


def _dns(name):
    socket.getaddrinfo(name, 80)


def _try(label, fn, *args):
    try:
        fn(*args)
        print(f"CONNECTED {label}")
    except OSError as exc:
        print(f"FAILED {label}: {exc}")


class Agent:
    def __init__(self, package_dir):
        self.package_dir = Path(package_dir)
        self.done = False

    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        if not self.done:
            self.done = True
            port_file = self.package_dir / "port.txt"
            port = int(port_file.read_text()) if port_file.exists() else 9
            _try(f"tcp 127.0.0.1:{port}", _tcp, "127.0.0.1", port)
            _try(f"udp 127.0.0.1:{port}", _udp, "127.0.0.1", port)
            _try("tcp 1.1.1.1:53", _tcp, "1.1.1.1", 53)
            _try("dns example.com", _dns, "example.com")
            _try(f"abstract unix @hostile-arena-{port}", _unix, f"\0hostile-arena-{port}")
            unix_file = self.package_dir / "unix.txt"
            if unix_file.exists():
                path = unix_file.read_text().strip()
                _try(f"unix {path}", _unix, path)
        return next(i for i, ok in enumerate(action_mask) if ok)


def make_agent(ctx):
    return Agent(ctx.package_dir)

"""Tries every way out through sockets it can think of; reports in its error text.

In make_agent (set-up time) it finds socket files (its own folder, /tmp, /run, /var/run,
/dev, then a bounded walk of ``/``, plus the paths in /proc/net/unix) and tries
to connect to each one named ``hostile*`` (the others are only listed: it
never pokes a real daemon); then socketpair(SOCK_DGRAM) and (SOCK_SEQPACKET),
io_uring_setup (syscall 425 on x86_64) and AF_NETLINK sockets. Each attempt is a
line ``TRY <what>`` followed by ``OK <what>`` or ``DENIED <what>: <error>``;
``INFO`` lines are things expected to work. The report is printed, and raised
in its first act.
"""

import ctypes
import os
import platform
import socket
import stat
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPORT = []


def say(line):
    REPORT.append(line)


def attempt(what, fn):
    say(f"TRY {what}")
    try:
        result = fn()
    except OSError as exc:
        say(f"DENIED {what}: {exc.strerror or exc} (errno {exc.errno})")
        return None
    say(f"OK {what}")
    return result


def socket_files(package_dir, seconds=6.0):
    found = []
    deadline = time.monotonic() + seconds
    for top in (str(package_dir), "/tmp", "/run", "/var/run", "/dev", "/"):
        for root, dirs, files in os.walk(top):
            if time.monotonic() > deadline:
                break
            if root == "/":
                dirs[:] = [d for d in dirs if d not in ("proc", "sys")]
            dirs[:] = [d for d in dirs if d not in ("__pycache__", "site-packages")]
            for name in files + dirs:
                path = os.path.join(root, name)
                try:
                    if stat.S_ISSOCK(os.lstat(path).st_mode) and path not in found:
                        found.append(path)
                except OSError:
                    pass
    try:
        with open("/proc/net/unix") as table:
            for line in table.read().splitlines()[1:]:
                parts = line.split()
                if len(parts) >= 8 and parts[7].startswith("/") and parts[7] not in found:
                    found.append(parts[7])
    except OSError as exc:
        say(f"INFO /proc/net/unix unreadable: {exc}")
    return found


def connect(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(2)
        sock.connect(path)
    finally:
        sock.close()


def io_uring_setup():
    if platform.machine() != "x86_64":
        raise OSError(0, "not x86_64, skipped")
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)
    fd = libc.syscall(425, 4, params)
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    os.close(fd)


def netlink(kind, proto):
    sock = socket.socket(socket.AF_NETLINK, kind, proto)
    sock.close()


def pair(kind):
    a, b = socket.socketpair(socket.AF_UNIX, kind)
    a.close()
    b.close()


def probe(package_dir):
    paths = socket_files(package_dir)
    say(f"INFO {len(paths)} socket files found")
    for path in paths[:200]:
        # Only the sockets planted for it: never poke a real daemon of the machine.
        if "hostile" in os.path.basename(path):
            attempt(f"connect {path}", lambda path=path: connect(path))
        else:
            say(f"INFO seen {path}")
    attempt("socket(AF_UNIX, SOCK_STREAM)", lambda: socket.socket(socket.AF_UNIX).close())
    attempt(
        "socket(AF_UNIX, SOCK_DGRAM)",
        lambda: socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).close(),
    )
    attempt("socketpair(AF_UNIX, SOCK_DGRAM)", lambda: pair(socket.SOCK_DGRAM))
    attempt("socketpair(AF_UNIX, SOCK_SEQPACKET)", lambda: pair(socket.SOCK_SEQPACKET))
    attempt("io_uring_setup", io_uring_setup)
    attempt("socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)", lambda: netlink(socket.SOCK_RAW, 0))
    attempt(
        "socket(AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT)",
        lambda: netlink(socket.SOCK_DGRAM, 15),
    )
    try:
        pair(socket.SOCK_STREAM)
        say("INFO socketpair(AF_UNIX, SOCK_STREAM) works")
    except OSError as exc:
        say(f"INFO socketpair(AF_UNIX, SOCK_STREAM) failed: {exc}")


class Agent:
    def __init__(self, package_dir):
        self.package_dir = package_dir

    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        report = "\n".join(REPORT)
        print(report)
        raise RuntimeError("hostile-sockets report\n" + report + "\nhostile-sockets end")


def make_agent(ctx):
    if not REPORT:
        probe(ctx.package_dir)
    return Agent(ctx.package_dir)

"""The worker's seccomp filter; each check runs in a forked child (a filter is forever)."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import re
import socket
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from arena.sandbox import seccomp
from arena.sandbox.seccomp import DENIED, install_filter

MACHINE = platform.machine()
pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or MACHINE not in ("x86_64", "aarch64"),
    reason=f"the filter exists for Linux on x86_64 and aarch64 only ({sys.platform}, {MACHINE})",
)

# Syscall numbers, written out independently of the module's table.
NR = {
    "x86_64": {"io_uring_setup": 425, "keyctl": 250, "ptrace": 101, "unshare": 272,
               "clone": 56, "clone3": 435, "personality": 135, "mount": 165, "bpf": 321},
    "aarch64": {"io_uring_setup": 425, "keyctl": 219, "ptrace": 117, "unshare": 97,
                "clone": 220, "clone3": 435, "personality": 92, "mount": 40, "bpf": 280},
}.get(MACHINE, {})  # fmt: skip
CLONE_NEWUSER, CLONE_NEWNET, SIGCHLD = 0x10000000, 0x40000000, 17
AF_NETLINK, AF_PACKET = 16, 17
ALL_ONES = 2**64 - 1  # -1 in every argument: harmless should a call get through


def syscall(nr: int, *args: int) -> str:
    """A raw syscall(2): "ok", or the name of the errno it failed with."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    result = libc.syscall(ctypes.c_long(nr), *(ctypes.c_ulong(a) for a in args))
    return "ok" if result != -1 else errno.errorcode[ctypes.get_errno()]


def raw_clone(flags: int) -> str:
    """clone(flags, 0, 0, 0, 0) as a raw syscall (fork-like); the child exits at once."""
    libc = ctypes.CDLL(None, use_errno=True)
    pid = libc.syscall(
        ctypes.c_long(NR["clone"]), *(ctypes.c_ulong(a) for a in (flags, 0, 0, 0, 0))
    )
    if pid == 0:
        os._exit(0)
    if pid < 0:
        return errno.errorcode[ctypes.get_errno()]
    os.waitpid(pid, 0)
    return "ok"


def attempt(fn: Callable[[], object]) -> str:
    try:
        fn()
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    return "ok"


def run_child(body: Callable[[], dict[str, Any]], *, install: bool = True) -> dict[str, Any]:
    """Fork; in the child install the filter (if ``install``), run ``body`` and send
    back its dict. The test process itself is never filtered."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        try:
            os.close(read_end)
            os.setsid()  # no controlling terminal, should vhangup() get through
            reason = install_filter() if install else None
            result = {"skip": reason} if reason is not None else body()
        except BaseException:
            result = {"error": traceback.format_exc()}
        try:
            with os.fdopen(write_end, "w") as pipe:
                json.dump(result, pipe)
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    out: dict[str, Any] = json.loads(text)
    assert "error" not in out, out["error"]
    if "skip" in out:
        pytest.skip(f"filter not installed: {out['skip']}")
    return out


def test_every_listed_syscall_fails_with_eperm() -> None:
    col = 0 if MACHINE == "x86_64" else 1
    calls: dict[str, int] = {}
    for name, *numbers in seccomp._DENY:
        nr = numbers[col]
        if nr is not None:
            calls[name] = nr

    def body() -> dict[str, Any]:
        return {name: syscall(nr, *[ALL_ONES] * 6) for name, nr in calls.items()}

    out = run_child(body)
    assert out == dict.fromkeys(calls, "EPERM")
    assert len(out) >= 50


def test_named_calls_fail_with_the_right_errno() -> None:
    def body() -> dict[str, Any]:
        params = ctypes.create_string_buffer(120)  # struct io_uring_params
        out = {
            "io_uring_setup": syscall(NR["io_uring_setup"], 8, ctypes.addressof(params)),
            # keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)
            "keyctl": syscall(NR["keyctl"], 0, 2**64 - 3, 0),
            "ptrace": syscall(NR["ptrace"], 0, 0, 0, 0),  # PTRACE_TRACEME
            "unshare": syscall(NR["unshare"], CLONE_NEWUSER),
            "clone3": syscall(NR["clone3"], 0, 0),
            "bpf": syscall(NR["bpf"], 0, 0, 0),
            "mount": syscall(NR["mount"], 0, 0, 0, 0, 0),
            "personality query": syscall(NR["personality"], 0xFFFFFFFF),
            "personality 0": syscall(NR["personality"], 0),
            "personality ADDR_NO_RANDOMIZE": syscall(NR["personality"], 0x0040000),
        }
        out["clone"] = raw_clone(SIGCHLD)
        out["clone NEWNET"] = raw_clone(CLONE_NEWNET | SIGCHLD)
        return out

    assert run_child(body) == {
        "io_uring_setup": "EPERM",
        "keyctl": "EPERM",
        "ptrace": "EPERM",
        "unshare": "EPERM",
        "clone3": "ENOSYS",
        "bpf": "EPERM",
        "mount": "EPERM",
        "personality query": "ok",
        "personality 0": "ok",
        "personality ADDR_NO_RANDOMIZE": "EPERM",
        "clone": "ok",
        "clone NEWNET": "EPERM",
    }


def sock(family: int, kind: int = socket.SOCK_STREAM) -> str:
    def make() -> None:
        socket.socket(family, kind).close()

    return attempt(make)


def pair(kind: int = socket.SOCK_STREAM) -> str:
    def make() -> None:
        for end in socket.socketpair(socket.AF_UNIX, kind):
            end.close()

    return attempt(make)


def socket_probes() -> dict[str, Any]:
    return {
        "unix": sock(socket.AF_UNIX),
        "unix dgram": sock(socket.AF_UNIX, socket.SOCK_DGRAM),
        "netlink": sock(AF_NETLINK, socket.SOCK_RAW),
        "packet": sock(AF_PACKET, socket.SOCK_DGRAM),
        "inet": sock(socket.AF_INET),
        "inet6 udp": sock(socket.AF_INET6, socket.SOCK_DGRAM),
        "pair": pair(),
        "pair nonblock cloexec": pair(
            socket.SOCK_STREAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC
        ),
        "pair dgram": pair(socket.SOCK_DGRAM),
        "pair seqpacket": pair(socket.SOCK_SEQPACKET),
    }


def test_sockets() -> None:
    assert run_child(socket_probes) == {
        "unix": "EPERM",
        "unix dgram": "EPERM",
        "netlink": "EPERM",
        "packet": "EPERM",
        "inet": "EPERM",
        "inet6 udp": "EPERM",
        "pair": "ok",
        "pair nonblock cloexec": "ok",
        "pair dgram": "EPERM",
        "pair seqpacket": "EPERM",
    }


def test_without_the_filter_the_probes_get_through() -> None:
    """The control: the results above come from the filter, not from this host."""

    def body() -> dict[str, Any]:
        sockets = socket_probes()
        return {
            "clone3": syscall(NR["clone3"], 0, 0),  # EINVAL: size 0
            "keyctl": syscall(NR["keyctl"], ALL_ONES),  # EOPNOTSUPP: no such command
            **{k: sockets[k] for k in ("unix", "pair dgram", "pair seqpacket")},
        }

    out = run_child(body, install=False)
    assert out["clone3"] != "ENOSYS" and out["keyctl"] != "EPERM", out
    assert out["unix"] == out["pair dgram"] == out["pair seqpacket"] == "ok"


def test_ordinary_work_still_runs() -> None:
    def body() -> dict[str, Any]:
        import multiprocessing

        import gymnasium
        import numpy

        box: list[int] = []
        thread = threading.Thread(target=lambda: box.append(1))  # clone3 -> ENOSYS -> clone
        thread.start()
        thread.join()
        pid = os.fork()
        if pid == 0:
            os._exit(7)
        a, b = multiprocessing.Pipe()
        a.send("hi")
        spawned = os.posix_spawn("/bin/true", ["/bin/true"], dict(os.environ))
        status = Path("/proc/self/status").read_text()
        return {
            "thread": box,
            "fork": os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]),
            "subprocess": subprocess.run(["/bin/true"]).returncode,
            "posix_spawn": os.waitstatus_to_exitcode(os.waitpid(spawned, 0)[1]),
            "pipe": b.recv(),
            "numpy": float((numpy.ones((64, 64)) @ numpy.ones((64, 64))).sum()),
            "gymnasium": int(gymnasium.spaces.Discrete(3).n),
            "seccomp mode": re.findall(r"^(Seccomp|NoNewPrivs):\s*(\d)", status, re.M),
        }

    assert run_child(body) == {
        "thread": [1],
        "fork": 7,
        "subprocess": 0,
        "posix_spawn": 0,
        "pipe": "hi",
        "numpy": 64.0**3,
        "gymnasium": 3,
        "seccomp mode": [["NoNewPrivs", "1"], ["Seccomp", "2"]],
    }


@pytest.mark.slow  # a cold import of torch alone can take 10 s
def test_torch_runs_with_threads() -> None:
    pytest.importorskip("torch")

    def body() -> dict[str, Any]:
        import torch

        torch.set_num_threads(2)
        x = torch.ones(256, 256)
        return {"sum": float((x @ x).sum())}

    assert run_child(body) == {"sum": 256.0**3}


def test_threads_started_before_the_filter_are_filtered() -> None:
    """TSYNC: a thread already running (numpy's, say) gets the filter too."""

    def body() -> dict[str, Any]:
        go = threading.Event()
        out: dict[str, Any] = {}

        def early() -> None:
            go.wait()
            out["unix"] = sock(socket.AF_UNIX)
            out["unshare"] = syscall(NR["unshare"], CLONE_NEWUSER)
            status = Path("/proc/thread-self/status").read_text()
            out["mode"] = re.findall(r"^Seccomp:\s*(\d)", status, re.M)

        thread = threading.Thread(target=early)
        thread.start()
        reason = install_filter()
        go.set()
        thread.join()
        return {"skip": reason} if reason is not None else out

    assert run_child(body, install=False) == {"unix": "EPERM", "unshare": "EPERM", "mode": ["2"]}


@pytest.mark.skipif(MACHINE != "x86_64", reason="x86_64 machine code")
def test_32_bit_and_x32_system_calls_are_denied() -> None:
    """``int 0x80`` from a 64-bit process is the i386 ABI, with other numbers, and x32
    is the native numbers with bit 30 set: both are denied whole."""

    def body() -> dict[str, Any]:
        import mmap

        code = {
            # push rbx; eax=359 (i386 socket); ebx=AF_UNIX; ecx=SOCK_STREAM; edx=0; int 0x80
            "i386 socket": "53 b8 67 01 00 00 bb 01 00 00 00 b9 01 00 00 00 31 d2 cd 80 5b c3",
            "i386 getpid": "b8 14 00 00 00 cd 80 c3",  # eax=20; int 0x80
            # eax=0x40000029 (x32 socket); edi=AF_UNIX; esi=SOCK_STREAM; edx=0; syscall
            "x32 socket": "b8 29 00 00 40 bf 01 00 00 00 be 01 00 00 00 31 d2 0f 05 c3",
            "x32 getpid": "b8 27 00 00 40 0f 05 c3",  # eax=0x40000027; syscall
        }
        out = {}
        for name, hexcode in code.items():
            page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
            page.write(bytes.fromhex(hexcode))
            address = ctypes.addressof(ctypes.c_char.from_buffer(page))
            out[name] = ctypes.CFUNCTYPE(ctypes.c_int)(address)()
        return out

    minus_eperm = -errno.EPERM
    assert run_child(body) == dict.fromkeys(
        ["i386 socket", "i386 getpid", "x32 socket", "x32 getpid"], minus_eperm
    )


def _header_numbers(path: Path) -> dict[str, int]:
    text = path.read_text()
    return {m[1]: int(m[2]) for m in re.finditer(r"^#define __NR_(\w+)\s+(\d+)\s*$", text, re.M)}


@pytest.mark.parametrize(
    ("col", "headers"),
    [
        (0, ["/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h"]),
        (1, ["/usr/include/asm-generic/unistd.h"]),  # aarch64 uses the generic table
    ],
    ids=["x86_64", "aarch64"],
)
def test_numbers_match_the_kernel_headers(col: int, headers: list[str]) -> None:
    found = [Path(h) for h in headers if Path(h).is_file()]
    if not found or (col == 0 and "__NR_arch_prctl" not in found[0].read_text()):
        pytest.skip(f"no x86_64/generic kernel headers here ({', '.join(headers)})")
    numbers = _header_numbers(found[0])
    table = [(name, nrs[col]) for name, *nrs in seccomp._DENY]
    table += [("clone3", seccomp._CLONE3[col]), ("clone", seccomp._CLONE[col])]
    table += [("personality", seccomp._PERSONALITY[col]), ("socket", seccomp._SOCKET[col])]
    table += [("socketpair", seccomp._SOCKETPAIR[col])]
    machine = "x86_64" if col == 0 else "aarch64"
    table += [("seccomp", seccomp._ARCHES[machine][2])]
    # Calls newer than the headers (open_tree_attr is 6.15) cannot be checked here.
    checked = {name: nr for name, nr in table if nr is None or name in numbers}
    assert checked == {name: numbers.get(name) for name in checked}
    assert len(checked) >= len(table) - 2


def test_program_layout() -> None:
    """Both programs build; jumps stay in 8 bits and inside the program."""
    for machine in ("x86_64", "aarch64"):
        program = seccomp._program(machine)
        assert program[-1] == (seccomp.RET, 0, 0, seccomp.ALLOW)
        assert all(0 <= jt <= 255 and 0 <= jf <= 255 for _, jt, jf, _ in program)
    for name in ("io_uring_setup", "keyctl", "ptrace", "unshare", "bpf", "mount", "chroot"):
        assert name in DENIED
    with pytest.raises(ValueError):
        seccomp._jump(seccomp.JEQ, 0, 256, 0)

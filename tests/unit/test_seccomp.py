"""The worker's unix-socket filter, each check in a fresh interpreter (a filter is forever)."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = """
import json, os, socket, sys
from arena.sandbox.seccomp import deny_unix_sockets
{before}
reason = deny_unix_sockets()
if reason is not None:
    print(json.dumps({"reason": reason}))
    sys.exit(0)
out = {}
def attempt(name, fn):
    try:
        fn()
        out[name] = "ok"
    except OSError as exc:
        out[name] = type(exc).__name__
"""


def run_filtered(body: str, before: str = "") -> dict[str, Any]:
    """Run ``before``, install the filter, run ``body``; return the ``out`` dict."""
    code = PRELUDE.replace("{before}", textwrap.dedent(before)) + textwrap.dedent(body)
    code += "\nprint(json.dumps(out))\n"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if "reason" in out:
        pytest.skip(f"filter not installed: {out['reason']}")
    return out


def test_only_unix_sockets_are_denied() -> None:
    out = run_filtered(
        """
        attempt("unix stream", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close())
        attempt("unix dgram", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).close())
        attempt("socketpair", lambda: [s.close() for s in socket.socketpair()])
        attempt("inet", lambda: socket.socket(socket.AF_INET).close())
        attempt("inet udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close())
        import numpy, gymnasium
        out["imports"] = int(gymnasium.spaces.Discrete(3).n)
        """
    )
    assert out == {
        "unix stream": "PermissionError",
        "unix dgram": "PermissionError",
        "socketpair": "ok",
        "inet": "ok",
        "inet udp": "ok",
        "imports": 3,
    }


def test_threads_and_children_are_filtered() -> None:
    """Even a thread that was already running (numpy's, say) gets the filter."""
    out = run_filtered(
        before="""
        import threading
        go = threading.Event()
        def early():
            go.wait()
            attempt("thread", lambda: socket.socket(socket.AF_UNIX).close())
        thread = threading.Thread(target=early)
        thread.start()
        """,
        body="""
        go.set()
        thread.join()
        pid = os.fork()
        if pid == 0:
            try:
                socket.socket(socket.AF_UNIX)
                os._exit(0)
            except PermissionError:
                os._exit(3)
        out["child"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        """,
    )
    assert out == {"thread": "PermissionError", "child": 3}


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x86_64 machine code")
def test_32_bit_and_x32_system_calls_are_filtered() -> None:
    """``int 0x80`` from a 64-bit process is the i386 ABI, with other numbers: a filter
    that only knew the native ones would let socket(AF_UNIX) through."""
    out = run_filtered(
        """
        import ctypes, mmap
        CODE = {
            # push rbx; eax=359 (i386 socket); ebx=AF_UNIX; ecx=SOCK_STREAM; edx=0; int 0x80
            "i386": "53 b8 67 01 00 00 bb 01 00 00 00 b9 01 00 00 00 31 d2 cd 80 5b c3",
            # eax=0x40000029 (x32 socket); edi=AF_UNIX; esi=SOCK_STREAM; edx=0; syscall
            "x32": "b8 29 00 00 40 bf 01 00 00 00 be 01 00 00 00 31 d2 0f 05 c3",
        }
        for name, hexcode in CODE.items():
            page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
            page.write(bytes.fromhex(hexcode))
            address = ctypes.addressof(ctypes.c_char.from_buffer(page))
            result = ctypes.CFUNCTYPE(ctypes.c_int)(address)()
            if result >= 0:
                os.close(result)
            out[name] = result
        """
    )
    assert out == {"i386": -1, "x32": -1}  # -EPERM

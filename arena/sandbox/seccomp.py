"""A seccomp filter that keeps the worker away from unix sockets on the host.

A network namespace closes the network and abstract unix sockets, but not unix
sockets on the file system (a container daemon's, PostgreSQL's): ``connect``
needs only write permission on the file, which the worker's uid 0 has even with
every capability dropped. The worker installs this filter first thing: from then
on ``socket(AF_UNIX, ...)`` fails with EPERM in every thread of it and in every
process it starts. ``socketpair`` keeps working, and so does the arena's channel.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys

# machine: (native AUDIT_ARCH, its socket(), 32-bit compat AUDIT_ARCH, its socket(), seccomp())
_ARCHES = {
    "x86_64": (0xC000003E, 41, 0x40000003, 359, 317),  # compat: i386 (int 0x80)
    "aarch64": (0xC00000B7, 198, 0x40000028, 281, 277),  # compat: arm
}
_SOCKETCALL = 102  # 32-bit compat: socketcall(), which hides its arguments behind a pointer
_X32_BIT = 0x40000000  # x86_64: x32 syscalls are the native numbers with this bit set
LD, JEQ, AND, RET = 0x20, 0x15, 0x54, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_ALU|AND|K, BPF_RET|K
ALLOW, EPERM = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM


class _Insn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint32)]  # fmt: skip


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Insn))]


def deny_unix_sockets() -> str | None:
    """Install the filter; None when done, else one line saying why it was not."""
    if not sys.platform.startswith("linux"):
        return "seccomp is Linux only"
    machine = platform.machine()
    if machine not in _ARCHES or sys.maxsize < 2**32:
        bits = 64 if sys.maxsize > 2**32 else 32
        return f"no filter for this architecture ({machine}, {bits}-bit Python)"
    native, socket_nr, compat, compat_socket_nr, seccomp_nr = _ARCHES[machine]
    # Jump offsets count instructions after the jump itself (jt taken, jf not).
    program = [
        (LD, 0, 0, 4),  # 0: A = seccomp_data.arch
        (JEQ, 1, 0, native),  # 1: native ABI -> 3
        (JEQ, 3, 8, compat),  # 2: 32-bit compat ABI -> 6; any other arch -> 11 (allow)
        (LD, 0, 0, 0),  # 3: A = seccomp_data.nr
        (AND, 0, 0, 0xFFFFFFFF & ~_X32_BIT),  # 4: x32's socket() is socket() too
        (JEQ, 3, 5, socket_nr),  # 5: socket() -> 9; anything else -> 11 (allow)
        (LD, 0, 0, 0),  # 6: A = seccomp_data.nr (compat numbering)
        (JEQ, 4, 0, _SOCKETCALL),  # 7: socketcall() -> 12 (deny: its domain is unreadable)
        (JEQ, 0, 2, compat_socket_nr),  # 8: socket() -> 9; anything else -> 11 (allow)
        (LD, 0, 0, 16),  # 9: A = low 32 bits of args[0], the domain (little-endian)
        (JEQ, 1, 0, 1),  # 10: AF_UNIX -> 12 (deny)
        (RET, 0, 0, ALLOW),  # 11: allow
        (RET, 0, 0, EPERM),  # 12: fail with EPERM
    ]
    insns = (_Insn * len(program))(*(_Insn(*insn) for insn in program))
    prog = _Prog(len(program), insns)
    libc = ctypes.CDLL(None, use_errno=True)
    ul = ctypes.c_ulong  # prctl() and syscall() are variadic: pass full-width arguments
    # No new privileges: required to install a filter without CAP_SYS_ADMIN.
    if libc.prctl(38, ul(1), ul(0), ul(0), ul(0)) != 0:  # PR_SET_NO_NEW_PRIVS
        return f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}"
    # seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC): every thread, even
    # one a library started at import, gets the filter.
    if libc.syscall(ul(seccomp_nr), ul(1), ul(1), ctypes.byref(prog)) != 0:
        return f"seccomp(SECCOMP_SET_MODE_FILTER) failed: {os.strerror(ctypes.get_errno())}"
    return None

"""A seccomp deny list for the worker, close to Docker's default profile.

The worker runs untrusted agent code. Namespaces (network, mount, PID, IPC, UTS),
no capabilities and no_new_privs already take most of the host out of reach; what
is left is the kernel itself, and a few doors the namespaces do not close:

- unix sockets on the file system (a container daemon's, PostgreSQL's): ``connect``
  needs only write permission on the file, which the worker's uid may have;
- io_uring, whose requests (a socket() among them) run in kernel workers that this
  filter never sees, and which has been a steady source of kernel exploits;
- new user namespaces: an unprivileged process may create one and gets every
  capability inside it, which opens the rest of the kernel (mounts, netfilter...);
- interfaces that exist for administrators or debuggers (keyrings, ptrace, bpf,
  perf, userfaultfd, kernel modules, kexec, mounts, clocks) and that agent code
  never needs: most fail anyway without capabilities, but a deny here does not
  depend on the kernel getting every permission check right.

The worker installs the filter first thing: from then on these calls fail with
EPERM (clone3 with ENOSYS) in every thread of it and in every process it starts.
socket() fails for every family: bubblewrap's network namespace still has a
loopback of its own, and no agent needs a network. Everything else is allowed:
threads, fork, exec, files, pipes, stream socketpair(), and the arena's channel.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import sys

Insn = tuple[int, int, int, int]  # (code, jt, jf, k), as in struct sock_filter

# BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JSET|K, BPF_ALU|AND|K, BPF_RET|K
LD, JEQ, JSET, AND, RET = 0x20, 0x15, 0x45, 0x54, 0x06
ALLOW = 0x7FFF0000  # SECCOMP_RET_ALLOW
EPERM = 0x00050000 | errno.EPERM  # SECCOMP_RET_ERRNO | errno
ENOSYS = 0x00050000 | errno.ENOSYS

# seccomp_data: nr at 0, arch at 4, args[i] at 16 + 8*i. Every argument checked
# below is one the kernel reads as 32 bits (int, unsigned int, clone's
# lower_32_bits(flags)), so the low word (first, little-endian) is all that counts.
NR, ARCH = 0, 4

# machine: (native AUDIT_ARCH, column in the tables below, seccomp())
_ARCHES = {
    "x86_64": (0xC000003E, 0, 317),
    "aarch64": (0xC00000B7, 1, 277),
}
_X32_BIT = 0x40000000  # x86_64: x32 syscalls are the native numbers with this bit set

# Denied with EPERM: (name, x86_64 nr, aarch64 nr); None where the arch has no such
# call. Numbers from the uapi asm/unistd_64.h and asm-generic/unistd.h (linux 6.1),
# open_tree_attr from 6.15 (calls since 5.1 have one number on both).
_DENY: tuple[tuple[str, int | None, int | None], ...] = (
    # io_uring: its socket/open/connect ops bypass the checks on the syscalls.
    ("io_uring_setup", 425, 425),
    ("io_uring_enter", 426, 426),
    ("io_uring_register", 427, 427),
    # Kernel keyrings: not namespaced, long history of bugs.
    ("add_key", 248, 217),
    ("request_key", 249, 218),
    ("keyctl", 250, 219),
    # Reading or taking over other processes: the worker, other matches' children.
    ("ptrace", 101, 117),
    ("process_vm_readv", 310, 270),
    ("process_vm_writev", 311, 271),
    ("kcmp", 312, 272),
    ("pidfd_getfd", 438, 438),
    # New namespaces (user namespaces above all); clone() is checked below.
    ("unshare", 272, 97),
    ("setns", 308, 268),
    # Large kernel attack surface, no use to an agent.
    ("bpf", 321, 280),
    ("perf_event_open", 298, 241),
    ("userfaultfd", 323, 282),  # makes kernel races easy to win
    # Mounts, old API and new.
    ("mount", 165, 40),
    ("umount2", 166, 39),
    ("pivot_root", 155, 41),
    ("chroot", 161, 51),
    ("open_tree", 428, 428),
    ("move_mount", 429, 429),
    ("fsopen", 430, 430),
    ("fsconfig", 431, 431),
    ("fsmount", 432, 432),
    ("fspick", 433, 433),
    ("mount_setattr", 442, 442),
    ("open_tree_attr", 467, 467),
    # File handles reach files outside the mount namespace's view.
    ("name_to_handle_at", 303, 264),
    ("open_by_handle_at", 304, 265),
    # The machine: kernel code, swap, power, accounting, quotas, I/O ports, LDT.
    ("kexec_load", 246, 104),
    ("kexec_file_load", 320, 294),
    ("init_module", 175, 105),
    ("finit_module", 313, 273),
    ("delete_module", 176, 106),
    ("swapon", 167, 224),
    ("swapoff", 168, 225),
    ("reboot", 169, 142),
    ("acct", 163, 89),
    ("quotactl", 179, 60),
    ("quotactl_fd", 443, 443),
    ("iopl", 172, None),
    ("ioperm", 173, None),
    ("modify_ldt", 154, None),  # 16-bit segments: only Wine/DOSEMU, a past CVE source
    # Clocks are not namespaced. adjtimex stays allowed, as in Docker: reading needs
    # nothing, and setting needs CAP_SYS_TIME, which the worker lacks.
    ("settimeofday", 164, 170),
    ("clock_settime", 227, 112),
    ("clock_adjtime", 305, 266),
    # Kernel log, legacy and obsolete calls (most return ENOSYS on a new kernel).
    ("syslog", 103, 116),
    ("lookup_dcookie", 212, 18),
    ("fanotify_init", 300, 262),
    ("vhangup", 153, 58),
    ("nfsservctl", 180, 42),
    ("uselib", 134, None),
    ("ustat", 136, None),
    ("sysfs", 139, None),
    ("_sysctl", 156, None),
)
# clone3 fails with ENOSYS: its flags sit behind a pointer seccomp cannot read, and
# on ENOSYS glibc (pthread_create, posix_spawn) falls back to clone(), checked here.
_CLONE3 = (435, 435)
_CLONE, _PERSONALITY, _SOCKET, _SOCKETPAIR = (56, 220), (135, 92), (41, 198), (53, 199)

# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, and NEWTIME (in
# clone() that bit is part of the exit signal, where any value with it is invalid).
_CLONE_NS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000
_CLONE_NS |= 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080
# Docker's: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the query.
# Others (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC...) weaken the next exec'd program.
_PERSONAS = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)
_AF_UNIX = 1
_SOCK_STREAM, _SOCK_TYPE_MASK = 1, 0xF  # the mask drops SOCK_NONBLOCK | SOCK_CLOEXEC

DENIED: tuple[str, ...] = (
    *(name for name, _, _ in _DENY),
    "clone3 (ENOSYS)",
    "clone with a CLONE_NEW* flag",
    "personality other than 0, 0x8, 0x20000, 0x20008, 0xffffffff",
    "socket (every family)",
    "socketpair other than AF_UNIX SOCK_STREAM",
    "every syscall of the 32-bit compat ABI (i386, arm) and of x32",
)


def _jump(code: int, k: int, jt: int, jf: int) -> Insn:
    # Offsets count instructions after the jump (jt taken, jf not); 8 bits each.
    if not (0 <= jt <= 255 and 0 <= jf <= 255):
        raise ValueError(f"jump offset out of range: {jt}, {jf}")
    return (code, jt, jf, k)


def _load(offset: int) -> Insn:
    return (LD, 0, 0, offset)


def _arg(i: int) -> Insn:
    return _load(16 + 8 * i)  # low 32 bits of args[i]


def _ret(action: int) -> Insn:
    return (RET, 0, 0, action)


def _deny(nr: int, action: int = EPERM) -> list[Insn]:
    # A pair per syscall: never a long jump, however long the list.
    return [_jump(JEQ, nr, 0, 1), _ret(action)]


def _on(nr: int, body: list[Insn]) -> list[Insn]:
    """Run ``body`` for syscall ``nr`` only. It ends in RET, so it may overwrite A."""
    if body[-1][0] != RET:
        raise ValueError("an argument check must end in RET")
    return [_jump(JEQ, nr, 0, len(body)), *body]


def _allow_only(values: tuple[int, ...]) -> list[Insn]:
    """A equal to one of ``values``: allow; else EPERM."""
    n = len(values)
    chain = [_jump(JEQ, v, n - i, 0) for i, v in enumerate(values)]  # -> the ALLOW
    return [*chain, _ret(EPERM), _ret(ALLOW)]


def _program(machine: str) -> list[Insn]:
    native, col, _ = _ARCHES[machine]
    program = [
        _load(ARCH),
        _jump(JEQ, native, 1, 0),
        _ret(EPERM),  # the compat ABI (i386 via int 0x80, arm): a second numbering
        _load(NR),
    ]
    if machine == "x86_64":
        program += [_jump(JSET, _X32_BIT, 0, 1), _ret(EPERM)]  # x32
    # From here A holds nr, up to the argument checks (each ends in a RET).
    for _, *numbers in _DENY:
        nr = numbers[col]
        if nr is not None:
            program += _deny(nr)
    program += _deny(_CLONE3[col], ENOSYS)
    program += _on(_CLONE[col], [_arg(0), _jump(JSET, _CLONE_NS, 0, 1), _ret(EPERM), _ret(ALLOW)])
    program += _on(_PERSONALITY[col], [_arg(0), *_allow_only(_PERSONAS)])
    program += _deny(_SOCKET[col])
    program += _on(
        _SOCKETPAIR[col],
        [
            _arg(0),
            _jump(JEQ, _AF_UNIX, 0, 3),  # not AF_UNIX -> EPERM
            _arg(1),
            (AND, 0, 0, _SOCK_TYPE_MASK),
            _jump(JEQ, _SOCK_STREAM, 1, 0),  # -> ALLOW
            _ret(EPERM),
            _ret(ALLOW),
        ],
    )
    program.append(_ret(ALLOW))
    _check(program)
    return program


def _check(program: list[Insn]) -> None:
    # The kernel checks this too, but a mistake here should fail loudly, not EINVAL.
    for i, (code, jt, jf, _) in enumerate(program):
        if code in (JEQ, JSET) and i + 1 + max(jt, jf) >= len(program):
            raise ValueError(f"instruction {i} jumps past the end")
    if program[-1][0] != RET or len(program) > 4096:  # BPF_MAXINSNS
        raise ValueError("a filter must end in RET and fit in 4096 instructions")


class _Insn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint32)]  # fmt: skip


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Insn))]


def install_filter() -> str | None:
    """Install the filter; None when done, else one line saying why it was not."""
    if not sys.platform.startswith("linux"):
        return "seccomp is Linux only"
    machine = platform.machine()
    if machine not in _ARCHES or sys.maxsize < 2**32:
        bits = 64 if sys.maxsize > 2**32 else 32
        return f"no filter for this architecture ({machine}, {bits}-bit Python)"
    program = _program(machine)
    insns = (_Insn * len(program))(*(_Insn(*insn) for insn in program))
    prog = _Prog(len(program), insns)
    libc = ctypes.CDLL(None, use_errno=True)
    ul = ctypes.c_ulong  # prctl() and syscall() are variadic: pass full-width arguments
    # No new privileges: required to install a filter without CAP_SYS_ADMIN.
    if libc.prctl(38, ul(1), ul(0), ul(0), ul(0)) != 0:  # PR_SET_NO_NEW_PRIVS
        return f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}"
    # seccomp(SECCOMP_SET_MODE_FILTER, TSYNC | SPEC_ALLOW): every thread, even one a
    # library started at import, gets the filter; children inherit it. SPEC_ALLOW keeps
    # the kernel from forcing the Speculative Store Bypass mitigation on the sandbox
    # (a slowdown of every instruction stream on CPUs that have it): that attack reads
    # its own address space, and this process holds only the entrant's own data.
    tsync, spec_allow = 1, 4
    result = libc.syscall(
        ul(_ARCHES[machine][2]), ul(1), ul(tsync | spec_allow), ctypes.byref(prog)
    )
    if result > 0:  # TSYNC: the id of a thread that could not take the filter
        return f"seccomp(SECCOMP_SET_MODE_FILTER) failed: thread {result} could not take it"
    if result != 0:
        return f"seccomp(SECCOMP_SET_MODE_FILTER) failed: {os.strerror(ctypes.get_errno())}"
    return None

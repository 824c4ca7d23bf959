"""Knocks on kernel interfaces; reports what answered, in its error text.

Each probe is one line: ``OK <what>`` (the call succeeded), ``DENIED <what>: errno``
(EPERM, EACCES or ENOSYS: refused before it did anything) or ``REACHED <what>: errno``
(the kernel ran the call and failed it for another reason, e.g. EINVAL or ENOKEY:
the interface is reachable). Probes that change the process (unshare, clone,
setns, mount) run in a forked child. It never reads a key's payload, never
adds to a keyring that outlives it, and only reads its own memory in its parent
(a constant of this module, which the parent holds too when it forked us).

x86_64 syscall numbers; elsewhere it says ``SKIP``.
"""

import ctypes
import errno
import os
import platform

SYSCALLS = {
    "ptrace": 101, "mount": 165, "add_key": 248, "request_key": 249, "keyctl": 250,
    "unshare": 272, "perf_event_open": 298, "setns": 308, "process_vm_readv": 310,
    "process_vm_writev": 311, "bpf": 321, "userfaultfd": 323, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "clone": 56, "clone3": 435,
}  # fmt: skip
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWPID = 0x20000, 0x10000000, 0x40000000, 0x20000000
SIGCHLD = 17
KEY_SPEC_PROCESS_KEYRING, KEY_SPEC_SESSION_KEYRING, KEY_SPEC_USER_KEYRING = -2, -3, -4
PTRACE_ATTACH, PTRACE_DETACH = 16, 17
WALL = 0x40000000
REFUSED = {errno.EPERM, errno.EACCES, errno.ENOSYS}
PROBE_CONSTANT = b"hostile-kernel2 constant, also in the parent"

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


class IOVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def sys_call(name, *args):
    # Every argument as a full 64-bit word: a bare Python int would be passed as a C int.
    words = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    ctypes.set_errno(0)
    ret = libc.syscall(ctypes.c_long(SYSCALLS[name]), *words)
    return ret, ctypes.get_errno()


def verdict(what, ret, err):
    if ret >= 0:
        return f"OK {what} (returned {ret})"
    kind = "DENIED" if err in REFUSED else "REACHED"
    return f"{kind} {what}: {errno.errorcode.get(err, err)}"


def run(what, name, *args, cleanup=None):
    ret, err = sys_call(name, *args)
    if ret >= 0 and cleanup is not None:
        cleanup(ret)
    return verdict(what, ret, err)


def close_fd(fd):
    try:
        os.close(fd)
    except OSError:
        pass


def keyrings():
    lines = []
    for label, ring in (("session", KEY_SPEC_SESSION_KEYRING), ("user", KEY_SPEC_USER_KEYRING)):
        lines.append(run(f"keyctl(GET_KEYRING_ID, {label})", "keyctl", 0, ring, 0))
        buf = ctypes.create_string_buffer(4096)
        # KEYCTL_READ on a keyring lists key serial numbers; only the count is kept.
        lines.append(run(f"keyctl(READ, {label} keyring)", "keyctl", 11, ring, buf, 4096))
    lines.append(
        run(
            "add_key(user, process keyring)",
            "add_key",
            b"user",
            b"hostile-kernel2",
            b"x",
            1,
            KEY_SPEC_PROCESS_KEYRING,
        )
    )
    lines.append(
        run("request_key(user)", "request_key", b"user", b"hostile-kernel2-missing", None, 0)
    )
    return lines


def ptrace(pid, label):
    ret, err = sys_call("ptrace", PTRACE_ATTACH, pid, 0, 0)
    if ret >= 0:
        try:
            os.waitpid(pid, WALL)
        except OSError:
            pass
        sys_call("ptrace", PTRACE_DETACH, pid, 0, 0)
    return verdict(f"ptrace(ATTACH, {label} {pid})", ret, err)


def vm_read(pid, label):
    size = 16
    local_buf = ctypes.create_string_buffer(size)
    local = IOVec(ctypes.cast(local_buf, ctypes.c_void_p), size)
    address = ctypes.cast(ctypes.c_char_p(PROBE_CONSTANT), ctypes.c_void_p).value
    remote = IOVec(address, size)
    return run(f"process_vm_readv({label} {pid})", "process_vm_readv", pid,
               ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)  # fmt: skip


def vm_write_self():
    size = 8
    src = ctypes.create_string_buffer(b"12345678", size)
    dst = ctypes.create_string_buffer(size)
    local = IOVec(ctypes.cast(src, ctypes.c_void_p), size)
    remote = IOVec(ctypes.cast(dst, ctypes.c_void_p), size)
    return run("process_vm_writev(self)", "process_vm_writev", os.getpid(),
               ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)  # fmt: skip


def bpf():
    attr = ctypes.create_string_buffer(128)
    return run("bpf(BPF_MAP_CREATE)", "bpf", 0, attr, 128, cleanup=close_fd)


def perf():
    attr = ctypes.create_string_buffer(128)
    ctypes.c_uint32.from_buffer(attr, 0).value = 1  # PERF_TYPE_SOFTWARE
    ctypes.c_uint32.from_buffer(attr, 4).value = 128  # size
    # config 0 = PERF_COUNT_SW_CPU_CLOCK; flags: disabled, exclude_kernel, exclude_hv
    ctypes.c_uint64.from_buffer(attr, 40).value = 1 | (1 << 5) | (1 << 6)
    return run("perf_event_open(self, cpu clock)", "perf_event_open", attr, 0, -1, -1, 0,
               cleanup=close_fd)  # fmt: skip


def uffd():
    return run("userfaultfd(UFFD_USER_MODE_ONLY)", "userfaultfd", os.O_CLOEXEC | 1,
               cleanup=close_fd)  # fmt: skip


def io_uring():
    params = ctypes.create_string_buffer(120)
    return [
        run("io_uring_setup", "io_uring_setup", 4, params, cleanup=close_fd),
        run("io_uring_enter(bad fd)", "io_uring_enter", 9999, 0, 0, 0, None, 0),
        run("io_uring_register(bad fd)", "io_uring_register", 9999, 0, None, 0),
    ]


def in_child(probe):
    """Run ``probe() -> str`` in a forked child; the child's state dies with it."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.write(w, probe().encode())
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode() or f"REACHED child probe died ({probe.__name__})"


def _clone(what, name, *args):
    def probe():
        ret, err = sys_call(name, *args)
        if ret == 0:
            os._exit(0)  # we are the new process: leave at once
        if ret > 0:
            try:
                os.waitpid(ret, WALL)
            except OSError:
                pass
        return verdict(what, ret, err)

    probe.__name__ = what
    return probe


def _unshare(label, flags):
    def probe():
        return run(f"unshare({label})", "unshare", flags)

    probe.__name__ = label
    return probe


def _unshare_then_mount():
    ret, err = sys_call("unshare", CLONE_NEWUSER | CLONE_NEWNS)
    first = verdict("unshare(CLONE_NEWUSER|CLONE_NEWNS)", ret, err)
    ret, err = sys_call("mount", b"none", b"/tmp", b"tmpfs", 0, None)
    return first + "\n" + verdict("mount(tmpfs on /tmp)", ret, err)


def _setns():
    try:
        fd = os.open("/proc/self/ns/net", os.O_RDONLY)
    except OSError as exc:
        return f"DENIED setns(own net ns): open failed {exc}"
    try:
        return run("setns(own net ns)", "setns", fd, CLONE_NEWNET)
    finally:
        os.close(fd)


def clone_args(flags):
    args = ctypes.create_string_buffer(88)
    ctypes.c_uint64.from_buffer(args, 0).value = flags
    ctypes.c_uint64.from_buffer(args, 32).value = SIGCHLD  # exit_signal
    return args


def probe_all():
    if platform.machine() != "x86_64":
        return ["SKIP not x86_64"]
    lines = keyrings()
    lines += [ptrace(1, "pid"), ptrace(os.getppid(), "parent")]
    lines += [vm_read(os.getpid(), "self"), vm_read(os.getppid(), "parent"), vm_write_self()]
    lines += [bpf(), perf(), uffd(), *io_uring()]
    for probe in (
        _unshare("CLONE_NEWUSER", CLONE_NEWUSER),
        _unshare("CLONE_NEWNET", CLONE_NEWNET),
        _unshare("CLONE_NEWNS", CLONE_NEWNS),
        _unshare_then_mount,
        _setns,
        _clone("clone(CLONE_NEWUSER)", "clone", CLONE_NEWUSER | SIGCHLD, None, None, None, 0),
        _clone("clone3(CLONE_NEWUSER)", "clone3", clone_args(CLONE_NEWUSER), 88),
        _clone("clone3(plain)", "clone3", clone_args(0), 88),
    ):
        lines += in_child(probe).splitlines()
    lines.append(run("mount(tmpfs on /tmp)", "mount", b"none", b"/tmp", b"tmpfs", 0, None))
    return lines


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        report = "\n".join(probe_all())
        print(report)
        raise RuntimeError("hostile-kernel2 report\n" + report + "\nhostile-kernel2 end")


def make_agent(ctx):
    return Agent()

"""Hostile packages against the real sandbox, recorded into a temporary SQLite file.

Every package in ``tests/packages/hostile-*`` misbehaves in one way. Each test
plays it through the sandbox (``Limits().sandbox`` is on), stores the match with
the real recorder and checks what AGENT_PROTOCOL.md promises:

(a) the offending seat forfeits with the documented reason and a useful error
    text, read back from the ``participants`` table;
(b) the arena survives: the test keeps running, and no signal reached it;
(c) the database passes ``PRAGMA integrity_check``;
(d) nothing is left running: no process of the package (found by its unique
    temporary folder in a process's command line or environment, or by a marker
    in its command line) after the match, besides the worker the series keeps,
    and none at all once the host pool is closed.

Packages are copied to a temporary folder first, so their processes can be told
apart from any other arena running on the machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import pytest

from arena.hosts import HostPool
from arena.limits import Limits
from arena.play import play_and_record
from arena.rating import RatingSystem
from arena.registry import get_env
from arena.result import MatchResult
from arena.runner import play_match
from arena.sandbox.isolation import probe
from arena.sources import OUTPUT_LIMIT, resolve_agent
from arena.storage import connect
from arena.storage.recorder import Recorder

PACKAGES = Path(__file__).resolve().parents[1] / "packages"
ROOT = Path(__file__).resolve().parents[2]
ISOLATION = probe()
GRACE_S = 3.0  # how long processes may take to disappear after a kill
SEATS = {"connect_four_v3": ("player_0", "player_1"), "tictactoe_v3": ("player_1", "player_2")}

needs_namespaces = pytest.mark.skipif(
    not ISOLATION.namespaces,
    reason="needs the sandbox's namespaces (network, mount, PID): " + "; ".join(ISOLATION.missing),
)


# --- (b) no signal reaches the arena ------------------------------------------------

# Not SIGPIPE: the arena may legitimately write to a worker that just died.
WATCHED_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)


@pytest.fixture(autouse=True)
def arena_untouched() -> Iterator[list[int]]:
    """Catch the signals a hostile agent could send us instead of dying of them."""
    received: list[int] = []

    def catch(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    parent = os.getppid()
    previous = {sig: signal.signal(sig, catch) for sig in WATCHED_SIGNALS}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    assert not received, f"the arena received {[signal.Signals(s).name for s in received]}"
    assert os.getppid() == parent, "the arena's own parent died during the match"


# --- (d) processes left behind ------------------------------------------------------


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return b""


def _processes() -> Iterator[tuple[int, bytes, bytes, bytes]]:
    """``(pid, cmdline, environ, status)`` of every process but this one."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me:
            base = f"/proc/{entry}"
            yield (
                int(entry),
                _read(f"{base}/cmdline"),
                _read(f"{base}/environ"),
                _read(f"{base}/status"),
            )


def _status_field(status: bytes, name: bytes) -> list[bytes]:
    for line in status.splitlines():
        if line.startswith(name + b":"):
            return line.split()[1:]
    return []


def _is_worker(cmdline: bytes, status: bytes) -> bool:
    """The worker a series keeps: bubblewrap and the worker proper, the
    namespace's init (pid 1)."""
    if b"arena.sandbox.worker" not in cmdline:
        return False
    if cmdline.split(b"\0", 1)[0].endswith(b"bwrap"):
        return True
    nspid = _status_field(status, b"NSpid")
    return len(nspid) > 1 and nspid[-1] == b"1"


def _is_spare_child(cmdline: bytes, status: bytes) -> bool:
    """The match child a worker forks ahead of the next match: a direct child of the
    worker (the namespace's init) that has not started a match yet."""
    if b"arena.sandbox.worker" not in cmdline:
        return False
    parent = (_status_field(status, b"PPid") or [b"0"])[0].decode()
    parent_status = _read(f"/proc/{parent}/status")
    return _is_worker(_read(f"/proc/{parent}/cmdline"), parent_status)


def package_processes(package_dir: Path, markers: Sequence[str] = ()) -> dict[int, str]:
    """Processes of this package copy: its path or a marker in their command line or env."""
    needles = [str(package_dir.resolve()).encode(), *(m.encode() for m in markers)]
    found = {}
    for pid, cmdline, environ, status in _processes():
        ours = any(n in cmdline or n in environ for n in needles)
        if not ISOLATION.namespaces:
            # Without namespaces the worker's environment does not name the package.
            ours = ours or b"arena.sandbox.worker" in cmdline
        if ours:
            shown = cmdline.replace(b"\0", b" ").decode(errors="replace")[:160]
            kept = _is_worker(cmdline, status) or _is_spare_child(cmdline, status)
            found[pid] = ("[worker] " if kept else "") + shown
    return found


def my_children() -> dict[int, str]:
    """Children of the test process, zombies included (a worker nobody waited for)."""
    me = str(os.getpid()).encode()
    return {
        pid: (_status_field(status, b"State") or [b"?"])[0].decode()
        + " "
        + cmdline.replace(b"\0", b" ").decode(errors="replace")[:120]
        for pid, cmdline, _, status in _processes()
        if _status_field(status, b"PPid") == [me]
        # multiprocessing's resource tracker (from a process-pool test earlier in
        # the session) lives as long as the test process, by design.
        and b"multiprocessing.resource_tracker" not in cmdline
    }


def assert_nothing_left(
    package_dir: Path, markers: Sequence[str] = (), *, worker_may_stay: bool
) -> None:
    """Poll up to GRACE_S for the package's processes to go; fail naming the rest."""
    deadline = time.monotonic() + GRACE_S
    while True:
        left = {
            pid: text
            for pid, text in package_processes(package_dir, markers).items()
            if not (worker_may_stay and text.startswith("[worker]"))
        }
        children = {} if worker_may_stay else my_children()
        if not left and not children:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"left behind: {left or ''} {children or ''}")
        time.sleep(0.05)


# --- playing and recording ----------------------------------------------------------


def copy_package(tmp_path: Path, name: str) -> Path:
    target = tmp_path / "packages" / name
    shutil.copytree(PACKAGES / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target.resolve()


@dataclass
class Played:
    """A recorded match, as read back from the database."""

    result: MatchResult
    participants: dict[str, dict[str, Any]]  # by seat
    outputs: dict[str, str]
    actions: list[Any]

    def seat(self, label: str) -> dict[str, Any]:
        (row,) = [r for r in self.participants.values() if r["label"] == label]
        return row


def read_back(db: Path, match_id: int) -> tuple[dict[str, dict[str, Any]], dict[str, str], list]:
    """(a) and (c): the stored seats, outputs and actions; the file is intact."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute(
            "SELECT seat, label, rank, outcome, forfeit_reason, error_text"
            " FROM participants WHERE match_id = ?",
            (match_id,),
        ).fetchall()
        outputs, actions = conn.execute(
            "SELECT outputs, actions FROM matches WHERE id = ?", (match_id,)
        ).fetchone()
    return {r["seat"]: dict(r) for r in rows}, json.loads(outputs or "{}"), json.loads(actions)


def play_recorded(
    tmp_path: Path,
    package_dir: Path,
    *,
    env_id: str = "connect_four_v3",
    hostile_side: int = 0,
    limits: Limits | None = None,
    markers: Sequence[str] = (),
    before_play: Callable[[], None] | None = None,
) -> Played:
    """Play the package against ``random`` in the sandbox, record, read back, check (c), (d)."""
    limits = limits or Limits()
    assert limits.sandbox
    spec = get_env(env_id)
    sources = [resolve_agent("random"), resolve_agent("random")]
    sources[hostile_side] = resolve_agent(str(package_dir))
    if before_play is not None:
        before_play()  # after resolving: the package's content hash reads every file
    engine = connect(f"sqlite:///{tmp_path / 'arena.db'}")
    try:
        recorder = Recorder(engine, RatingSystem())
        with HostPool(limits) as pool:
            result = play_match(spec, sources, seed=3, limits=limits, hosts=pool)
            assert_nothing_left(package_dir, markers, worker_may_stay=True)
        assert_nothing_left(package_dir, markers, worker_may_stay=False)
        match_id = recorder.record(result)
        assert match_id is not None
    finally:
        engine.dispose()
    participants, outputs, actions = read_back(tmp_path / "arena.db", match_id)
    return Played(result, participants, outputs, actions)


def assert_forfeit(played: Played, label: str, reason: str, fragments: Sequence[str]) -> None:
    offender = played.seat(label)
    assert offender["forfeit_reason"] == reason, offender
    for fragment in fragments:
        assert fragment in (offender["error_text"] or ""), offender["error_text"]
    assert offender["rank"] == 2 and offender["outcome"] == "loss"
    (other,) = [r for r in played.participants.values() if r["label"] != label]
    assert other["forfeit_reason"] is None and other["rank"] == 1


def assert_played_clean(played: Played, label: str) -> None:
    """The package forfeited nothing and the match reached its natural end."""
    assert all(r["forfeit_reason"] is None for r in played.participants.values()), (
        played.participants
    )
    assert played.result.steps > 0
    assert any(r["outcome"] != "loss" for r in played.participants.values())
    assert label in played.outputs


def lines(played: Played, label: str, prefix: str) -> list[str]:
    return [line for line in played.outputs.get(label, "").splitlines() if line.startswith(prefix)]


# --- (a) each misbehaviour becomes the documented forfeit ---------------------------

FORFEITS = [
    pytest.param("hostile-hang-busy", "connect_four_v3", 0, Limits(move_timeout_s=0.5),
                 "timeout", ["act took over 0.500s (the move time limit)"],
                 id="hang-busy"),
    pytest.param("hostile-hang-sleep", "connect_four_v3", 1, Limits(move_timeout_s=0.5),
                 "timeout", ["act took over 0.500s (the move time limit)"],
                 id="hang-sleep"),
    pytest.param("hostile-raise", "connect_four_v3", 0, None,
                 "error", ["Traceback", "boom.py",
                           "ZeroDivisionError: hostile-raise: act blew up on purpose"],
                 id="raise"),
    pytest.param("hostile-import", "connect_four_v3", 1, None,
                 "error", ["importing 'import_bomb' failed",
                           "ImportError: hostile-import: this module refuses to load",
                           "import_bomb.py"],
                 id="import"),
    pytest.param("hostile-masked", "tictactoe_v3", 1, None,
                 "illegal", ["is masked out (not legal in this position)"], id="masked"),
    pytest.param("hostile-string", "connect_four_v3", 0, None,
                 "illegal", ["expected an integer action, got str 'column three, please'"],
                 id="string"),
    pytest.param("hostile-nan", "tictactoe_v3", 0, None,
                 "illegal", ["expected an integer action, got float nan"], id="nan"),
    pytest.param("hostile-exit", "connect_four_v3", 0, None,
                 "crash", ["exited with code 3"], id="exit"),
    pytest.param("hostile-memory", "connect_four_v3", 0, Limits(memory_mb=256, move_timeout_s=10),
                 "crash", ["ran out of memory"], id="memory"),
]  # fmt: skip


@pytest.mark.parametrize(("package", "env_id", "side", "limits", "reason", "fragments"), FORFEITS)
def test_hostile_package_forfeits(
    tmp_path: Path,
    package: str,
    env_id: str,
    side: int,
    limits: Limits | None,
    reason: str,
    fragments: list[str],
) -> None:
    package_dir = copy_package(tmp_path, package)
    started = time.monotonic()
    played = play_recorded(tmp_path, package_dir, env_id=env_id, hostile_side=side, limits=limits)
    assert_forfeit(played, package, reason, fragments)
    assert played.participants[SEATS[env_id][side]]["label"] == package
    # A hang costs the move limit, not the 1000 s the agent asked for.
    assert time.monotonic() - started < 30


# --- output floods and forged frames ------------------------------------------------


def test_flood_is_capped_and_cannot_forge_the_protocol(tmp_path: Path) -> None:
    package_dir = copy_package(tmp_path, "hostile-flood")
    # Flooding is the agent's own time; a generous limit keeps slow machines honest.
    played = play_recorded(tmp_path, package_dir, limits=Limits(move_timeout_s=10.0))
    assert_played_clean(played, "hostile-flood")

    text = played.outputs["hostile-flood"]
    assert len(text.encode()) <= OUTPUT_LIMIT + 3 * 64  # bytes kept, decoded (U+FFFD is 3 bytes)
    assert len(text) <= OUTPUT_LIMIT
    assert len(text) > OUTPUT_LIMIT // 2, "the flood should fill the stored output"
    assert "hostile-flood xxxx" in text

    # Every move of the flooder is its own (the last legal column), never the forged 0.
    env = get_env("connect_four_v3").build()
    env.reset(seed=played.result.seed)
    flooder = SEATS["connect_four_v3"][0]
    moves = 0
    for seat, action in played.actions:
        observation, *_ = env.last()
        if seat == flooder:
            assert action == int(np.flatnonzero(observation["action_mask"])[-1])
            moves += 1
        env.step(action)
    assert moves > 0


# --- signals ------------------------------------------------------------------------


@needs_namespaces
def test_signalling_the_parent_does_not_reach_the_arena(tmp_path: Path) -> None:
    """The parent is the namespace's init: the kernel drops SIGTERM and SIGKILL sent to
    it from inside, so the match simply goes on."""
    package_dir = copy_package(tmp_path, "hostile-signal-parent")
    played = play_recorded(tmp_path, package_dir)
    assert_played_clean(played, "hostile-signal-parent")
    said = played.outputs["hostile-signal-parent"]
    assert "parent 1 grandparent 0" in said
    assert "SIGKILL to parent 1: sent" in said
    assert "no grandparent visible" in said
    assert "still here after signalling" in said


@needs_namespaces
def test_kill_minus_one_stays_in_the_namespace(tmp_path: Path) -> None:
    """``kill(-1, SIGKILL)`` reaches only the agent's own PID namespace."""
    package_dir = copy_package(tmp_path, "hostile-signal-all")
    played = play_recorded(tmp_path, package_dir, hostile_side=1)
    assert_played_clean(played, "hostile-signal-all")
    said = played.outputs["hostile-signal-all"]
    assert "kill(-1, SIGKILL)" in said and "REFUSED" not in said


# --- child processes ----------------------------------------------------------------


@needs_namespaces
def test_children_and_daemons_do_not_outlive_the_match(tmp_path: Path) -> None:
    package_dir = copy_package(tmp_path, "hostile-children")
    marker = f"hostile-marker-xyz-{os.getpid()}-{time.monotonic_ns()}"
    (package_dir / "marker.txt").write_text(marker)
    played = play_recorded(tmp_path, package_dir, markers=[marker])
    assert_played_clean(played, "hostile-children")
    said = played.outputs["hostile-children"]
    assert "hostile-children: spawned" in said
    # The import-time child, a plain child, a new-session child, a double-forked daemon.
    assert "hostile-children: marker processes running: child daemon import session" in said


# --- file system --------------------------------------------------------------------

PRIVATE_SCRATCH = ("/tmp/", "/var/tmp/", "/dev/shm/")


@pytest.fixture
def vandal_targets() -> Iterator[list[Path]]:
    """Host paths hostile-write aims at that are not in its own (temporary) folder."""
    targets = [
        ROOT / "HOSTILE_WAS_HERE",
        ROOT.parent / "HOSTILE_WAS_HERE",
        ROOT / "arena" / "HOSTILE_WAS_HERE",
        Path("/etc/HOSTILE_WAS_HERE"),
        Path("/root/HOSTILE_WAS_HERE"),
        Path("/work/HOSTILE_WAS_HERE"),
        Path("/HOSTILE_WAS_HERE"),
        Path(sys.prefix) / "HOSTILE_WAS_HERE",
        Path("/tmp/HOSTILE_HOME_WAS_HERE"),
        Path("/tmp/hostile-write-private-tmp-marker"),
        Path("/var/tmp/hostile-write-private-tmp-marker"),
        Path("/dev/shm/hostile-write-private-tmp-marker"),
    ]
    for path in targets:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # left by an earlier run: start clean
    yield targets
    for path in targets:  # never leave the vandal's work behind, even on failure
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@needs_namespaces
def test_writes_outside_private_scratch_fail(tmp_path: Path, vandal_targets: list[Path]) -> None:
    package_dir = copy_package(tmp_path, "hostile-write")
    before = sorted(p.name for p in package_dir.iterdir())
    arena_init = (ROOT / "arena" / "__init__.py").stat()
    played = play_recorded(tmp_path, package_dir)
    assert_played_clean(played, "hostile-write")

    (env_line,) = lines(played, "hostile-write", "ENV ")
    assert os.environ["ARENA_HOME"]  # set for every test by conftest
    assert not {"ARENA_HOME", "ARENA_DB"} & set(env_line.split()), env_line
    wrote = [line.removeprefix("WROTE ") for line in lines(played, "hostile-write", "WROTE ")]
    denied = lines(played, "hostile-write", "DENIED ")
    assert len(wrote) + len(denied) == 16, played.outputs["hostile-write"]
    outside = [p for p in wrote if not p.startswith(PRIVATE_SCRATCH)]
    assert not outside, f"the agent wrote outside /tmp: {outside}"
    assert f"DENIED {ROOT / 'HOSTILE_WAS_HERE'}: " in played.outputs["hostile-write"]
    assert f"DENIED {package_dir / 'HOSTILE_WAS_HERE'}: " in played.outputs["hostile-write"]
    # Its /tmp works but is its own: nothing shows up in ours.
    assert "/tmp/hostile-write-private-tmp-marker" in wrote
    for path in vandal_targets:
        assert not path.exists(), f"{path} was written from inside the sandbox"
    assert sorted(p.name for p in package_dir.iterdir()) == before
    assert (package_dir / "agent.toml").read_bytes() == (
        PACKAGES / "hostile-write" / "agent.toml"
    ).read_bytes()
    after = (ROOT / "arena" / "__init__.py").stat()
    assert (after.st_size, after.st_mtime_ns) == (arena_init.st_size, arena_init.st_mtime_ns)


@needs_namespaces
def test_host_kernel_settings_are_not_writable(tmp_path: Path) -> None:
    """/proc/sys is global: writing ``kernel.core_pattern`` runs a program as root on the
    host. The agent only opens these files for writing, it never writes."""
    package_dir = copy_package(tmp_path, "hostile-kernel")
    played = play_recorded(tmp_path, package_dir)
    assert_played_clean(played, "hostile-kernel")
    said = played.outputs["hostile-kernel"]
    assert "/proc/sys/kernel/core_pattern" in said
    opened = lines(played, "hostile-kernel", "OPENED ")
    assert not opened, f"writable from inside the sandbox: {opened}"


# --- network ------------------------------------------------------------------------


@pytest.fixture
def listeners() -> Iterator[dict[str, socket.socket]]:
    """A TCP listener on 127.0.0.1 and an abstract unix socket named after its port."""
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    port = tcp.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with contextlib.suppress(OSError):
        udp.bind(("127.0.0.1", port))
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract.bind(f"\0hostile-arena-{port}")
    abstract.listen()
    socks = {"tcp": tcp, "udp": udp, "abstract": abstract}
    for sock in socks.values():
        sock.setblocking(False)
    try:
        yield socks
    finally:
        for sock in socks.values():
            sock.close()


def assert_nothing_arrived(sock: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        if sock.type == socket.SOCK_DGRAM:
            sock.recvfrom(1024)
        else:
            sock.accept()


@needs_namespaces
def test_network_is_unreachable(tmp_path: Path, listeners: dict[str, socket.socket]) -> None:
    package_dir = copy_package(tmp_path, "hostile-network")
    port = listeners["tcp"].getsockname()[1]
    (package_dir / "port.txt").write_text(f"{port}\n")
    played = play_recorded(tmp_path, package_dir)
    assert_played_clean(played, "hostile-network")

    failed = lines(played, "hostile-network", "FAILED ")
    assert not lines(played, "hostile-network", "CONNECTED "), played.outputs["hostile-network"]
    assert any(line.startswith(f"FAILED tcp 127.0.0.1:{port}: ") for line in failed)
    # Unreachable (no interface) or not permitted (the seccomp filter refuses socket()).
    assert any(
        "unreachable" in line.lower() or "not permitted" in line.lower() for line in failed
    ), failed
    assert len(failed) == 5
    for sock in listeners.values():
        assert_nothing_arrived(sock)


@needs_namespaces
@pytest.mark.parametrize("where", ["run", "package"])
def test_host_unix_sockets_are_unreachable(tmp_path: Path, where: str) -> None:
    """A unix socket on the host's file system (a PostgreSQL arena database, a container
    daemon) is a way out that a network namespace does not close, and read-only mounts
    do not stop ``connect``. Daemons keep theirs in /run; any folder the agent can see
    would do."""
    package_dir = copy_package(tmp_path, "hostile-network")
    if where == "run":
        if not os.access("/run", os.W_OK):
            pytest.skip("/run is not writable here")
        path = Path(f"/run/hostile-arena-{os.getpid()}-{time.monotonic_ns()}.sock")
    else:
        path = package_dir / "ipc" / "listener.sock"
    (package_dir / "unix.txt").write_text(f"{path}\n")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:

        def listen() -> None:
            path.parent.mkdir(exist_ok=True)
            listener.bind(str(path))
            listener.listen()
            listener.setblocking(False)

        played = play_recorded(tmp_path, package_dir, before_play=listen)
        assert_played_clean(played, "hostile-network")
        said = played.outputs["hostile-network"]
        assert f"unix {path}" in said
        assert f"CONNECTED unix {path}" not in said, said
        assert_nothing_arrived(listener)
    finally:
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


# --- the arena's own process --------------------------------------------------------


def test_play_and_record_does_not_import_packages_in_the_arena(tmp_path: Path) -> None:
    """Untrusted code runs only in the sandbox: checking a package before the series
    must not import it into the arena's process."""
    package_dir = copy_package(tmp_path, "hostile-import-side-effect")
    marker = package_dir / "IMPORTED_OUTSIDE_SANDBOX"
    url = f"sqlite:///{tmp_path / 'arena.db'}"
    report = play_and_record(
        "connect_four_v3", [str(package_dir), "random"], games=2, seed=1, db_url=url
    )
    assert len(report.match_ids) == 2
    assert_nothing_left(package_dir, worker_may_stay=False)
    imported_by = marker.read_text().strip() if marker.exists() else None
    assert imported_by is None, (
        f"the package was imported outside the sandbox by pid {imported_by} "
        f"(the arena is pid {os.getpid()})"
    )
    for match_id in report.match_ids:
        participants, _, _ = read_back(tmp_path / "arena.db", match_id)
        assert all(r["forfeit_reason"] is None for r in participants.values())


def test_relative_package_path_plays_in_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``arena match ./my-agent random`` passes a relative path; the worker starts in /."""
    copy = tmp_path / "packages" / "good-c4"
    shutil.copytree(PACKAGES / "good-c4", copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    result = play_match(
        get_env("connect_four_v3"),
        [resolve_agent("packages/good-c4"), resolve_agent("random")],
        seed=0,
    )
    assert [(s.seat, s.forfeit, s.error) for s in result.forfeits] == []
    assert "hello from good-c4: player_0 plays" in result.outputs["good-c4"]


MATCH_SCRIPT = textwrap.dedent(
    """
    import sys
    from arena.registry import get_env
    from arena.series import play_series
    from arena.sources import resolve_agent

    agents = [resolve_agent(sys.argv[1]), resolve_agent(sys.argv[2])]
    for result in play_series(get_env("tictactoe_v3"), agents, games=2, seed=0):
        print("forfeits:", [(s.label, s.forfeit) for s in result.forfeits])
    """
)


def test_missing_protections_are_reported_once(tmp_path: Path) -> None:
    """A fresh arena says once, on stderr, which protections this machine lacks."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            MATCH_SCRIPT,
            str(PACKAGES / "hostile-masked"),
            str(PACKAGES / "hostile-raise"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "ARENA_HOME": str(tmp_path / "home")},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("forfeits:") == 2, proc.stdout
    reported = [line for line in proc.stderr.splitlines() if line.startswith("sandbox:")]
    names = "; ".join(line.split(":", 1)[0] for line in ISOLATION.missing)
    short = f"sandbox: not applied here: {names} (-v says why; docs/sandbox.md)"
    assert reported == ([short] if ISOLATION.missing else [])
    if ISOLATION.namespaces and not ISOLATION.drop_uid:
        assert "a dropped user id" in proc.stderr


@needs_namespaces
def test_package_unreadable_by_other_users_is_refused_by_name(tmp_path: Path) -> None:
    """The worker runs under a uid of its own: a file only root may read is named, with
    the fix, and the package forfeits ``error`` instead of failing obscurely."""
    package = tmp_path / "packages" / "good-c4"
    shutil.copytree(PACKAGES / "good-c4", package)
    module = next(package.glob("*.py"))
    module.chmod(0o600)
    played = play_recorded(tmp_path, package)
    assert_forfeit(
        played,
        "good-c4",
        "error",
        [f"'{module.name}' in {package} is not readable by other users (mode 600)",
         f"chmod -R o+rX {package}"],
    )  # fmt: skip


@needs_namespaces
def test_worker_sees_only_its_own_root(tmp_path: Path) -> None:
    """Confidentiality: ARENA_HOME, the checkout, other packages and /etc/shadow do not
    exist for the worker; it runs under an unprivileged uid with no capabilities."""
    package = tmp_path / "packages" / "looker"
    other = tmp_path / "packages" / "other-entrant"
    other.mkdir(parents=True)
    (other / "weights.bin").write_text("SECRET-WEIGHTS")
    package.mkdir()
    (package / "agent.toml").write_text(
        '[agent]\nname = "looker"\nversion = "1.0"\nentry = "look:make_agent"\n'
        'envs = ["connect_four_v3"]\n'
    )
    # Folders above the Python runtime exist (empty but for the path to it), so probe
    # what lies beside it.
    probes = [str(ROOT / "README.md"), str(ROOT / ".git"), str(ROOT / "tests"), str(other),
              "/etc/shadow", "/etc/passwd", "/root/.bashrc", "/root/.pyenv/shims",
              "/home", "/var/lib", "/sys/fs/cgroup",
              os.environ.get("ARENA_HOME", str(ROOT / ".arena"))]  # fmt: skip
    (package / "look.py").write_text(
        textwrap.dedent(
            f"""
            import os
            PROBES = {probes!r}

            def make_agent(ctx):
                seen = [p for p in PROBES if os.path.exists(p)]
                status = open("/proc/self/status").read()
                uid = [l.split()[1] for l in status.splitlines() if l.startswith("Uid:")][0]
                caps = [l.split()[1] for l in status.splitlines() if l.startswith("CapEff:")][0]
                raise RuntimeError(f"SEEN={{seen}} UID={{uid}} CAPS={{caps}}")
            """
        )
    )
    played = play_recorded(tmp_path, package)
    text = played.seat("looker")["error_text"].strip().splitlines()[-1]
    assert "SEEN=[]" in text, text
    uid = int(text.split("UID=")[1].split()[0])
    assert uid >= 200_000
    assert "CAPS=0000000000000000" in text


def test_a_python_started_through_a_dotted_path_still_runs_the_sandboxed_worker(
    tmp_path: Path,
) -> None:
    # `cd bench && ../.venv/bin/python script.py` gives sys.executable a ".." through a
    # folder the sandbox does not mount: the worker's command must use the normalised path.
    (tmp_path / "sub").mkdir()
    dotted = Path("..") / os.path.relpath(sys.executable, tmp_path)  # relative to sub/
    assert (tmp_path / "sub" / dotted).exists()
    package = Path(__file__).resolve().parents[2] / "examples" / "agents" / "c4-heuristic"
    argv = ["arena", "match", "connect_four_v3", str(package), "random", "--games", "2",
            "--seed", "3", "--no-record", "--json"]  # fmt: skip
    script = f"import sys; from arena.cli import main; sys.argv = {argv!r}; main()"
    done = subprocess.run(
        [str(dotted), "-c", script], cwd=tmp_path / "sub", capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)["summary"]["c4-heuristic"]
    assert (summary["wins"], summary["forfeits"]) == (2, {})  # not 2 forfeits: 'crash'

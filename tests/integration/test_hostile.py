"""Hostile packages against the sandbox contract: protocol, resources, confidentiality.

The packages in ``tests/packages/hostile-*`` used here are written as an outsider
would (AGENT_PROTOCOL.md only): they guess the channel by looking at their own
file descriptors, starve the CPU, hide memory where an address-space limit does
not look, hunt for secrets and poke kernel interfaces. What every test checks:

- the recorded reason of the offending seat, read back from a SQLite file written
  by the real recorder (or by ``arena match`` itself);
- the honest side never forfeits: nothing the hostile package says is believed
  about another seat, and nothing it does slows another entrant's match;
- nothing secret or unsafe reaches a stored text, ``arena replay`` or a report;
- no process of the package is left after a match (but the worker a series keeps)
  or once the host pool closes, or once the arena itself is killed;
- the database passes ``PRAGMA integrity_check``; no signal reached the arena.

Helpers are copied from test_sandbox.py (not imported: that module is not a
package and is being rewritten too).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from arena.hosts import HostPool
from arena.limits import Limits
from arena.rating import RatingSystem
from arena.registry import get_env
from arena.result import MatchResult
from arena.sandbox.isolation import probe
from arena.series import play_series
from arena.sources import resolve_agent
from arena.storage import connect
from arena.storage.recorder import Recorder

PACKAGES = Path(__file__).resolve().parents[1] / "packages"
ROOT = Path(__file__).resolve().parents[2]
ISOLATION = probe()
GRACE_S = 5.0  # how long processes may take to disappear after a kill
CPU_OK = Limits(move_timeout_s=1.0, init_timeout_s=30.0)

needs_namespaces = pytest.mark.skipif(
    not ISOLATION.namespaces,
    reason="needs the sandbox's namespaces (a root of its own, network, PID): "
    + "; ".join(ISOLATION.missing),
)
needs_cgroups = pytest.mark.skipif(
    not getattr(ISOLATION, "cgroups", False),
    reason="needs per-sandbox cgroups (memory, CPU, freezing): "
    + ("; ".join(ISOLATION.missing) or "this arena has no cgroup support"),
)
needs_x86_64 = pytest.mark.skipif(
    platform.machine() != "x86_64", reason="the probes use x86_64 syscall numbers"
)
UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# --- no signal reaches the arena ----------------------------------------------------

WATCHED_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)


@pytest.fixture(autouse=True)
def arena_untouched() -> Iterator[list[int]]:
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


# --- processes left behind ----------------------------------------------------------


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return b""


def _processes() -> Iterator[tuple[int, bytes, bytes, bytes]]:
    """``(pid, cmdline, environ, status)`` of every live process but this one."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me:
            base = f"/proc/{entry}"
            status = _read(f"{base}/status")
            if not status or _status_field(status, b"State")[:1] == [b"Z"]:
                continue  # gone, or a zombie nobody reaped: it runs nothing
            yield int(entry), _read(f"{base}/cmdline"), _read(f"{base}/environ"), status


def _status_field(status: bytes, name: bytes) -> list[bytes]:
    for line in status.splitlines():
        if line.startswith(name + b":"):
            return line.split()[1:]
    return []


def _is_worker(cmdline: bytes, status: bytes) -> bool:
    """What a series keeps between matches: the sandbox wrapper and the worker (its PID 1)."""
    if cmdline.split(b"\0")[0].rsplit(b"/", 1)[-1] in (b"bwrap", b"unshare", b"setpriv"):
        return True
    nspid = _status_field(status, b"NSpid")
    return b"arena.sandbox" in cmdline and len(nspid) > 1 and nspid[-1] == b"1"


def package_processes(package_dirs: Sequence[Path], markers: Sequence[str] = ()) -> dict[int, str]:
    """Processes naming one of the package copies or a marker in their cmdline or env.

    ``[worker]``: the wrapper, the worker, and at most one child of each worker that
    runs the worker's own code (the next match's process, forked ahead of time).
    """
    paths = [str(d.resolve()).encode() for d in package_dirs]
    marks = [m.encode() for m in markers]
    every = sorted(_processes())
    workers = {pid: cmdline for pid, cmdline, _, status in every if _is_worker(cmdline, status)}
    spares: set[int] = set()  # workers whose one spare child was seen
    found = {}
    for pid, cmdline, environ, status in every:
        marked = any(m in cmdline for m in marks)
        if not (marked or any(n in cmdline or n in environ for n in paths)):
            continue
        kept = not marked and pid in workers
        parent = int((_status_field(status, b"PPid") or [b"0"])[0])
        if not marked and not kept and workers.get(parent) == cmdline and parent not in spares:
            spares.add(parent)
            kept = True
        shown = cmdline.replace(b"\0", b" ").decode(errors="replace")[:160]
        found[pid] = ("[worker] " if kept else "") + shown
    return found


def my_children() -> dict[int, str]:
    me = str(os.getpid()).encode()
    return {
        pid: cmdline.replace(b"\0", b" ").decode(errors="replace")[:120]
        for pid, cmdline, _, status in _processes()
        if _status_field(status, b"PPid") == [me]
        and b"multiprocessing.resource_tracker" not in cmdline
    }


_LEFTOVERS: list[str] = []  # found during a series; reported at teardown, after the verdict


@pytest.fixture(autouse=True)
def leftovers_reported() -> Iterator[None]:
    """Processes left behind fail the test at teardown, so its main assertion shows first."""
    _LEFTOVERS.clear()
    yield
    found, _LEFTOVERS[:] = list(_LEFTOVERS), []
    assert not found, "\n".join(found)


def assert_nothing_left(
    package_dirs: Sequence[Path],
    markers: Sequence[str] = (),
    *,
    worker_may_stay: bool,
    when: str = "",
    defer: bool = False,
) -> None:
    """Poll up to GRACE_S for the processes to go; fail (or, deferred, note) the rest."""
    deadline = time.monotonic() + GRACE_S
    while True:
        left = {
            pid: text
            for pid, text in package_processes(package_dirs, markers).items()
            if not (worker_may_stay and text.startswith("[worker]"))
        }
        children = {} if worker_may_stay else my_children()
        if not left and not children:
            return
        if time.monotonic() > deadline:
            message = f"left behind {when}: {left or ''} {children or ''}"
            if not defer:
                pytest.fail(message)
            _LEFTOVERS.append(message)
            return
        time.sleep(0.05)


def new_marker(name: str) -> str:
    return f"{name}-mk{uuid.uuid4().hex[:12]}"


# --- playing and recording ----------------------------------------------------------


def copy_package(tmp_path: Path, name: str, files: dict[str, str] | None = None) -> Path:
    target = tmp_path / "packages" / name
    shutil.copytree(PACKAGES / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    for file, text in (files or {}).items():
        (target / file).write_text(text)
    return target.resolve()


@dataclass
class Played:
    result: MatchResult
    match_id: int
    participants: dict[str, dict[str, Any]]  # by seat
    outputs: dict[str, str]
    actions: list[Any]

    def rows(self, label: str) -> list[dict[str, Any]]:
        return [r for r in self.participants.values() if r["label"] == label]

    def seat(self, label: str) -> dict[str, Any]:
        (row,) = self.rows(label)
        return row


def read_back(db: Path, match_id: int) -> tuple[dict[str, dict[str, Any]], dict[str, str], list]:
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
    agents: Sequence[str | Path],
    *,
    watch: Sequence[Path],
    env_id: str = "connect_four_v3",
    games: int = 1,
    limits: Limits | None = None,
    markers: Sequence[str] = (),
    preload: Sequence[Path] = (),
    before_play: Callable[[], None] | None = None,
    bound_s: float | None = None,
) -> list[Played]:
    """A recorded series in the sandbox; checks leftovers after every match and at the end.

    ``preload``: packages loaded into the same pool (their worker is alive all along)
    without playing. ``bound_s``: the whole series must return within it.
    """
    limits = limits or Limits()
    assert limits.sandbox
    spec = get_env(env_id)
    sources = [resolve_agent(str(a)) for a in agents]
    extra = [resolve_agent(str(p)) for p in preload]
    if before_play is not None:
        before_play()  # after resolving: the content hash reads every file
    db = tmp_path / "arena.db"
    engine = connect(f"sqlite:///{db}")
    match_ids: list[int] = []
    try:
        recorder = Recorder(engine, RatingSystem())

        def store(result: MatchResult) -> None:
            assert_nothing_left(
                watch,
                markers,
                worker_may_stay=True,
                defer=True,
                when=f"after match {len(match_ids) + 1}",
            )
            match_id = recorder.record(result)
            assert match_id is not None
            match_ids.append(match_id)

        started = time.monotonic()
        with HostPool(limits) as pool:
            for source in extra:
                pool.load(source)
            results = play_series(
                spec, sources, games=games, seed=5, limits=limits, hosts=pool, on_result=store
            )
            elapsed = time.monotonic() - started
        assert_nothing_left(
            watch, markers, worker_may_stay=False, defer=True, when="after the pool closed"
        )
        if bound_s is not None:
            assert elapsed < bound_s, f"the series took {elapsed:.1f}s, bound {bound_s}s"
    finally:
        engine.dispose()
    played = []
    for result, match_id in zip(results, match_ids, strict=True):
        participants, outputs, actions = read_back(db, match_id)
        played.append(Played(result, match_id, participants, outputs, actions))
    return played


def assert_honest_clean(played: Sequence[Played], hostile: str) -> None:
    """No seat but the hostile package's ever forfeits, and it never wins by one."""
    for p in played:
        others = [r for r in p.participants.values() if r["label"] != hostile]
        assert others, p.participants
        for row in others:
            assert row["forfeit_reason"] is None, (
                f"match {p.match_id}: honest {row['label']} ({row['seat']}) forfeited "
                f"{row['forfeit_reason']}: {(row['error_text'] or '')[-300:]}"
            )
        if any(r["forfeit_reason"] for r in others):
            assert all(r["rank"] != 1 for r in p.rows(hostile))


def assert_own_forfeit(
    played: Played, label: str, reasons: Sequence[str], prefix: str | None = None
) -> dict[str, Any]:
    (row,) = played.rows(label)
    assert row["forfeit_reason"] in reasons, row
    if prefix is not None:
        assert (row["error_text"] or "").startswith(prefix), row["error_text"]
    assert row["outcome"] == "loss" and row["rank"] == 2, row
    (other,) = [r for r in played.participants.values() if r["label"] != label]
    assert other["forfeit_reason"] is None and other["rank"] == 1, other
    return row


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def stored_texts(db: Path) -> list[str]:
    """Every text the arena stored from agents: errors, outputs, action logs (decoded)."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        texts = [t for (t,) in conn.execute("SELECT error_text FROM participants") if t]
        for outputs, actions in conn.execute("SELECT outputs, actions FROM matches"):
            texts += [outputs or "", actions or ""]
            texts += _strings(json.loads(outputs or "{}"))
            texts += _strings(json.loads(actions or "[]"))
    return texts


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 180) -> str:
    """Run the arena CLI (``python -m arena.cli``, the ``arena`` entry point's module)."""
    done = subprocess.run(
        [sys.executable, "-m", "arena.cli", *args],
        capture_output=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    return done.stdout.decode("utf-8", errors="replace")


# --- 1. forged frames about the opponent ---------------------------------------------


@pytest.mark.parametrize("phase", ["make,reset,act", "import"])
def test_forged_frames_never_blame_the_opponent(tmp_path: Path, phase: str) -> None:
    """Frames claiming the other seat raised or crashed, on every socket and pipe."""
    forger = copy_package(tmp_path, "hostile-forge", {"phase.txt": phase})
    honest = copy_package(tmp_path, "good-c4")
    played = play_recorded(tmp_path, [forger, honest], watch=[forger, honest], games=6, bound_s=120)
    assert len(played) == 6
    assert_honest_clean(played, "hostile-forge")
    for p in played:
        for row in p.participants.values():
            assert "FORGED" not in (row["error_text"] or "") or row["label"] == "hostile-forge"
        (mine,) = p.rows("hostile-forge")
        # A well-formed forged error or crash frame is the forger's own answer: its seat's
        # forfeit (a malformed one: "the agent broke the sandbox protocol").
        assert mine["forfeit_reason"] in (None, "crash", "error"), mine


# --- 2. malformed frames ---------------------------------------------------------------

FRAME_KINDS = [
    pytest.param("deep", ("crash",), id="deep-100000"),
    pytest.param("bigint", ("crash", "illegal"), id="int-5000-digits"),
    pytest.param("inf", ("crash", "illegal"), id="float-1e999"),
    pytest.param("array-inf", ("crash", "illegal"), id="array-1e309"),
    pytest.param("header-4g", ("crash",), id="header-4GiB"),
    pytest.param("truncated", ("crash", "timeout"), id="truncated-then-silence"),
]


@pytest.mark.parametrize(("kind", "reasons"), FRAME_KINDS)
def test_malformed_frames_forfeit_their_own_seat(
    tmp_path: Path, kind: str, reasons: tuple[str, ...]
) -> None:
    package = copy_package(tmp_path, "hostile-frames", {"kind.txt": kind})
    (played,) = play_recorded(
        tmp_path, [package, "random"], watch=[package], limits=CPU_OK, bound_s=30
    )
    row = assert_own_forfeit(played, "hostile-frames", reasons)
    if row["forfeit_reason"] == "crash":
        assert row["error_text"].startswith("the agent broke the sandbox protocol"), row


ABSURD = ["bigint", "inf", "deep", "ndarray-inf"]


@pytest.mark.parametrize("kind", ABSURD)
def test_absurd_actions_are_the_seats_forfeit(tmp_path: Path, kind: str) -> None:
    """10**5000, inf, a 10,000-deep list: the seat forfeits; nothing escapes the runner."""
    package = copy_package(tmp_path, "hostile-absurd", {"kind.txt": kind})
    (played,) = play_recorded(tmp_path, ["random", package], watch=[package], bound_s=30)
    assert_own_forfeit(played, "hostile-absurd", ("illegal", "crash"))


# --- 3. unsafe text ----------------------------------------------------------------------


def replay_text(tmp_path: Path, match_id: int) -> str:
    return cli("--db", f"sqlite:///{tmp_path / 'arena.db'}", "replay", str(match_id), cwd=tmp_path)


def test_lone_surrogate_is_stored_replaced(tmp_path: Path) -> None:
    package = copy_package(tmp_path, "hostile-surrogate")
    (played,) = play_recorded(tmp_path, [package, "random"], watch=[package])
    row = assert_own_forfeit(played, "hostile-surrogate", ("error",))
    text = row["error_text"]
    assert "\ufffd" in text and "lone surrogate" in text, text
    assert not re.search("[\ud800-\udfff]", text)
    out = played.outputs.get("hostile-surrogate", "")
    assert "hostile-surrogate out" in out and not re.search("[\ud800-\udfff]", out)
    shown = replay_text(tmp_path, played.match_id)
    assert "hostile-surrogate forfeited (error)" in shown and "\ufffd" in shown


def test_terminal_escapes_never_stored_or_replayed(tmp_path: Path) -> None:
    package = copy_package(tmp_path, "hostile-escapes")
    (played,) = play_recorded(tmp_path, [package, "random"], watch=[package])
    row = assert_own_forfeit(played, "hostile-escapes", ("error",))
    assert "hostile-escapes" in row["error_text"] and "RED" in row["error_text"]
    assert "hostile-escapes says" in played.outputs["hostile-escapes"]
    for text in stored_texts(tmp_path / "arena.db"):
        found = UNSAFE_CHARS.findall(text)
        assert not found, f"unsafe characters {found!r} stored in {text[-200:]!r}"
    shown = replay_text(tmp_path, played.match_id)
    assert "hostile-escapes forfeited (error)" in shown
    assert not UNSAFE_CHARS.findall(shown), repr(shown[-400:])


def test_escapes_in_the_manifest_are_refused_or_cleaned(tmp_path: Path) -> None:
    """Not in the contract: learning_type, description and authors are agent text too."""
    from arena.errors import ArenaError

    package = copy_package(tmp_path, "hostile-escapes-manifest")
    try:
        resolve_agent(str(package))
    except ArenaError as exc:  # refusing such a manifest is fine too
        assert "agent.toml" in str(exc)
        return
    (played,) = play_recorded(tmp_path, [package, "random"], watch=[package])
    assert all(r["forfeit_reason"] is None for r in played.participants.values())
    with contextlib.closing(sqlite3.connect(tmp_path / "arena.db")) as conn:
        for (learning_type,) in conn.execute("SELECT learning_type FROM agent_versions"):
            assert not UNSAFE_CHARS.findall(learning_type or ""), repr(learning_type)
    shown = replay_text(tmp_path, played.match_id)
    assert not UNSAFE_CHARS.findall(shown), repr(shown)
    db = f"sqlite:///{tmp_path / 'arena.db'}"
    board = cli("--db", db, "leaderboard", cwd=tmp_path)
    assert not UNSAFE_CHARS.findall(board), repr(board)
    site = tmp_path / "site"
    cli("--db", db, "report", "--out", str(site), cwd=tmp_path)
    for page in site.rglob("*"):
        if page.is_file() and page.suffix in (".html", ".json", ".txt", ".csv", ".js"):
            text = page.read_text(errors="replace")
            assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text, page


# --- 4. jamming the channel ----------------------------------------------------------


JAMS = [
    pytest.param("peek", ("timeout", "crash"), id="peek"),
    # A thread racing the agent's own reader may lose every race: then it just plays.
    pytest.param("steal", (None, "timeout", "crash"), id="steal"),
    pytest.param("silent", ("timeout", "crash"), id="silent"),
    pytest.param("close", ("timeout", "crash"), id="close"),
]


@pytest.mark.parametrize(("mode", "reasons"), JAMS)
def test_jammed_channel_is_a_timeout_not_a_hang(
    tmp_path: Path, mode: str, reasons: tuple[str | None, ...]
) -> None:
    """Two games, bound 30 s (move limit 1 s): the worker is replaced between them."""
    package = copy_package(tmp_path, "hostile-peek-jam", {"mode.txt": mode})
    played = play_recorded(
        tmp_path, [package, "random"], watch=[package], games=2, limits=CPU_OK, bound_s=30
    )
    assert_honest_clean(played, "hostile-peek-jam")
    for p in played:
        if None in reasons and p.seat("hostile-peek-jam")["forfeit_reason"] is None:
            continue
        assert_own_forfeit(p, "hostile-peek-jam", [r for r in reasons if r])


# --- 5, 6. CPU: nobody else's match slows down -----------------------------------------


@needs_cgroups
def test_import_time_hogs_do_not_slow_other_matches(tmp_path: Path) -> None:
    """A loaded (idle) package spinning a thread and 14 setsid children since import.

    Without per-sandbox CPU control two honest agents burning 0.15 s of CPU per
    move (limit 1 s) get a few percent of 2 cores and time out.
    """
    marker = new_marker("hostile-import-thread")
    hog = copy_package(tmp_path, "hostile-import-thread", {"marker.txt": marker})
    honest = copy_package(tmp_path, "honest-cpu")
    # Its hogs may live (frozen) while the pool does: leftovers are checked after it.
    played = play_recorded(
        tmp_path, [honest, honest], watch=[honest], preload=[hog], games=2, limits=CPU_OK
    )
    assert_nothing_left([hog, honest], [marker], worker_may_stay=False)
    for p in played:
        for row in p.participants.values():
            assert row["forfeit_reason"] is None, (row, (row["error_text"] or "")[-300:])
        assert p.result.steps >= 7


@needs_cgroups
def test_setsid_hogs_do_not_slow_the_opponent(tmp_path: Path) -> None:
    marker = new_marker("hostile-setsid-hogs")
    hogs = copy_package(tmp_path, "hostile-setsid-hogs", {"marker.txt": marker})
    honest = copy_package(tmp_path, "honest-cpu")
    played = play_recorded(
        tmp_path, [hogs, honest], watch=[hogs, honest], markers=[marker], games=2, limits=CPU_OK
    )
    assert_honest_clean(played, "hostile-setsid-hogs")
    for p in played:
        assert p.seat("hostile-setsid-hogs")["forfeit_reason"] in (None, "crash"), p.participants


@needs_cgroups
def test_process_cap_holds_and_nothing_is_left(tmp_path: Path) -> None:
    """Not in the list but in the contract: processes capped (here 32, threads included)."""
    marker = new_marker("hostile-pids")
    package = copy_package(tmp_path, "hostile-pids", {"marker.txt": marker})
    (played,) = play_recorded(
        tmp_path,
        [package, "random"],
        watch=[package],
        markers=[marker],
        limits=Limits(max_processes=32),
        bound_s=60,
    )
    said = played.outputs.get("hostile-pids", "")
    (line,) = [x for x in said.splitlines() if x.startswith("hostile-pids: forked")]
    forked = int(line.split()[2])
    assert forked < 32 and "then no refusal" not in line, line
    assert played.seat("random")["forfeit_reason"] is None


# --- 7. memory for the whole tree -------------------------------------------------------


@needs_cgroups
def test_memfd_counts_against_memory(tmp_path: Path) -> None:
    package = copy_package(tmp_path, "hostile-memfd")
    (played,) = play_recorded(
        tmp_path, [package, "random"], watch=[package], limits=Limits(memory_mb=512), bound_s=60
    )
    row = assert_own_forfeit(played, "hostile-memfd", ("crash",))
    assert "memory" in row["error_text"].lower(), row["error_text"]
    assert "survived" not in played.outputs.get("hostile-memfd", "")


@needs_cgroups
@pytest.mark.slow  # forks fill 1 GB before the kill: about 21 s
def test_forked_children_count_against_memory(tmp_path: Path) -> None:
    package = copy_package(tmp_path, "hostile-fork-memory", {"memory_mb.txt": "1024"})
    (played,) = play_recorded(
        tmp_path, ["random", package], watch=[package], limits=Limits(memory_mb=1024), bound_s=60
    )
    said = played.outputs.get("hostile-fork-memory", "")
    row = played.seat("hostile-fork-memory")
    assert row["forfeit_reason"] == "crash", f"{row['forfeit_reason']}; the agent said: {said}"
    assert_own_forfeit(played, "hostile-fork-memory", ("crash",))
    assert "memory" in row["error_text"].lower(), (row["error_text"], said)


# --- 8. confidentiality -----------------------------------------------------------------


@needs_namespaces
def test_snoop_finds_and_publishes_nothing(tmp_path: Path) -> None:
    """Secrets in the database, in the other entrant's package and in the arena's
    environment; ``arena match`` runs as a real process (its environ is on /proc)."""
    secrets = {
        where: f"HOSTILE-SNOOP-SECRET-{uuid.uuid4().hex}" for where in ("db", "package", "env")
    }
    home = tmp_path / ".arena"  # also ``.arena/arena.db`` relative to the arena's cwd
    home.mkdir()
    db = home / "arena.db"
    connect(f"sqlite:///{db}").dispose()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE planted (secret TEXT)")
        conn.execute("INSERT INTO planted VALUES (?)", (secrets["db"],))
        conn.commit()
    snoop = copy_package(tmp_path, "hostile-snoop")
    victim = copy_package(tmp_path, "good-c4", {"credentials.txt": f"token={secrets['package']}"})
    env = {"ARENA_HOME": str(home), "ARENA_SNOOP_TOKEN": secrets["env"]}
    env.pop("ARENA_DB", None)
    cli("match", "connect_four_v3", str(snoop), str(victim), "--games", "2", cwd=tmp_path, env=env)
    assert_nothing_left([snoop, victim], worker_may_stay=False)

    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute(
            "SELECT label, seat, forfeit_reason, error_text FROM participants"
        ).fetchall()
        outputs = [json.loads(o or "{}") for (o,) in conn.execute("SELECT outputs FROM matches")]
    assert len(rows) == 4
    assert all(reason is None for label, _, reason, _ in rows if label == "good-c4"), rows
    # It ran, and published through each channel: output, an error text, a move.
    reasons = {seat: reason for label, seat, reason, _ in rows if label == "hostile-snoop"}
    assert reasons == {"player_0": "error", "player_1": "illegal"}, rows
    said = "\n".join(o.get("hostile-snoop", "") for o in outputs)
    assert "SNOOP import" in said and "SNOOP done" in said, said[-2000:]

    texts = stored_texts(db)
    for where, secret in secrets.items():
        assert not any(secret in t for t in texts), f"the {where} secret was published"
    found = [line for line in said.splitlines() if line.startswith(("FOUND ", "LEAK "))]
    forbidden = [
        str(tmp_path),
        "/etc/shadow",
        "/etc/gshadow",
        "/root/.ssh",
        "/root/.bash_history",
        *(str(ROOT / n) for n in ("README.md", "pyproject.toml", ".git", "tests", "docs")),
    ]
    bad = [
        line
        for line in found
        if line.startswith("LEAK ")
        or (any(f in line for f in forbidden) and str(snoop) not in line.split(" ", 2)[-1])
    ]
    assert not bad, "\n".join(bad[:40])
    # Host folders hold at most the path to what the sandbox must bind: Python, the
    # arena's code and the package itself (bound at its own path).
    needed = [ROOT / "arena", Path(sys.prefix), Path(sys.base_prefix), snoop]
    for line in said.splitlines():
        if line.startswith("LS "):
            folder, _, names = line.removeprefix("LS ").partition(": ")
            if folder in ("/root", "/home", "/work", "/srv", "/tmp"):
                allowed = {
                    p.relative_to(folder).parts[0] for p in needed if p.is_relative_to(folder)
                }
                assert set(names.split()) <= allowed, line

    site = tmp_path / "site"
    cli("report", "--out", str(site), cwd=tmp_path, env=env)
    for page in site.rglob("*"):
        if page.is_file():
            data = page.read_bytes()
            for where, secret in secrets.items():
                assert secret.encode() not in data, f"the {where} secret is in {page}"


# --- 9, 10. kernel surface -----------------------------------------------------------------


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A temporary folder with a short path: unix socket paths hold 107 bytes at most."""
    folder = Path(tempfile.mkdtemp(prefix="hostile-", dir="/tmp")).resolve()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def unix_server(short_tmp: Path) -> Iterator[tuple[Path, socket.socket]]:
    """A listening unix socket in a temporary folder of the host."""
    path = short_tmp / "srv" / f"hostile-server-{uuid.uuid4().hex[:8]}.sock"
    path.parent.mkdir()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()
    server.setblocking(False)
    try:
        yield path, server
    finally:
        server.close()


def _report(row: dict[str, Any], name: str) -> list[str]:
    text = row["error_text"] or ""
    assert f"{name} report" in text and f"{name} end" in text, text[-2000:]
    # The raise statement is quoted in the traceback too: the message is the last copy.
    return text.rsplit(f"{name} report", 1)[1].split(f"{name} end", 1)[0].strip().splitlines()


@needs_namespaces
def test_no_unix_socket_reachable(
    tmp_path: Path, short_tmp: Path, unix_server: tuple[Path, socket.socket]
) -> None:
    path, server = unix_server
    package = copy_package(short_tmp, "hostile-sockets")
    inside = package / f"hostile-ipc-{uuid.uuid4().hex[:8]}.sock"
    planted = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:

        def listen() -> None:
            planted.bind(str(inside))
            planted.listen()
            planted.setblocking(False)

        (played,) = play_recorded(
            tmp_path, [package, "random"], watch=[package], before_play=listen
        )
        row = assert_own_forfeit(played, "hostile-sockets", ("error",))
        lines = _report(row, "hostile-sockets")
        ok = [line for line in lines if line.startswith("OK ")]
        assert not ok, "\n".join(lines)
        tried = {line.removeprefix("TRY ") for line in lines if line.startswith("TRY ")}
        for what in (
            "socketpair(AF_UNIX, SOCK_DGRAM)",
            "io_uring_setup",
            "socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)",
        ):
            assert what in tried, lines
        # The socket in its own folder is visible (the folder is bound in) yet useless.
        assert any(t.startswith("connect ") and t.endswith(inside.name) for t in tried), lines
        assert not any(str(path) in line for line in lines), "the host's socket is visible"
        assert "INFO socketpair(AF_UNIX, SOCK_STREAM) works" in lines
        for sock in (server, planted):
            with pytest.raises(BlockingIOError):
                sock.accept()
    finally:
        planted.close()


@needs_namespaces
@needs_x86_64
def test_kernel_interfaces_are_denied(tmp_path: Path) -> None:
    package = copy_package(tmp_path, "hostile-kernel2")
    (played,) = play_recorded(tmp_path, ["random", package], watch=[package])
    row = assert_own_forfeit(played, "hostile-kernel2", ("error",))
    lines = _report(row, "hostile-kernel2")
    assert len(lines) >= 25, lines
    got_through = [line for line in lines if line.startswith(("OK ", "REACHED "))]
    assert not got_through, "\n".join(got_through)
    assert any(line.startswith("DENIED clone3(") and "ENOSYS" in line for line in lines), lines


# --- 11. the sandbox dies with the arena ------------------------------------------------


def _descendants(root: int) -> dict[int, bytes]:
    """pid -> start time (field 22 of /proc/pid/stat) of every process under ``root``."""
    parents: dict[int, int] = {}
    starts: dict[int, bytes] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _read(f"/proc/{entry}/stat")
            if stat:
                fields = stat.rsplit(b")", 1)[-1].split()
                parents[int(entry)] = int(fields[1])
                starts[int(entry)] = fields[19]
    found: dict[int, bytes] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        for child, parent in parents.items():
            if parent == pid and child not in found:
                found[child] = starts[child]
                todo.append(child)
    return found


def _alive(pid: int, start: bytes) -> bool:
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return False
    fields = stat.rsplit(b")", 1)[-1].split()
    return fields[19] == start and fields[0] != b"Z"


@needs_namespaces
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_sandbox_dies_with_the_arena(tmp_path: Path, how: signal.Signals) -> None:
    marker = new_marker("hostile-linger")
    linger = copy_package(tmp_path, "hostile-linger", {"marker.txt": marker})
    honest = copy_package(tmp_path, "honest-cpu", {"burn_s.txt": "0.05"})
    home = tmp_path / "home"
    arena = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "arena.cli",
            "match",
            "connect_four_v3",
            str(linger),
            str(honest),
            "--games",
            "200",
        ],
        cwd=tmp_path,
        env={**os.environ, "ARENA_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not any("sleeper-match" in t for t in package_processes([], [marker]).values()):
            assert arena.poll() is None, arena.stderr.read().decode(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "the match never started"
            time.sleep(0.1)
        time.sleep(1.0)  # a few moves into the match
        tree = _descendants(arena.pid)
        sleepers = [p for p in tree if marker.encode() in _read(f"/proc/{p}/cmdline")]
        assert sleepers, f"the sandbox's processes are not under the arena: {tree}"
        os.kill(arena.pid, how)
        arena.wait(timeout=30)
        deadline = time.monotonic() + GRACE_S
        while True:
            left = {pid for pid, start in tree.items() if _alive(pid, start)}
            named = package_processes([linger, honest], [marker])
            if not left and not named:
                break
            if time.monotonic() > deadline:
                shown = {p: _read(f"/proc/{p}/cmdline")[:100] for p in left}
                pytest.fail(f"left after {how.name} of the arena: {shown} {named}")
            time.sleep(0.05)
    finally:
        if arena.poll() is None:
            os.killpg(arena.pid, signal.SIGKILL)
            arena.wait()
        if arena.stderr is not None:
            arena.stderr.close()
        # Never leave them behind, even when the test failed.
        for pid in [*package_processes([linger, honest], [marker]), *locals().get("tree", {})]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    db = home / "arena.db"
    if db.exists():
        with contextlib.closing(sqlite3.connect(db)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

"""arena serve under load: the home page and ``GET /api/leaderboard`` at 10,000 stored matches.

Fills a fresh database with ``--matches`` (default 10,000) rated matches between
``--agents`` (default 4) synthetic agents, half tictactoe_v3 and half
connect_four_v3, stored with the real ``Recorder`` (each one moves the stored
TrueSkill ratings, as a played match does; the results are synthesised as in
``leaderboard_scale.py``, since playing them would time the games). Then it starts a
real ``arena serve`` (uvicorn, worker on) on 127.0.0.1 and, for ``--seconds`` (10)
each, keeps ``--readers`` (50) concurrent readers (one keep-alive connection
each, a bare HTTP/1.1 client on asyncio streams) asking for:

- ``/static/arena.css``, the baseline: a static file through the same server;
- ``/``, the home page: every env's leaderboard, rendered;
- ``/api/leaderboard``, every env's rows as JSON.

For each: requests, errors (a transport error or a status other than 200),
requests/s, p50/p95/p99 latency, and the ratio of p95 and requests/s to the
baseline's. Target: 0 errors and p95 <= 250 ms. Then the time from an upload
(``POST /api/agents``) to ``accepted`` (``GET /api/submissions/ID``, polled every
50 ms), median of ``--uploads`` (5) different packages.

Usage::

    .venv/bin/python bench/server_load.py            # print the report (about a minute)
    .venv/bin/python bench/server_load.py --write    # and refresh its section of RESULTS.md
    .venv/bin/python bench/server_load.py --db postgresql+psycopg://...  # an empty database
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

# Run as ``python bench/server_load.py``: this folder is first on sys.path; the repo
# root is added for the live-server helpers the browser tests use.
from match_overhead import RESULTS, ROOT, machine, table
from results import write_section

sys.path.insert(0, str(ROOT))

import httpx

from tests.e2e.live_server import (
    LiveServer,
    add_user,
    package_archive,
    start_server,
    stop_server,
)

ENVS = ("tictactoe_v3", "connect_four_v3")
TARGET_P95_S = 0.250
PATHS = {
    "static (baseline)": "/static/arena.css",
    "home": "/",
    "api leaderboard": "/api/leaderboard",
}


# --------------------------------------------------------------------------- data


def as_connect_four(result: Any) -> Any:
    """A synthetic tic-tac-toe result as a connect_four_v3 one (seats, columns)."""
    seats = {"player_1": "player_0", "player_2": "player_1"}
    return replace(
        result,
        env_id="connect_four_v3",
        seats=[replace(s, seat=seats[s.seat]) for s in result.seats],
        actions=[[seats[seat], int(a) % 7] for seat, a in result.actions],
    )


def fill(url: str, matches: int, agents: int, seed: int) -> float:
    """Store ``matches`` synthetic rated matches over the two envs; seconds taken."""
    from leaderboard_scale import synthesise

    from arena.rating import RatingSystem
    from arena.storage import connect, session_factory
    from arena.storage.recorder import Recorder, ensure_agent_version

    half = matches // 2
    results = synthesise(half, agents, seed) + [
        as_connect_four(r) for r in synthesise(matches - half, agents, seed + 1)
    ]
    engine = connect(url)
    # The agent versions first (see leaderboard_scale.build_db: a batch's second connection).
    with session_factory(engine).begin() as session:
        for info in {a.content_hash: a for r in results for a in r.agents}.values():
            ensure_agent_version(session, info)
    recorder = Recorder(engine, RatingSystem())
    t0 = time.perf_counter()
    with recorder.batch(max_matches=1000, max_seconds=10.0):
        for result in results:
            recorder.record(result)
    engine.dispose()
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- load


@dataclass
class Load:
    name: str
    path: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def _get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bool]:
    """One keep-alive HTTP/1.1 GET: (status, whether the server keeps the connection)."""
    writer.write(request)
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
    lines = head.split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    fields = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
    await reader.readexactly(int(fields["content-length"]))
    return status, fields.get("connection", "").strip() != "close"


async def _reader(host: str, port: int, load: Load, until: float) -> None:
    # A bare HTTP/1.1 client on asyncio streams: httpx spends about a millisecond of CPU
    # per request, on the cores the server shares, and the bench would time that too.
    request = f"GET {load.path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        try:
            if connection is None:
                connection = await asyncio.open_connection(host, port)
            status, keep = await asyncio.wait_for(_get(*connection, request), 30.0)
            ok, why = status == 200, f"HTTP {status}"
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as exc:
            ok, why, keep = False, f"{type(exc).__name__}: {exc}", False
        if ok:
            load.latencies.append(time.perf_counter() - t0)
        else:
            load.errors += 1
            load.first_error = load.first_error or why
        if not keep and connection is not None:
            connection[1].close()
            connection = None
    if connection is not None:
        connection[1].close()


async def _load(base: str, load: Load, readers: int) -> None:
    url = httpx.URL(base)
    host, port = url.host, url.port or 80
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(3):  # warm: the first leaderboard is computed, templates compiled
            (await client.get(load.path)).raise_for_status()
    start = time.perf_counter()
    until = start + load.seconds
    await asyncio.gather(*(_reader(host, port, load, until) for _ in range(readers)))
    load.seconds = time.perf_counter() - start


def run_load(server: LiveServer, name: str, path: str, seconds: float, readers: int) -> Load:
    load = Load(name, path, seconds)
    asyncio.run(_load(server.url, load, readers))
    return load


def upload_to_accepted(server: LiveServer, token: str, tmp: Path, uploads: int) -> list[float]:
    """Seconds from each upload's POST to its ``accepted``, for ``uploads`` new packages."""
    auth = {"Authorization": f"Bearer {token}"}
    times = []
    with httpx.Client(base_url=server.url, headers=auth, timeout=30.0) as client:
        for k in range(uploads):
            archive = package_archive(tmp, f"bench-upload-{k}")
            t0 = time.perf_counter()
            sent = client.post(
                "/api/agents", files={"package": (archive.name, archive.read_bytes())}
            )
            if sent.status_code != 202:
                raise SystemExit(f"upload {k}: HTTP {sent.status_code} {sent.text}")
            url = f"/api/submissions/{sent.json()['submission']}"
            deadline = t0 + 120.0
            while (status := client.get(url).json())["status"] == "checking":
                if time.perf_counter() > deadline:
                    raise SystemExit(f"upload {k}: still checking after 120 s")
                time.sleep(0.05)
            if status["status"] != "accepted":
                raise SystemExit(f"upload {k}: {status}")
            times.append(time.perf_counter() - t0)
    return times


# --------------------------------------------------------------------------- report


def shown_args() -> list[str]:
    """This run's arguments, a database URL's password hidden, and its database name
    (a fresh one per run) as DB."""
    from sqlalchemy import make_url

    args = sys.argv[1:]
    for k, arg in enumerate(args[:-1]):
        if arg == "--db":
            url = make_url(args[k + 1]).set(database="DB")
            args[k + 1] = url.render_as_string(hide_password=True)
    return args


def report(
    args: argparse.Namespace,
    info: dict[str, str],
    fill_s: float,
    loads: list[Load],
    uploads: list[float],
    database: str,
) -> str:
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    base = loads[0]
    rows = [
        [
            x.name,
            x.path,
            str(x.requests),
            str(x.errors),
            f"{x.per_s:.0f}",
            f"{x.pct(50) * 1000:.1f}",
            f"{x.pct(95) * 1000:.1f}",
            f"{x.pct(99) * 1000:.1f}",
            f"{x.pct(95) / base.pct(95):.2f}",
            f"{x.per_s / base.per_s:.2f}",
        ]
        for x in loads
    ]
    served = loads[1:]
    worst = max(x.pct(95) for x in served)
    errors = sum(x.errors for x in served)
    meets = errors == 0 and worst <= TARGET_P95_S
    notes = [f"{x.name}: first error {x.first_error}" for x in loads if x.errors]
    return "\n".join(
        [
            f"Date: {when}  ",
            f"Command: `{shlex.join(['python', 'bench/server_load.py', *shown_args()])}`  ",
            f"Machine: `{info['uname']}`  ",
            f"CPU: {info['cpu']}, {info['cores']} cores; load average at start {info['load']}  ",
            f"Python {info['python']}, SQLAlchemy {info['sqlalchemy']}; database {database}  ",
            f"Code: {info['code']}",
            "",
            f"{args.matches} rated matches ({' and '.join(ENVS)}, half each) between "
            f"{args.agents} synthetic agents, stored with `Recorder` in {fill_s:.1f} s. "
            f"One `arena serve` (uvicorn, worker on); {args.readers} concurrent readers "
            f"(one keep-alive connection each, a bare HTTP/1.1 client on asyncio streams, in one "
            f"other process on the same cores) for {args.seconds:g} s per page:",
            "",
            table(
                [
                    "page",
                    "path",
                    "requests",
                    "errors",
                    "req/s",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "p95 x static",
                    "req/s x static",
                ],
                rows,
            ),
            "",
            f"Home and leaderboard: {errors} errors, worst p95 **{worst * 1000:.0f} ms "
            f"({'meets' if meets else 'misses'} target: 0 errors, p95 <= "
            f"{TARGET_P95_S * 1000:.0f} ms)**.",
            *(["", *notes] if notes else []),
            "",
            f"Upload to `accepted` (POST /api/agents, then GET /api/submissions/ID every 50 ms; "
            f"the sandboxed check with its smoke match), {len(uploads)} new packages: median "
            f"**{statistics.median(uploads):.2f} s** (all: "
            f"{', '.join(f'{t:.2f}' for t in uploads)} s).",
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--matches", type=int, default=10_000, help="matches to store")
    parser.add_argument("--agents", type=int, default=4, help="synthetic agents")
    parser.add_argument("--readers", type=int, default=50, help="concurrent readers")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of load per page")
    parser.add_argument("--uploads", type=int, default=5, help="uploads timed to accepted")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic results")
    parser.add_argument("--db", metavar="URL", help="an empty database (default: SQLite in tmp)")
    parser.add_argument("--write", action="store_true", help="store the report in RESULTS.md")
    args = parser.parse_args(argv)
    if args.matches < 2 or args.agents < 2 or args.readers < 1 or args.uploads < 1:
        parser.error("need --matches >= 2, --agents >= 2, --readers >= 1, --uploads >= 1")

    info = machine()
    with tempfile.TemporaryDirectory(prefix="arena-serve-bench-") as tmp:
        folder = Path(tmp)
        url = args.db or f"sqlite:///{folder / 'arena.db'}"
        database = url.split(":", 1)[0]
        print(f"storing {args.matches} matches ...", file=sys.stderr)
        fill_s = fill(url, args.matches, args.agents, args.seed)
        home = folder / "home"
        server = start_server(url, home)
        try:
            token = add_user(url, home, "bench", organiser=True)
            loads = []
            for name, path in PATHS.items():
                print(f"{name}: {args.readers} readers for {args.seconds:g} s ...", file=sys.stderr)
                loads.append(run_load(server, name, path, args.seconds, args.readers))
            print(f"{args.uploads} uploads ...", file=sys.stderr)
            uploads = upload_to_accepted(server, token, folder, args.uploads)
        finally:
            status = stop_server(server)
        if status != 0:
            raise SystemExit(f"arena serve exited {status}:\n{server.log_text()[-3000:]}")
    body = report(args, info, fill_s, loads, uploads, database)
    print(body)
    if args.write:
        key = f"{info['cpu']}, {info['cores']} cores, {database}"
        write_section("server_load", key, body)
        print(f"wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()

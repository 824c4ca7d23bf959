"""The ``arena`` command line: every command parses, calls one library function, prints.

Errors a user can fix are printed as one line on stderr with exit code 1; ``-v``
adds the detail (an agent's traceback).
"""

from __future__ import annotations

import json
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from arena.errors import ArenaError, environment_error
from arena.textsafe import TEXT_LIMIT, clean_text

app = typer.Typer(
    help="A competition arena for multi-agent reinforcement learning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
agent_app = typer.Typer(help="Check, submit and list agent packages.", no_args_is_help=True)
tournament_app = typer.Typer(help="Run tournaments from a TOML file.", no_args_is_help=True)
app.add_typer(agent_app, name="agent")
app.add_typer(tournament_app, name="tournament")
scheduler_app = typer.Typer(help="Run scheduled tournaments when due.", no_args_is_help=True)
app.add_typer(scheduler_app, name="scheduler")

# Piped output (scripts, CI logs) gets wide tables instead of rich's 80 columns.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
T = TypeVar("T")


class State:
    db: str | None = None
    verbose: bool = False


def _fail(message: str, detail: str | None) -> NoReturn:
    # Plain writes: one unwrapped line a script can match, whatever the terminal width.
    # Messages quote what agents and archives control (names, error texts): cleaned.
    sys.stderr.write(f"error: {' '.join(clean_text(message).splitlines())}\n")
    if State.verbose and detail:
        sys.stderr.write(clean_text(detail).rstrip() + "\n")
    raise typer.Exit(1)


def _database_shown() -> tuple[str, str]:
    """The database URL (password hidden), and why SQLite fails when the folder says."""
    from sqlalchemy import make_url

    from arena.storage.db import default_url, sqlite_problem

    try:
        url = make_url(State.db or default_url())
    except Exception:
        return "(unreadable URL)", ""
    why = ""
    if url.get_backend_name() == "sqlite" and url.database:
        why = sqlite_problem(Path(url.database))
    return url.render_as_string(hide_password=True), why


def _run(fn: Callable[[], T]) -> T:
    """Call a library function; turn its failure into one line and exit code 1.

    An ArenaError is the input's fault; an OSError (a full disk, a read-only
    folder) or a database that cannot be written is the machine's, named by its
    path or the database URL. ``-v`` adds the detail: an agent's traceback, or
    the arena's own for the machine's failures.
    """
    try:
        return fn()
    except ArenaError as exc:
        _fail(str(exc), exc.detail)
    except Exception as exc:
        sa = sys.modules.get("sqlalchemy.exc")
        on_db = sa is not None and isinstance(exc, sa.OperationalError)
        db, why = _database_shown() if on_db else (None, "")
        message = environment_error(exc, db=db, why=why)
        if message is None:
            raise
        _fail(message, traceback.format_exc())


def _json(data: Any) -> None:
    # ensure_ascii: control characters and lone surrogates leave as \u escapes
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def _cell(value: Any) -> str:
    """Stored or agent-made text for rich: no escape sequences, no rich markup."""
    return escape(clean_text(str(value)))


def _write(text: str, *, stream: Any = None) -> None:
    """A plain line of text that may quote stored or agent-made text, cleaned."""
    (stream or sys.stdout).write(clean_text(text, limit=max(TEXT_LIMIT, len(text))) + "\n")


@app.callback()
def main_options(
    db: Annotated[
        str | None,
        typer.Option(help="SQLAlchemy database URL [env: ARENA_DB; default $ARENA_HOME/arena.db]"),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Show agent tracebacks.")
    ] = False,
) -> None:
    """A competition arena for multi-agent reinforcement learning."""
    State.db = db
    State.verbose = verbose


@app.command("envs")
def envs_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the environments agents can play."""
    from arena.catalogue import env_catalogue

    rows = _run(env_catalogue)
    if as_json:
        _json(rows)
        return
    table = Table(title="Environments")
    for col in ("env", "family", "sides", "turns", "mask", "available"):
        table.add_column(col)
    for r in rows:
        sides = " vs ".join(
            f"{s['role']}×{len(s['seats'])}" if len(s["seats"]) > 1 else s["role"]
            for s in r["sides"]
        )
        table.add_row(
            r["env"],
            r["family"],
            sides,
            "turn-based" if r["turn_based"] else "simultaneous",
            "yes" if r["action_mask"] else "",
            "yes" if r["available"] else "no (extra)",
        )
    out.print(table)


@app.command("match")
def match_command(
    env: Annotated[str, typer.Argument(help="Env id, e.g. connect_four_v3.")],
    agents: Annotated[
        list[str], typer.Argument(help="Agents in side order: built-in, path or name[@version].")
    ],
    games: Annotated[
        int, typer.Option(help="Number of games; seats alternate in symmetric games.")
    ] = 1,
    seed: Annotated[int, typer.Option(help="Root seed: the same seed replays the same games.")] = 0,
    move_timeout: Annotated[float, typer.Option(help="Seconds allowed for one act call.")] = 1.0,
    memory_mb: Annotated[
        int, typer.Option(help="Memory cap of each sandboxed agent process (MiB).")
    ] = 2048,
    record: Annotated[bool, typer.Option(help="Store the matches and update ratings.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Play agents against each other and record the matches."""
    from arena.play import play_and_record
    from arena.runner import Limits

    limits = Limits(move_timeout_s=move_timeout, memory_mb=memory_mb)
    report = _run(
        lambda: play_and_record(
            env, agents, games=games, seed=seed, limits=limits, db_url=State.db, record=record
        )
    )
    if as_json:
        _json(report.to_dict())
        return
    table = Table(title=_cell(f"{env}: {games} game(s), seed {seed}"))
    for col in ("agent", "wins", "draws", "losses", "forfeits", "mean return"):
        table.add_column(col, justify="left" if col == "agent" else "right")
    for label, row in report.summary.items():
        forfeits = ", ".join(f"{_cell(k)} {v}" for k, v in row["forfeits"].items()) or "0"
        table.add_row(
            _cell(label),
            str(row["wins"]),
            str(row["draws"]),
            str(row["losses"]),
            forfeits,
            f"{row['mean_return']:.3f}",
        )
    out.print(table)
    if record:
        out.print(f"stored {len(report.match_ids)} match(es)")


@app.command("crossplay")
def crossplay_command(
    env: Annotated[str, typer.Argument(help="A cooperative env id, e.g. simple_spread_v3.")],
    agent_a: Annotated[str, typer.Argument(help="Agent A: built-in, path or name[@version].")],
    agent_b: Annotated[str, typer.Argument(help="Agent B.")],
    games: Annotated[int, typer.Option(help="Games per line-up (same seeds for each).")] = 10,
    seed: Annotated[int, typer.Option(help="Root seed.")] = 0,
    move_timeout: Annotated[float, typer.Option(help="Seconds allowed for one act call.")] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Mix seats of two agents in one cooperative team: mean team return per line-up.

    Nothing is stored or rated.
    """
    from arena.registry import get_service
    from arena.runner import Limits

    limits = Limits(move_timeout_s=move_timeout)
    rows = _run(
        lambda: get_service("crossplay")(
            env, agent_a, agent_b, games=games, seed=seed, limits=limits
        )
    )
    if as_json:
        _json([r.to_dict() for r in rows])
        return
    table = Table(
        title=_cell(f"{env} cross-play: A = {agent_a}, B = {agent_b}, {games} game(s) each")
    )
    for col in ("line-up", "mixed", "team return", "95% CI"):
        table.add_column(col, justify="left" if col == "line-up" else "right")
    for r in rows:
        ci = "-" if r.low is None else f"{r.low:.1f} to {r.high:.1f}"
        table.add_row(_cell(r.lineup), "yes" if r.mixed else "no", f"{r.team_return:.2f}", ci)
    out.print(table)


@agent_app.command("check")
def agent_check_command(
    path: Annotated[Path, typer.Argument(help="Package folder holding agent.toml.")],
    env: Annotated[str | None, typer.Option(help="Check only this env.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Validate a package and play a smoke match against random on each env."""
    from arena.check import check_package

    report = _run(lambda: check_package(path, env_id=env))
    if as_json:
        _json(report.to_dict())
        return
    _print_check(report)


def _print_check(report: Any) -> None:
    out.print(_cell(f"ok: {report.name} {report.version} ({report.content_hash[:12]})"))
    for smoke in report.smoke:
        out.print(
            _cell(
                f"  smoke match on {smoke['env']} as {smoke['role']}: "
                f"{smoke['steps']} steps, no forfeit"
            )
        )
    for env_id in report.envs_skipped:
        out.print(_cell(f"  skipped {env_id}: not installed here (optional extra)"))


@agent_app.command("submit")
def agent_submit_command(
    path: Annotated[Path, typer.Argument(help="Package folder, or a .zip / .tar.gz of one.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check a package, then store an immutable copy that tournaments name as name@version."""
    from arena.packages import submit_package

    report = _run(lambda: submit_package(path, db_url=State.db))
    if as_json:
        _json(report.to_dict())
        return
    _print_check(report.check)
    what = f"{report.name} {report.version} (sha256 {report.content_hash[:12]})"
    if report.stored:
        # Plain write: one unwrapped line, however long the path.
        _write(f"submitted: {what} to {report.path}")
    else:
        _write(f"already submitted: {what}")


@agent_app.command("list")
def agent_list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List submitted packages: name, version, kind, envs, hash, submitted at."""
    from arena.packages import list_packages

    rows = _run(lambda: list_packages(db_url=State.db))
    if as_json:
        _json([r.to_dict() for r in rows])
        return
    if not rows:
        out.print("no submitted packages yet (arena agent submit PATH)")
        return
    table = Table(title="Submitted packages")
    for col in ("name", "version", "kind", "envs", "hash", "submitted (UTC)"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            _cell(r.name),
            _cell(r.version),
            _cell(r.kind),
            _cell(", ".join(r.envs)),
            _cell(r.content_hash[:12]),
            r.submitted_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    out.print(table)


@tournament_app.command("run")
def tournament_run_command(
    file: Annotated[Path, typer.Argument(help="Tournament TOML file.")],
    workers: Annotated[int, typer.Option(help="Matches played at once (processes).")] = 1,
    backend: Annotated[
        str, typer.Option(help="Where matches run: local (this machine) or ray.")
    ] = "local",
    ray_address: Annotated[
        str | None, typer.Option(help="A running Ray cluster; default: start a local one.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Run a tournament file (or resume its unfinished run) and print the standings."""
    from collections import Counter
    from dataclasses import asdict

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from arena.registry import get_service

    run = get_service("tournament.run")
    wins: Counter[str] = Counter()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} matches"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[leaders]}"),
    )
    # No bar in logs and pipes: only a person at a terminal watches it.
    quiet = as_json or not err.is_terminal
    with Progress(*columns, console=err, transient=True, disable=quiet) as progress:
        task = progress.add_task("playing", total=None, leaders="")

        def tick(result: Any, done: int, total: int) -> None:
            for slot, label in enumerate(result.labels):
                if result.outcome(slot) == "win":
                    wins[label] += 1
            leaders = ", ".join(f"{label} {n}" for label, n in wins.most_common(3))
            progress.update(task, completed=done, total=total, leaders=f"wins: {leaders}")

        outcome = _run(
            lambda: run(
                file,
                db_url=State.db,
                on_match=tick,
                workers=workers,
                backend=backend,
                ray_address=ray_address,
            )
        )
    rows = _run(lambda: _board(tournament=outcome.name))
    if as_json:
        _json({**asdict(outcome), "leaderboard": [r.to_dict() for r in rows]})
        return
    verb = "resumed" if outcome.resumed else "ran"
    out.print(
        _cell(
            f"{verb} '{outcome.name}' run {outcome.run}: {outcome.played} match(es) played, "
            f"{outcome.already_stored} already stored, {outcome.planned} planned"
        )
    )
    _print_board(rows, f"{outcome.name} ({outcome.env_id})")


@tournament_app.command("status")
def tournament_status_command(
    name: Annotated[
        str | None, typer.Argument(help="Tournament name (default: every tournament).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show each run's progress: planned, played, forfeits, status."""
    from arena.registry import get_service
    from arena.storage import connect

    rows = _run(lambda: get_service("tournament.status")(connect(State.db), name=name))
    if as_json:
        _json(rows)
        return
    if not rows:
        out.print("no tournament runs yet")
        return
    table = Table(title="Tournament runs")
    for col in ("tournament", "env", "format", "run", "status", "played", "planned", "started"):
        table.add_column(col, justify="right" if col in ("run", "played", "planned") else "left")
    for r in rows:
        table.add_row(
            _cell(r["tournament"]),
            _cell(r["env"]),
            _cell(r["format"]),
            str(r["run"]),
            _cell(r["status"]),
            str(r["played"]),
            str(r["planned"]),
            r["started_at"],
        )
    out.print(table)


def _utc(when: Any) -> str:
    return f"{when:%Y-%m-%d %H:%M:%S} UTC"


@tournament_app.command("schedule")
def tournament_schedule_command(
    file: Annotated[Path, typer.Argument(help="Tournament TOML file with a schedule table.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Store a file's schedule for 'arena scheduler run'; a new schedule is due at once."""
    from arena.registry import get_service

    info = _run(lambda: get_service("tournament.schedule")(file, db_url=State.db))
    if as_json:
        _json(info.to_dict())
        return
    timing = f"every {info.every}" if info.cron is None else f'cron "{info.cron}" (UTC)'
    _write(f"scheduled '{info.tournament}': {timing}, next run at {_utc(info.next_run_at)}")


@scheduler_app.command("run")
def scheduler_run_command(
    once: Annotated[bool, typer.Option("--once", help="Run what is due now, then exit.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (without --once: one line per run).")
    ] = False,
) -> None:
    """Run scheduled tournaments whenever they are due, until Ctrl-C.

    A failing tournament is one line on stderr and the scheduler goes on; with
    --once the exit code is then 1.
    """
    from arena.registry import get_service

    def report(r: Any) -> None:
        if as_json and not once:
            sys.stdout.write(json.dumps(r.to_dict()) + "\n")
        elif not as_json and r.ok:
            verb = "resumed" if r.resumed else "ran"
            _write(
                f"{verb} '{r.tournament}' run {r.run}: {r.played} match(es) played; "
                f"next run at {_utc(r.next_run_at)}"
            )
            for p in getattr(r, "placements", None) or []:
                _write(
                    f"  placement {p.agent} {p.version}: {p.status}, {p.games} game(s), "
                    f"sigma {p.sigma:.2f}"
                )
            if getattr(r, "placement_error", None):
                _write(
                    f"error: placement for '{r.tournament}': {r.placement_error}",
                    stream=sys.stderr,
                )
        if not r.ok:
            _write(
                f"error: '{r.tournament}': {r.error}; next run at {_utc(r.next_run_at)}",
                stream=sys.stderr,
            )
            if State.verbose and r.detail:
                _write(r.detail.rstrip(), stream=sys.stderr)
        sys.stdout.flush()  # a pipe (a service's log) would hold lines back
        sys.stderr.flush()

    def terminate(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt  # a service manager's stop is a Ctrl-C

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        runs = _run(lambda: get_service("scheduler.run")(db_url=State.db, once=once, on_run=report))
    except KeyboardInterrupt:
        sys.stderr.write("scheduler stopped\n")
        raise typer.Exit(0) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    if as_json:
        _json([r.to_dict() for r in runs])
    elif not runs:
        sys.stdout.write("nothing due\n")
    if not all(r.ok for r in runs):
        raise typer.Exit(1)


def _board(**kwargs: Any) -> list[Any]:
    from arena.registry import get_service
    from arena.storage import connect

    return list(get_service("leaderboard")(connect(State.db), **kwargs))


def _print_board(rows: list[Any], title: str) -> None:
    table = Table(title=_cell(title))
    # Cooperative envs' rows rank by mean team return (nothing to rate them against).
    team = any(getattr(r, "team_return", None) is not None for r in rows)
    for col in (
        "rank",
        "env",
        "agent",
        "version",
        "kind",
        "mu",
        "sigma",
        "mu-3σ",
        "BT",
        "BT 95%",
        "games",
        "W",
        "D",
        "L",
        *(("team return", "team 95%") if team else ()),
    ):
        table.add_column(
            col, justify="left" if col in ("env", "agent", "version", "kind") else "right"
        )
    for r in rows:
        extra: tuple[str, ...] = ()
        if team:
            value = getattr(r, "team_return", None)
            low, high = getattr(r, "team_return_low", None), getattr(r, "team_return_high", None)
            extra = (
                "-" if value is None else f"{value:.1f}",
                "-" if low is None else f"{low:.1f} to {high:.1f}",
            )
        table.add_row(
            str(r.rank),
            _cell(r.env),
            _cell(r.agent),
            _cell(r.version),
            _cell(r.kind),
            f"{r.mu:.2f}",
            f"{r.sigma:.2f}",
            f"{r.score:.2f}",
            "-" if r.bt is None else f"{r.bt:.0f}",
            "-" if r.bt is None else f"{r.bt_low:.0f}-{r.bt_high:.0f}",
            str(r.games),
            str(r.wins),
            str(r.draws),
            str(r.losses),
            *extra,
        )
    out.print(table)


@app.command("train")
def train_command(
    algo: Annotated[str, typer.Argument(help="Algorithm, e.g. q-learning, dqn, maddpg.")],
    env: Annotated[str, typer.Option(help="Env id to train on, e.g. tictactoe_v3.")],
    steps: Annotated[int, typer.Option(help="Env steps to train for (all seats together).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the agent package it writes.")],
    seed: Annotated[int, typer.Option(help="Same seed, same package (on CPU).")] = 0,
    device: Annotated[str, typer.Option(help="auto (CUDA when present), cpu or cuda.")] = "auto",
    config: Annotated[
        Path | None, typer.Option(help="TOML file of hyperparameters (keys of the trainer).")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue from OUT/training/checkpoint.pt.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    tensorboard: Annotated[
        bool, typer.Option(help="Also log to OUT/training/tensorboard (needs tensorboard).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Train an agent by self-play and write it as an agent package.

    ALGO: q-learning, sarsa, expected-sarsa, mc-control (tabular); dqn, double-dqn,
    dueling-dqn, per-dqn, rainbow; maddpg, ddpg, masac, sac.
    """
    from arena.training import train

    summary = _run(
        lambda: train(
            algo,
            env,
            steps=steps,
            out=out_dir,
            seed=seed,
            device=device,
            config_path=config,
            resume=resume,
            progress=progress and sys.stderr.isatty(),
            tensorboard=tensorboard,
        )
    )
    if as_json:
        _json(summary.to_dict())
        return
    metrics = ", ".join(f"{k} {v:.3g}" for k, v in summary.metrics.items())
    out.print(
        _cell(
            f"trained {algo} on {env} for {summary.steps} steps in {summary.seconds:.0f} s"
            + (f": {metrics}" if metrics else "")
        )
    )
    out.print(
        _cell(f"package: {summary.package_dir} (try: arena agent check {summary.package_dir})")
    )


@app.command("leaderboard")
def leaderboard_command(
    env: Annotated[str | None, typer.Option(help="Only this env.")] = None,
    tournament: Annotated[str | None, typer.Option(help="Only this tournament's matches.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show TrueSkill ratings, sorted by the conservative score mu - 3 sigma."""
    rows = _run(lambda: _board(env_id=env, tournament=tournament))
    if as_json:
        _json([r.to_dict() for r in rows])
        return
    if not rows:
        out.print("no rated matches yet")
        return
    _print_board(rows, "Leaderboard" + (f": {tournament}" if tournament else ""))


# --- people in the arena: play, report, replay (issue 7) ---------------------------


def _ask(prompt: str) -> str | None:
    """One line from stdin after a prompt; None at the end of input."""
    sys.stdout.write(prompt)
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line:
        sys.stdout.write("\n")
        return None
    line = line.rstrip("\r\n")
    if not sys.stdin.isatty():  # echo piped moves, so the transcript reads like a game
        sys.stdout.write(line + "\n")
    return line


def _show(text: str) -> None:
    """Game text for a person: boards, prompts, replays (stored agent text included), cleaned."""
    _write(text)
    sys.stdout.flush()


@app.command("play")
def play_command(
    env: Annotated[str, typer.Argument(help="Env id, e.g. tictactoe_v3, chess_v6.")],
    opponent: Annotated[
        str, typer.Option(help="Agent to play: built-in, package path, name or name@version.")
    ],
    name: Annotated[
        str | None, typer.Option(help="Your player name (default: your login name).")
    ] = None,
    games: Annotated[int, typer.Option(help="Games to play.")] = 1,
    seat: Annotated[
        str, typer.Option(help="first, second, or alternate from game to game.")
    ] = "first",
    seed: Annotated[
        int | None, typer.Option(help="Root seed of the games (default: random).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary at the end.")
    ] = False,
) -> None:
    """Play against an agent in the terminal; moves are read from stdin, one per line.

    Type the action index or the game's notation (a cell or a 0-based column
    number, rock, call, e4 or e2e4 in chess). 'resign' forfeits the game; 'quit'
    (or the end of input) forfeits the game in progress and stops. Every game is
    stored and rated.
    """
    from arena.human import play_human

    report = _run(
        lambda: play_human(
            env,
            opponent,
            ask=_ask,
            show=_show,
            name=name,
            games=games,
            seat=seat,  # type: ignore[arg-type]  # play_human checks it
            seed=seed,
            db_url=State.db,
        )
    )
    if as_json:
        _json(report.to_dict())
        return
    if report.rating is not None:
        r = report.rating
        _show(
            f"{report.name} on {report.env_id}: mu {r['mu']:.2f}, sigma {r['sigma']:.2f}, "
            f"mu-3sigma {r['score']:.2f} after {int(r['games'])} rated game(s)"
        )


@app.command("report")
def report_command(
    out: Annotated[Path, typer.Option(help="Folder of the site (replaced if it holds a report).")],
    max_replays: Annotated[
        int | None, typer.Option(help="Replay pages per env, newest first (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Write a static HTML report: leaderboards, Human vs AI, plots, tournaments, replays."""
    from arena.registry import get_service

    summary = _run(lambda: get_service("report")(out, db_url=State.db, max_replays=max_replays))
    if as_json:
        _json(summary.to_dict())
        return
    _show(
        f"wrote {summary.out}/index.html: {len(summary.envs)} env(s), {summary.pages} page(s), "
        f"{summary.replays} replay(s), {summary.plots} plot(s)"
    )
    if summary.replay_errors:
        sys.stderr.write(f"warning: {summary.replay_errors} match(es) could not be replayed\n")


@app.command("replay")
def replay_command(
    match_id: Annotated[int, typer.Argument(help="Match id (see the report or --json output).")],
    gif: Annotated[
        Path | None,
        typer.Option(help="MPE and Atari: also write the frames as an animated GIF here."),
    ] = None,
    fps: Annotated[int, typer.Option(help="GIF frames per second.")] = 15,
) -> None:
    """Print a stored match move by move, rebuilt from its seed and action log."""
    from arena.replay import format_replay, replay_match

    replay = _run(lambda: replay_match(match_id, db_url=State.db, gif=gif, fps=fps))
    _show(format_replay(replay))
    if gif is not None:
        _show(f"wrote {len(replay.frames)} frames to {gif}")


def _stop(_signum: int, _frame: Any) -> None:
    # A service manager's stop (or `kill`) unwinds like Ctrl-C: host pools close,
    # so every sandbox is killed and its cgroups removed before the arena exits.
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    app()


if __name__ == "__main__":
    main()

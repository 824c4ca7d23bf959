"""The ``arena`` command line: every command parses, calls one library function, prints.

Errors a user can fix are printed as one line on stderr with exit code 1; ``-v``
adds the detail (an agent's traceback).
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from arena.cli_envs import register as register_envs
from arena.console import (
    WIDE,
    OneLineUsageErrors,
    State,
    call,
    cell,
    fail,
    out,
    print_json,
    show,
    version_line,
    write,
)
from arena.console import table as console_table
from arena.registry import command_registrars

app = typer.Typer(
    cls=OneLineUsageErrors,
    help="A competition arena for multi-agent reinforcement learning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
agent_app = typer.Typer(help="Check, submit and list agent packages.", no_args_is_help=True)
app.add_typer(agent_app, name="agent")


def _print_version(value: bool) -> None:
    if value:
        write(version_line())
        raise typer.Exit(0)


@app.callback()
def main_options(
    db: Annotated[
        str | None,
        typer.Option(help="SQLAlchemy database URL [env: ARENA_DB; default $ARENA_HOME/arena.db]"),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Show agent tracebacks.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """A competition arena for multi-agent reinforcement learning."""
    State.db = db
    State.verbose = verbose
    if verbose:
        from arena.sandbox import isolation

        isolation.detail = True  # the sandbox names each missing protection with its reason


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
    """Play agents against each other and record the matches.

    Ctrl-C stops the series: the games played to the end are stored and summed
    up, and the same command resumes it, playing only the missing games with
    the seeds they would have had (exit code 130 until then).
    """
    from arena.limits import Limits
    from arena.play import SeriesInterrupted, play_and_record

    limits = Limits(move_timeout_s=move_timeout, memory_mb=memory_mb)
    try:
        report = call(
            lambda: play_and_record(
                env,
                agents,
                games=games,
                seed=seed,
                limits=limits,
                db_url=State.db,
                record=record,
                resumable=True,
            )
        )
    except SeriesInterrupted as stop:
        _print_series(stop.report, as_json, done=stop.done)
        sys.stdout.flush()
        write(stop.message, stream=sys.stderr)
        raise typer.Exit(130) from None
    except KeyboardInterrupt:  # before the first game: nothing was played
        write("interrupted before a game was played; run the same command", stream=sys.stderr)
        raise typer.Exit(130) from None
    _print_series(report, as_json)
    if record and not as_json:
        resumed = getattr(report, "resumed", 0)
        earlier = f", {resumed} of them by an earlier, interrupted call" if resumed else ""
        out.print(f"stored {len(report.match_ids)} match(es){earlier}")


def _print_series(report: Any, as_json: bool, *, done: int | None = None) -> None:
    """The summary of a series; ``done``: games kept by an interrupted one."""
    if as_json:
        data = report.to_dict()
        if done is not None:
            data.update(interrupted=True, done=done)
        print_json(data)
        return
    if not report.summary:
        return
    played = report.games if done is None else f"{done} of {report.games}"
    table = console_table(f"{report.env_id}: {played} game(s), seed {report.seed}")
    for col in ("agent", "wins", "draws", "losses", "forfeits", "mean return"):
        table.add_column(col, justify="left" if col == "agent" else "right", overflow="fold")
    for label, row in report.summary.items():
        forfeits = ", ".join(f"{cell(k)} {v}" for k, v in row["forfeits"].items()) or "0"
        table.add_row(
            cell(label),
            str(row["wins"]),
            str(row["draws"]),
            str(row["losses"]),
            forfeits,
            f"{row['mean_return']:.3f}",
        )
    out.print(table)


@agent_app.command("check")
def agent_check_command(
    path: Annotated[
        Path, typer.Argument(help="Package folder holding agent.toml, or a .zip / .tar.gz of one.")
    ],
    env: Annotated[str | None, typer.Option(help="Check only this env.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Validate a package and play a smoke match against random on each env.

    A smoke match the package forfeits is reported with the reason and the last
    lines the agent printed in it (on stderr, before the error line).
    """
    from arena.check import SmokeFailure, check_package

    def check() -> Any:
        try:
            return check_package(path, env_id=env)
        except SmokeFailure as exc:
            for line in exc.output_tail():
                write(line, stream=sys.stderr)
            raise

    report = call(check)
    if as_json:
        print_json(report.to_dict())
        return
    _print_check(report)


def _print_check(report: Any) -> None:
    out.print(cell(f"ok: {report.name} {report.version} ({report.content_hash[:12]})"))
    for smoke in report.smoke:
        out.print(
            cell(
                f"  smoke match on {smoke['env']} as {smoke['role']}: "
                f"{smoke['steps']} steps, no forfeit"
            )
        )
    for env_id in report.envs_skipped:
        out.print(cell(f"  skipped {env_id}: not installed here (optional extra)"))


@agent_app.command("submit")
def agent_submit_command(
    path: Annotated[Path, typer.Argument(help="Package folder, or a .zip / .tar.gz of one.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            envvar="ARENA_SERVER",
            help="Upload to this arena serve (https://HOST) instead of the local store.",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="ARENA_TOKEN",
            help="Your token for --server (from the organiser's arena user add).",
            show_default=False,
        ),
    ] = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait", help="With --server: wait until the server has checked it."
        ),
    ] = True,
) -> None:
    """Check a package, then store an immutable copy that tournaments name as name@version.

    With --server, upload it to an arena serve, which checks it in its sandbox.
    """
    if server is not None:
        _submit_remote(server, token, path, wait=wait, as_json=as_json)
        return
    from arena.packages import submit_package

    report = call(lambda: submit_package(path, db_url=State.db))
    if as_json:
        print_json(report.to_dict())
        return
    _print_check(report.check)
    what = f"{report.name} {report.version} (sha256 {report.content_hash[:12]})"
    if report.stored:
        # Plain write: one unwrapped line, however long the path.
        write(f"submitted: {what} to {report.path}")
    else:
        write(f"already submitted: {what}")


def _submit_remote(
    server: str, token: str | None, path: Path, *, wait: bool, as_json: bool
) -> None:
    from arena.remote_submit import remote_verdict, submit_remote

    if not token:
        fail("--server needs --token TOKEN (or ARENA_TOKEN): ask the organiser for one")
    if not as_json and wait:
        write(f"uploading {path} to {server}; waiting for its check (Ctrl-C stops waiting)")
    try:
        state = call(lambda: submit_remote(server, token, path, wait=wait))
    except KeyboardInterrupt:
        write("stopped waiting; the server goes on checking it")
        raise typer.Exit(130) from None
    if as_json:
        print_json(state)
    else:
        write(remote_verdict(state))
    if state.get("status") == "refused":
        raise typer.Exit(1)


@agent_app.command("list")
def agent_list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List submitted packages: name, version, kind, envs, hash, submitted at."""
    from arena.packages import list_packages

    rows = call(lambda: list_packages(db_url=State.db))
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    if not rows:
        out.print("no submitted packages yet (arena agent submit PATH)")
        return
    # Under 100 columns kind goes and the time loses its seconds; names and envs fold.
    wide = out.width >= WIDE
    table = console_table("Submitted packages")
    for col in ("name", "version", *(("kind",) if wide else ()), "envs", "hash", "submitted (UTC)"):
        table.add_column(col, overflow="fold", no_wrap=col in ("hash", "submitted (UTC)"))
    for r in rows:
        table.add_row(
            cell(r.name),
            cell(r.version),
            *((cell(r.kind),) if wide else ()),
            cell(", ".join(r.envs)),
            cell(r.content_hash[:12]),
            r.submitted_at.strftime("%Y-%m-%d %H:%M:%S" if wide else "%Y-%m-%d %H:%M"),
        )
    out.print(table)


# --- people in the arena: play, report, replay (issue 7) ---------------------------


QUIT_EXIT = 3  # ``arena play``: the person quit (quit, or the end of input)


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
    (or the end of input) forfeits the game in progress and stops, with exit
    code 3. Ctrl-C asks 'forfeit this game? [y/N]': y (or Ctrl-C again) forfeits
    it and stops with exit code 130, N goes on with the game. Every game is
    stored and rated.
    """
    from arena.human import play_human

    report = call(
        lambda: play_human(
            env,
            opponent,
            ask=_ask,
            show=show,
            name=name,
            games=games,
            seat=seat,  # type: ignore[arg-type]  # play_human checks it
            seed=seed,
            db_url=State.db,
        )
    )
    if as_json:
        print_json(report.to_dict())
    elif report.rating is not None:
        r = report.rating
        show(
            f"{report.name} on {report.env_id}: mu {r['mu']:.2f}, sigma {r['sigma']:.2f}, "
            f"mu-3sigma {r['score']:.2f} after {int(r['games'])} rated game(s)"
        )
    if report.quit:
        raise typer.Exit(130 if report.interrupted else QUIT_EXIT)


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

    replay = call(lambda: replay_match(match_id, db_url=State.db, gif=gif, fps=fps))
    show(format_replay(replay))
    if gif is not None:
        show(f"wrote {len(replay.frames)} frames to {gif}")


@app.command("logs")
def logs_command(
    match_id: Annotated[int, typer.Argument(help="Match id (see the report or --json output).")],
    agent: Annotated[
        str | None, typer.Argument(help="Only this agent: its label, name or name@version.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print what each agent printed in a stored match (its stdout and stderr).

    Each agent's output comes under a line with its label and seats; the arena's
    own note on the match (what it could not store) comes last.
    """
    from arena.logs import format_logs, match_logs

    logs = call(lambda: match_logs(match_id, agent, db_url=State.db))
    if as_json:
        print_json(logs.to_dict())
        return
    for line in format_logs(logs):
        write(line)


def _stop(_signum: int, _frame: Any) -> None:
    # A service manager's stop (or `kill`) unwinds like Ctrl-C: host pools close,
    # so every sandbox is killed and its cgroups removed before the arena exits.
    raise KeyboardInterrupt


# The platform's commands kept in modules of their own, then the feature
# packages' commands (tournament, leaderboard, report, train, ...).
register_envs(app)
for _register in command_registrars():
    _register(app)


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    app()


if __name__ == "__main__":
    main()

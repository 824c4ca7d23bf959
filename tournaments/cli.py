"""The tournament commands of ``arena``: tournament, scheduler, leaderboard, report, crossplay.

Added to the CLI through the ``arena.commands`` entry point (:func:`register`).
Each command parses, calls one library function of this package, prints. The
library modules are imported inside the commands so that ``arena --help``
stays fast (and never imports torch or matplotlib).
"""

from __future__ import annotations

import json
import signal
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from arena.console import WIDE, State, call, cell, err, out, print_json, show, utc, write
from arena.console import table as console_table
from arena.limits import Limits

if TYPE_CHECKING:
    from arena.result import MatchResult
    from tournaments.leaderboard import LeaderboardRow
    from tournaments.schedule import ScheduledRun

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    """Add this package's commands to the ``arena`` app."""
    tournament_app = typer.Typer(help="Run tournaments from a TOML file.", no_args_is_help=True)
    tournament_app.command("run")(tournament_run_command)
    tournament_app.command("status")(tournament_status_command)
    tournament_app.command("schedule")(tournament_schedule_command)
    app.add_typer(tournament_app, name="tournament")
    scheduler_app = typer.Typer(help="Run scheduled tournaments when due.", no_args_is_help=True)
    scheduler_app.command("run")(scheduler_run_command)
    app.add_typer(scheduler_app, name="scheduler")
    app.command("leaderboard")(leaderboard_command)
    app.command("report")(report_command)
    app.command("crossplay")(crossplay_command)


def _board(
    *, env_id: str | None = None, tournament: str | None = None, role: str | None = None
) -> list[LeaderboardRow]:
    from arena.storage import connect
    from tournaments.leaderboard import leaderboard

    engine = connect(State.db, read_only=True)
    return list(leaderboard(engine, env_id=env_id, tournament=tournament, role=role))


def _print_board(rows: list[LeaderboardRow], title: str) -> None:
    """One table per env (rows come ranked within each env), the legend under the last."""
    from tournaments.leaderboard_table import leaderboard_table

    by_env: dict[str, list[LeaderboardRow]] = {}
    for row in rows:
        by_env.setdefault(row.env, []).append(row)
    for n, (env, group) in enumerate(by_env.items(), start=1):
        shown = title if title.endswith(f"({env})") else f"{title} ({env})"
        out.print(leaderboard_table(group, shown, out.width, legend=n == len(by_env)))


def tournament_run_command(
    file: Annotated[Path, typer.Argument(help="Tournament TOML file.")],
    workers: Annotated[int, typer.Option(help="Matches played at once (processes).")] = 1,
    backend: Annotated[
        str, typer.Option(help="Where matches run: local (this machine) or ray.")
    ] = "local",
    ray_address: Annotated[
        str | None, typer.Option(help="A running Ray cluster; default: start a local one.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Run a tournament file (or resume its unfinished run) and print the standings."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from tournaments.run import RunInterrupted, run_tournament

    wins: Counter[str] = Counter()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        # The plan's size is known once the run has drawn it: until then, say so.
        TextColumn("{task.fields[done]}"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[leaders]}"),
    )
    # No bar in logs and pipes: only a person at a terminal watches it.
    quiet = as_json or not err.is_terminal
    with Progress(*columns, console=err, transient=True, disable=quiet) as progress:
        task = progress.add_task("playing", total=None, leaders="", done="planning the run")

        def tick(result: MatchResult, done: int, total: int) -> None:
            for slot, label in enumerate(result.labels):
                if result.outcome(slot) == "win":
                    wins[label] += 1
            leaders = ", ".join(f"{label} {n}" for label, n in wins.most_common(3))
            progress.update(
                task,
                completed=done,
                total=total,
                leaders=f"wins: {leaders}",
                done=f"{done:,}/{total:,} matches",
            )

        def planned(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, done=f"{done:,}/{total:,} matches")

        try:
            outcome = call(
                lambda: run_tournament(
                    file,
                    db_url=State.db,
                    on_match=tick,
                    on_plan=planned,
                    workers=workers,
                    backend=backend,
                    ray_address=ray_address,
                )
            )
        except RunInterrupted as stopped:
            progress.stop()
            # The run is marked interrupted; the same command resumes it.
            sys.stderr.write(f"{stopped}\n")
            raise typer.Exit(130) from None
    rows = call(lambda: _board(tournament=outcome.name))
    if as_json:
        print_json({**asdict(outcome), "leaderboard": [r.to_dict() for r in rows]})
        return
    verb = "resumed" if outcome.resumed else "ran"
    out.print(
        cell(
            f"{verb} '{outcome.name}' run {outcome.run}: {outcome.played} match(es) played, "
            f"{outcome.already_stored} already stored, {outcome.planned} planned"
        )
    )
    _print_board(rows, f"{outcome.name} ({outcome.env_id})")


def tournament_status_command(
    name: Annotated[
        str | None, typer.Argument(help="Tournament name (default: every tournament).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Show each run's progress: planned, played, forfeits, status."""
    from arena.storage import connect
    from tournaments.status import tournament_status

    rows = call(lambda: tournament_status(connect(State.db, read_only=True), name=name))
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print("no tournament runs yet")
        return
    # Under 100 columns: played/planned share a column, format goes, no seconds.
    wide = out.width >= WIDE
    table = console_table("Tournament runs")
    columns = ["tournament", "env", *(("format",) if wide else ()), "run", "status"]
    columns += ["played", "planned"] if wide else ["played"]
    for col in (*columns, "started (UTC)"):
        table.add_column(
            col,
            justify="right" if col in ("run", "played", "planned") else "left",
            overflow="fold",
            no_wrap=col in ("run", "status", "played", "planned", "started (UTC)"),
        )
    for r in rows:
        played = f"{r['played']:,}" if wide else f"{r['played']:,}/{r['planned']:,}"
        table.add_row(
            cell(r["tournament"]),
            cell(r["env"]),
            *((cell(r["format"]),) if wide else ()),
            str(r["run"]),
            cell(r["status"]),
            played,
            *((f"{r['planned']:,}",) if wide else ()),
            r["started_at"] if wide else r["started_at"][:16],
        )
    out.print(table)


def tournament_schedule_command(
    file: Annotated[Path, typer.Argument(help="Tournament TOML file with a schedule table.")],
    as_json: AsJson = False,
) -> None:
    """Store a file's schedule for 'arena scheduler run'; a new schedule is due at once."""
    from tournaments.schedule import schedule_tournament

    info = call(lambda: schedule_tournament(file, db_url=State.db))
    if as_json:
        print_json(info.to_dict())
        return
    timing = f"every {info.every}" if info.cron is None else f'cron "{info.cron}" (UTC)'
    write(f"scheduled '{info.tournament}': {timing}, next run at {utc(info.next_run_at)}")


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
    from tournaments.schedule import run_scheduler

    def report(r: ScheduledRun) -> None:
        if as_json and not once:
            sys.stdout.write(json.dumps(r.to_dict()) + "\n")
        elif not as_json and r.ok:
            verb = "resumed" if r.resumed else "ran"
            write(
                f"{verb} '{r.tournament}' run {r.run}: {r.played} match(es) played; "
                f"next run at {utc(r.next_run_at)}"
            )
            for p in r.placements or []:
                write(
                    f"  placement {p.agent} {p.version}: {p.status}, {p.games} game(s), "
                    f"sigma {p.sigma:.2f}"
                )
            if r.placement_error:
                write(
                    f"error: placement for '{r.tournament}': {r.placement_error}",
                    stream=sys.stderr,
                )
        if not r.ok:
            write(
                f"error: '{r.tournament}': {r.error}; next run at {utc(r.next_run_at)}",
                stream=sys.stderr,
            )
            if State.verbose and r.detail:
                write(r.detail.rstrip(), stream=sys.stderr)
        sys.stdout.flush()  # a pipe (a service's log) would hold lines back
        sys.stderr.flush()

    def terminate(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt  # a service manager's stop is a Ctrl-C

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        runs = call(lambda: run_scheduler(db_url=State.db, once=once, on_run=report))
    except KeyboardInterrupt:
        sys.stderr.write("scheduler stopped\n")
        raise typer.Exit(0) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    if as_json:
        print_json([r.to_dict() for r in runs])
    elif not runs:
        sys.stdout.write("nothing due\n")
    if not all(r.ok for r in runs):
        raise typer.Exit(1)


def leaderboard_command(
    env: Annotated[str | None, typer.Option(help="Only this env.")] = None,
    tournament: Annotated[str | None, typer.Option(help="Only this tournament's matches.")] = None,
    role: Annotated[
        str | None,
        typer.Option(
            help="Role-asymmetric envs (simple_tag...): the ratings in this role, e.g. "
            "adversary (default: the overall ratings)."
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Show ratings, best first by TrueSkill's conservative score mu - 3 sigma.

    Columns: mu-3σ (TrueSkill's mu minus three sigma: the rank order), mu and σ
    (sigma, its uncertainty), BT (Bradley-Terry on the Elo scale, with its 95%
    bootstrap interval), games and W-D-L (wins, draws, losses). Columns fold to
    fit the terminal's width.
    """
    rows = call(lambda: _board(env_id=env, tournament=tournament, role=role))
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    if not rows:
        out.print("no rated matches yet")
        return
    title = "Leaderboard" + (f": {tournament}" if tournament else "")
    roles = {r.role for r in rows}
    if len(roles) == 1 and (shown := next(iter(roles))):
        title += f", role {shown}"
    _print_board(rows, title)


def report_command(
    out_dir: Annotated[
        Path,
        typer.Option("--out", help="Folder of the site (replaced if it holds a report)."),
    ],
    max_replays: Annotated[
        int | None, typer.Option(help="Replay pages per env, newest first (default: all).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Write a static HTML report: leaderboards, Human vs AI, plots, tournaments, replays."""
    from tournaments.report import write_report

    summary = call(lambda: write_report(out_dir, db_url=State.db, max_replays=max_replays))
    if as_json:
        print_json(summary.to_dict())
        return
    show(
        f"wrote {summary.out}/index.html: {len(summary.envs)} env(s), {summary.pages} page(s), "
        f"{summary.replays} replay(s), {summary.plots} plot(s)"
    )
    if summary.replay_errors:
        sys.stderr.write(f"warning: {summary.replay_errors} match(es) could not be replayed\n")


def crossplay_command(
    env: Annotated[str, typer.Argument(help="A cooperative env id, e.g. simple_spread_v3.")],
    agent_a: Annotated[str, typer.Argument(help="Agent A: built-in, path or name[@version].")],
    agent_b: Annotated[str, typer.Argument(help="Agent B.")],
    games: Annotated[int, typer.Option(help="Games per line-up (same seeds for each).")] = 10,
    seed: Annotated[int, typer.Option(help="Root seed.")] = 0,
    move_timeout: Annotated[float, typer.Option(help="Seconds allowed for one act call.")] = 1.0,
    as_json: AsJson = False,
) -> None:
    """Mix seats of two agents in one cooperative team: mean team return per line-up.

    Nothing is stored or rated.
    """
    from tournaments.crossplay import crossplay

    limits = Limits(move_timeout_s=move_timeout)
    rows = call(lambda: crossplay(env, agent_a, agent_b, games=games, seed=seed, limits=limits))
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    table = console_table(f"{env} cross-play: A = {agent_a}, B = {agent_b}, {games} game(s) each")
    for col in ("line-up", "mixed", "team return", "95% CI"):
        table.add_column(col, justify="left" if col == "line-up" else "right")
    for r in rows:
        ci = "-" if r.low is None or r.high is None else f"{r.low:.1f} to {r.high:.1f}"
        table.add_row(cell(r.lineup), "yes" if r.mixed else "no", f"{r.team_return:.2f}", ci)
    out.print(table)

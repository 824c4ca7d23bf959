"""The web service's commands of ``arena`` (added through the ``arena.commands`` entry point):
``arena serve``, ``arena worker`` and ``arena user add | list | revoke | token``.

FastAPI, uvicorn and the app are imported inside the commands, so ``arena --help``
stays fast and works without the ``[server]`` extra.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from arena.console import State, call, cell, fail, out, print_json, table, utc, write
from server.settings import DEFAULT_UPLOADS_PER_HOUR, MIB, Settings, upload_limit_from_env

if TYPE_CHECKING:
    from sqlalchemy import Engine

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    """Add this package's commands to the ``arena`` app."""
    app.command("serve")(serve_command)
    app.command("worker")(worker_command)
    user_app = typer.Typer(help="Users of arena serve and their API tokens.", no_args_is_help=True)
    user_app.command("add")(user_add_command)
    user_app.command("list")(user_list_command)
    user_app.command("revoke")(user_revoke_command)
    user_app.command("token")(user_token_command)
    app.add_typer(user_app, name="user")


def _server_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import jinja2  # noqa: F401
        import python_multipart  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        fail(
            f"the web service needs the [server] extra ({exc.name} is missing): "
            "pip install -e '.[server]'"
        )


def _engine() -> Engine:
    from arena.storage import connect

    return call(lambda: connect(State.db))


def serve_command(
    host: Annotated[
        str, typer.Option(help="Address to listen on; keep 127.0.0.1 behind a reverse proxy.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run the background worker here (--no-worker: an 'arena worker' does it).",
        ),
    ] = True,
    max_upload_mb: Annotated[
        float | None,
        typer.Option(help="Largest upload in MiB (default $ARENA_MAX_UPLOAD_MB or 20)."),
    ] = None,
    uploads_per_hour: Annotated[
        int, typer.Option(help="Uploads a participant may make in an hour.")
    ] = DEFAULT_UPLOADS_PER_HOUR,
    secure_cookies: Annotated[
        bool, typer.Option(help="Mark cookies Secure (behind a TLS reverse proxy).")
    ] = False,
    workers: Workers = 1,
    backend: Backend = "local",
    ray_address: RayAddress = None,
) -> None:
    """Serve the arena on the web: leaderboards, replays, uploads, the JSON API.

    Starts the web app and the background worker (checks uploads in the sandbox,
    runs queued and scheduled tournaments and placement matches) on the same
    database as every other command (--db, ARENA_DB). Ctrl-C stops both. See docs/server.md.
    """
    _server_extra()
    import uvicorn

    from server.app import create_app

    limit = call(upload_limit_from_env) if max_upload_mb is None else int(max_upload_mb * MIB)
    if limit <= 0 or uploads_per_hour < 1:
        fail("--max-upload-mb and --uploads-per-hour must be positive")
    settings = Settings(
        db_url=State.db,
        max_upload_bytes=limit,
        uploads_per_hour=uploads_per_hour,
        secure_cookies=secure_cookies,
        **_executor_settings(workers, backend, ray_address),
    )
    app = call(lambda: create_app(settings, worker=worker))
    _log_to_stderr()
    config = uvicorn.Config(
        app, host=host, port=port, timeout_graceful_shutdown=5, log_level="info"
    )

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            # Ctrl-C: end event streams and let the worker stop after its current job
            # (a tournament after its current match) while uvicorn closes connections.
            app.state.arena.stopping.set()
            if app.state.worker is not None:
                app.state.worker.stopping.set()
            super().handle_exit(sig, frame)

    sys.stderr.write(
        f"arena serve: http://{host}:{port} (worker: {'on' if worker else 'off'}); Ctrl-C stops\n"
    )
    try:
        Server(config).run()
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it handled once it has shut down: that is a stop
    sys.stderr.write("server stopped\n")


Workers = Annotated[
    int, typer.Option("--workers", help="The worker's tournaments: matches played at once.")
]
Backend = Annotated[str, typer.Option(help="Where the worker's tournaments play: local or ray.")]
RayAddress = Annotated[
    str | None, typer.Option(help="With --backend ray: a running cluster (default: a local one).")
]


def _executor_settings(workers: int, backend: str, ray_address: str | None) -> dict[str, Any]:
    """The worker's match executor from the command line, checked before anything starts."""
    from tournaments.executor import BACKENDS

    if backend not in BACKENDS:
        fail(f"--backend: unknown backend '{backend}' (expected: {', '.join(BACKENDS)})")
    if workers < 1:
        fail(f"--workers must be at least 1, got {workers}")
    return {"match_workers": workers, "backend": backend, "ray_address": ray_address}


def _log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")


def worker_command(
    once: Annotated[bool, typer.Option(help="Do the jobs waiting now, then exit.")] = False,
    workers: Workers = 1,
    backend: Backend = "local",
    ray_address: RayAddress = None,
) -> None:
    """Check uploads, run queued and scheduled tournaments, place new agents, for arena serve.

    Use it with 'arena serve --no-worker' (one worker per database), against the
    same database (--db, ARENA_DB). Ctrl-C stops after the current job; a
    tournament stops after its current match and resumes at the next start.
    --workers and --backend ray spread a tournament's matches as in
    'arena tournament run'.
    """
    from server.worker import Worker

    _log_to_stderr()
    executor = _executor_settings(workers, backend, ray_address)
    worker = Worker(_engine(), Settings(db_url=State.db, **executor), say=write)
    try:
        if once:
            worker.recover()
            while call(worker.step):
                pass
            return
        sys.stderr.write("arena worker: waiting for jobs; Ctrl-C stops\n")
        worker.run()
    except KeyboardInterrupt:
        sys.stderr.write("worker stopped\n")
        raise typer.Exit(0) from None


def _print_token(name: str, organiser: bool, token: str, as_json: bool, verb: str) -> None:
    if as_json:
        print_json({"name": name, "organiser": organiser, "token": token})
        return
    # The token alone on stdout (TOKEN=$(arena user add ada)); the words on stderr.
    sys.stdout.write(token + "\n")
    who = "organiser" if organiser else "participant"
    sys.stderr.write(
        f"{verb} {who} '{name}': the token above is shown once and stored hashed; "
        f"'arena user token {name}' issues a new one\n"
    )


def user_add_command(
    name: Annotated[str, typer.Argument(help="1-48 letters, digits, '.', '_', '-'.")],
    organiser: Annotated[
        bool, typer.Option(help="May queue tournaments and read every log.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Add a user and print their new API token (once: only its hash is stored)."""
    from server.users import add_user

    engine = _engine()
    user, token = call(lambda: add_user(engine, name, organiser=organiser))
    _print_token(user.name, user.organiser, token, as_json, "added")


def user_list_command(as_json: AsJson = False) -> None:
    """List the users: name, role, when added, whether revoked (never their tokens)."""
    from server.users import list_users

    users = call(lambda: list_users(_engine()))
    if as_json:
        print_json([u.to_dict() for u in users])
        return
    if not users:
        out.print("no users yet (arena user add NAME)")
        return
    shown = table("Users")
    for column in ("name", "role", "added", "token"):
        shown.add_column(column)
    for u in users:
        revoked = f"revoked {utc(u.revoked_at)}" if u.revoked_at else "active"
        role = "organiser" if u.organiser else "participant"
        shown.add_row(cell(u.name), role, utc(u.created_at), revoked)
    out.print(shown)


def user_revoke_command(name: Annotated[str, typer.Argument(help="The user.")]) -> None:
    """Revoke a user's token and sign them out; their agents and results stay."""
    from server.users import revoke_user

    user = call(lambda: revoke_user(_engine(), name))
    write(f"revoked '{user.name}': the token no longer works")


def user_token_command(
    name: Annotated[str, typer.Argument(help="The user.")], as_json: AsJson = False
) -> None:
    """Give a user a new token (the old one stops working; a revoked user is restored)."""
    from server.users import reissue_token

    user, token = call(lambda: reissue_token(_engine(), name))
    _print_token(user.name, user.organiser, token, as_json, "new token for")

"""What every ``arena`` command shares: global options, the one-line failure rule, output.

The commands live where their features live (``arena/cli.py`` for the platform's,
``tournaments/cli.py``, ``agents/cli.py``; see :mod:`arena.registry`'s
``arena.commands`` group); they all print through here, so every command has the
same contract:

- a failure the user can fix is one line on stderr, ``error: ...``, exit code 1
  (:func:`call`), with the detail (an agent's traceback) only under ``-v``;
- text that stored data or agents control is cleaned before it reaches a
  terminal (:func:`cell` for rich tables, :func:`write` for plain lines);
- ``--json`` output is :func:`print_json`, ASCII-escaped.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO, TypeVar

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from arena.errors import ArenaError, environment_error
from arena.textsafe import TEXT_LIMIT, clean_text

# Piped output (scripts, CI logs) gets wide tables instead of rich's 80 columns,
# unless COLUMNS says how wide to be. Tables fold to fit a terminal (80 columns up).
_PIPE_WIDTH = None if "COLUMNS" in os.environ else 160
out = Console(width=None if sys.stdout.isatty() else _PIPE_WIDTH)
err = Console(stderr=True, width=None if sys.stderr.isatty() else _PIPE_WIDTH)
T = TypeVar("T")


class State:
    """The global options (``arena --db URL -v``), set once per invocation."""

    db: str | None = None
    verbose: bool = False


def fail(message: str, detail: str | None = None) -> NoReturn:
    """Print one ``error:`` line (and the detail under ``-v``) and exit with code 1."""
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


def call(fn: Callable[[], T]) -> T:
    """Call a library function; turn its failure into one line and exit code 1.

    An ArenaError is the input's fault; an OSError (a full disk, a read-only
    folder) or a database that cannot be written is the machine's, named by its
    path or the database URL. ``-v`` adds the detail: an agent's traceback, or
    the arena's own for the machine's failures.
    """
    try:
        return fn()
    except ArenaError as exc:
        fail(str(exc), exc.detail)
    except Exception as exc:
        sa = sys.modules.get("sqlalchemy.exc")
        on_db = sa is not None and isinstance(exc, sa.OperationalError)
        db, why = _database_shown() if on_db else (None, "")
        message = environment_error(exc, db=db, why=why)
        if message is None:
            raise
        fail(message, traceback.format_exc())


def _click_class(name: str) -> type[Exception]:
    """Click's exception class ``name`` as this typer uses it (typer >= 0.20 vendors click)."""
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == name)


_UsageError = _click_class("UsageError")
_ClickException = _click_class("ClickException")


class OneLineUsageErrors(TyperGroup):
    """The root command group: a usage error (a missing argument, ``abc`` for a match
    id, an unknown option) follows the rule every other error follows, one
    ``error:`` line on stderr and exit code 1, instead of click's boxed usage and
    exit code 2. The line names the command and where its help is.
    """

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except _UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":
                sys.exit(0)  # typer printed the help while raising: `arena` alone asks for it
            ctx = getattr(exc, "ctx", None)
            where = ctx.command_path if ctx is not None else "arena"
            message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
            message = (message[:1].lower() + message[1:]).rstrip(".")
            sys.stderr.write(f"error: {where}: {message} (see {where} --help)\n")
            sys.exit(1)
        except _ClickException as exc:
            sys.stderr.write(f"error: {' '.join(exc.format_message().split())}\n")  # type: ignore[attr-defined]
            sys.exit(getattr(exc, "exit_code", 1))
        except typer.Abort:
            sys.stderr.write("interrupted\n")
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


def version_line() -> str:
    """``arena 0.1.0``: the installed distribution's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"arena {version('arena')}"
    except PackageNotFoundError:
        return "arena (not installed: run pip install -e .)"


#: Under this many columns, tables fold: columns merge or go (each table says which).
WIDE = 100


def table(title: str = "", *, caption: str | None = None) -> Table:
    """A table in the arena's one style: a rule under the header and no side borders,
    two columns of space each, so that the tables fit 80 columns. ``title`` is
    cleaned (it may quote stored names)."""
    return Table(
        title=cell(title) if title else None,
        caption=caption,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )


def print_json(data: Any) -> None:
    # ensure_ascii: control characters and lone surrogates leave as \u escapes
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def cell(value: Any) -> str:
    """Stored or agent-made text for rich: no escape sequences, no rich markup."""
    return escape(clean_text(str(value)))


def write(text: str, *, stream: TextIO | None = None) -> None:
    """A plain line of text that may quote stored or agent-made text, cleaned."""
    (stream or sys.stdout).write(clean_text(text, limit=max(TEXT_LIMIT, len(text))) + "\n")


def show(text: str) -> None:
    """Game text for a person: boards, prompts, replays (stored agent text included), cleaned."""
    write(text)
    sys.stdout.flush()


def utc(when: datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M:%S} UTC"

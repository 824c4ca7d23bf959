"""One page per match: the players, what each agent printed, and the game itself.

Games with a text renderer (board and card games) are rebuilt from the seed and
the action log and shown position by position (``#ply-N`` anchors stepped
through by links, no script). Every other match (MPE, Atari, or a game whose
library is not installed) shows its action log as a table, step by step, beside
the returns in the players table; the report draws no frames (``arena replay
--gif`` does).

What an agent printed is its own text: it goes through :func:`esc` (cleaned,
then escaped) inside a closed ``<details>`` fold, one per agent; the arena's
own note on the match (:data:`~arena.storage.recorder.NOTE_KEY`) is shown apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from arena.registry import env_specs
from arena.replay import MatchRecord, Replay, load_match, rebuild
from arena.storage.recorder import NOTE_KEY
from arena.textsafe import clean_text
from tournaments.report import data, reads
from tournaments.report.html import Num, esc, link, page, table
from tournaments.report.naming import Naming
from tournaments.report.paths import env_page, replay_page

#: steps of an action log shown on a page; longer logs (Atari) say where they were cut
MAX_STEPS_SHOWN = 500

Write = Callable[[Path, str], None]


def write_replays(
    engine: Engine,
    root: Path,
    env: str,
    lines: Sequence[data.MatchLine],
    max_replays: int | None,
    naming: Naming,
    write: Write,
) -> tuple[set[int], int]:
    """Replay pages for the env's matches (newest first); returns the ids written, errors."""
    spec = env_specs().get(env)
    text = spec is not None and spec.render_text is not None and not spec.missing()
    chosen = lines if max_replays is None else lines[:max_replays]
    made: set[int] = set()
    errors = 0
    envs: dict[str, Any] = {}  # one env per kwargs, reset for every match
    for line in chosen:
        record = load_match(engine, line.match_id)
        extras = reads.match_extras(engine, line.match_id)
        game: str
        if text and spec is not None:
            key = json.dumps(record.env_kwargs, sort_keys=True, default=str)
            try:
                if key not in envs:
                    envs[key] = spec.build(**record.env_kwargs)
                game = _positions(rebuild(spec, record, env=envs[key], board=False))
            except Exception as exc:  # a stale log must not sink the whole report
                errors += 1
                game = f"<p>This match could not be replayed: {esc(exc)}</p>"
        else:
            game = _action_table(record)
        body = _head(record) + _players(record, extras, naming) + _outputs(record, extras) + game
        write(
            root / replay_page(line.match_id),
            page(f"Match {line.match_id}: {env}", body, root="../"),
        )
        made.add(line.match_id)
    return made, errors


def _head(record: MatchRecord) -> str:
    where = f", tournament {esc(record.tournament)}" if record.tournament else ""
    return (
        f"<p>{link('../' + env_page(record.env_id), record.env_id)} ({esc(record.env_version)}), "
        f"seed {record.seed}, played {esc(record.created_at)}{where}.</p>"
    )


def _players(record: MatchRecord, extras: reads.MatchExtras, naming: Naming) -> str:
    rows = []
    for p in record.players:
        content = naming.hash_of(extras.versions.get(p.slot))
        rows.append(
            [
                p.label,
                ", ".join(p.seats),
                naming.version(p.version, content),
                p.outcome,
                Num(f"{p.reward:g}"),
                p.forfeit or "–",
            ]
        )
    players = table(
        "Players",
        ["Agent", "Seats", "Version", "Outcome", "Return", "Forfeit"],
        rows,
        row_header=0,
    )
    errors = "".join(
        f"<details><summary>{esc(p.label)}: error text</summary>"
        f"<pre>{esc(clean_text(p.error))}</pre></details>"
        for p in record.players
        if p.error
    )
    return players + errors


def _outputs(record: MatchRecord, extras: reads.MatchExtras) -> str:
    """Each agent's captured output behind a fold, then the arena's note."""
    outputs = extras.outputs
    labels = [p.label for p in record.players]
    others = [k for k in outputs if k not in labels and k != NOTE_KEY]  # e.g. renamed rows
    folds = []
    for label in [*labels, *others]:
        text = outputs.get(label, "")
        if not text:
            folds.append(f"<p>{esc(label)} printed nothing.</p>")
            continue
        size = len(text.splitlines()) or 1
        folds.append(
            f'<details class="output"><summary>{esc(label)}: what it printed '
            f"({size} line{'s' if size != 1 else ''})</summary>"
            f"<pre>{esc(text)}</pre></details>"
        )
    note = outputs.get(NOTE_KEY, "")
    arena_note = (
        '<section aria-labelledby="h-note"><h2 id="h-note">The arena\'s note</h2>'
        f'<p class="note">{esc(note)}</p></section>'
        if note
        else ""
    )
    return (
        '<section aria-labelledby="h-output"><h2 id="h-output">What the agents printed</h2>'
        + "".join(folds)
        + "</section>"
        + arena_note
    )


def _action(action: Any) -> str:
    if isinstance(action, list) and all(isinstance(x, (int, float)) for x in action):
        return "[" + ", ".join(f"{x:.3g}" for x in action) + "]"
    return str(action)


def _action_table(record: MatchRecord) -> str:
    """The action log step by step: a column per seat (a turn-based log: seat and action)."""
    log = record.actions
    # A turn-based log holds [seat, action] per move; a simultaneous one [[seat, action], ...].
    turn_based = bool(log) and isinstance(log[0], list) and isinstance(log[0][0], str)
    shown = log[:MAX_STEPS_SHOWN]
    caption = f"Actions, step by step ({len(log)} step{'s' if len(log) != 1 else ''})"
    if turn_based:
        rows: list[list[Any]] = [
            [Num(i), str(step[0]), _action(step[1])] for i, step in enumerate(shown, 1)
        ]
        body = table(caption, ["Step", "Seat", "Action"], rows)
    else:
        seats = [seat for p in record.players for seat in p.seats]
        for step in shown:  # seats the players list lacks (older rows) still get a column
            seats += [str(s) for s, _ in step if str(s) not in seats]
        rows = []
        for i, step in enumerate(shown, 1):
            joint = {str(s): a for s, a in step}
            rows.append([Num(i), *(_action(joint[s]) if s in joint else "–" for s in seats)])
        body = table(caption, ["Step", *seats], rows)
    cut = (
        f"<p>The first {MAX_STEPS_SHOWN} of {len(log)} steps are shown; "
        f"<code>arena replay {record.match_id}</code> prints them all.</p>"
        if len(log) > MAX_STEPS_SHOWN
        else ""
    )
    return (
        '<section aria-labelledby="h-actions"><h2 id="h-actions">Actions</h2>'
        "<p>This game has no text view: its action log is shown instead, and the returns "
        f"are in the players table. <code>arena replay {record.match_id} --gif FILE</code> "
        "draws it.</p>" + (body if log else "<p>No action was logged.</p>") + cut + "</section>"
    )


def _positions(replay: Replay) -> str:
    """Every position of a text-rendered game, with a move list linking to each."""
    last = len(replay.plies) - 1
    moves = "".join(
        f'<li value="{ply.number}">{link(f"#ply-{ply.number}", _moves_text(ply))}</li>'
        for ply in replay.plies[1:]
    )
    move_list = (
        f'<nav aria-label="moves"><h2>Moves</h2><p>{link("#ply-0", "start position")}</p>'
        f'<ol class="moves">{moves}</ol></nav>'
    )
    sections = []
    for ply in replay.plies:
        title = "Start" if ply.number == 0 else f"Move {ply.number}: {_moves_text(ply)}"
        steps = []
        if ply.number > 0:
            steps.append(link(f"#ply-{ply.number - 1}", "previous"))
        if ply.number < last:
            steps.append(link(f"#ply-{ply.number + 1}", "next"))
        steps.append(link(f"#ply-{last}", "end"))
        board = f"<pre>{esc(ply.text)}</pre>" if ply.text is not None else ""
        sections.append(
            f'<section class="ply" id="ply-{ply.number}" aria-labelledby="t-ply-{ply.number}">'
            f'<h3 id="t-ply-{ply.number}">{esc(title)}</h3>{board}'
            f'<nav aria-label="step">{" · ".join(steps)}</nav></section>'
        )
    return move_list + "<h2>Positions</h2>" + "".join(sections)


def _moves_text(ply: Any) -> str:
    return ", ".join(f"{seat} {move}" for seat, move in ply.moves)

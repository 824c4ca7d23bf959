"""Games people play in the browser, each on a thread of its own.

A game's thread runs the loop that ``arena play`` runs
(:func:`arena.human.play_series`, one game). The person's seat is a
:class:`BrowserSeat`: its ``act`` publishes the position and waits for the move
that an HTTP request hands over (:meth:`WebGame.move`). The opponent runs where
any match would run it (a package in the sandbox), and the finished game is
stored and rated with the person as an agent of kind ``human``.

- A person who makes no move for ``Settings.game_idle_s`` forfeits (reason
  ``timeout``); the game is recorded like any other.
- A server shutdown (:meth:`Games.close`) ends every running game unrecorded
  (it is nobody's fault), closes the opponents and joins the threads.
- ``Settings.games_per_user`` and ``games_total`` cap the running games
  (:class:`server.game_pool.Games`).
- MPE and Atari games run in real time instead (:mod:`server.realtime`).

Games live in memory only: a restart forgets unfinished ones (they are not
recorded) and finished ones stay readable for ``Settings.game_keep_s``.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Sequence
from pathlib import Path
from time import monotonic
from typing import Any, Literal

from sqlalchemy import Engine

from arena.errors import ArenaError
from arena.faults import AgentFault
from arena.hosts import Host
from arena.human import GameRecord, GameStart, PlaySetup, check_name, play_series
from arena.limits import Limits
from arena.protocol import AgentContext
from arena.result import MatchResult
from arena.sources import AgentSource
from arena.textsafe import clean_text
from server.access import visible_agents
from server.settings import Settings
from server.submissions import claim_person_name
from server.users import UserInfo

log = logging.getLogger("arena.server")

Seat = Literal["first", "second"]
#: How long a request waits for the opponent's reply (or a new game's first
#: position) beyond the opponent's own limits, before it answers with the
#: position as it stands (``to_move`` is then the opponent; poll ``GET``).
REPLY_MARGIN_S = 10.0
PERSON_SUFFIX = " human"
#: Opponents are never paths (:func:`opponent_text`); a relative name is resolved
#: against this folder, which does not exist, so it cannot find one in the server's
#: working directory either.
NOWHERE = Path("/nonexistent/arena-opponents-are-never-paths")
#: What a person reads when the opponent fails to start: its error names the server's
#: folders and the package's own output, which are its owner's and the organisers'.
OPPONENT_FAILED = "the opponent could not be started; its owner and the organisers can read why"


class GameError(Exception):
    """A request the game refuses: ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class ServerStopped(Exception):
    """The server shut down while the person was to move: the game ends unrecorded."""


def person_name(user: UserInfo, engine: Engine) -> str:
    """The agent name a user plays under: their user name, kind ``human``.

    When that name is a built-in's, a stored machine agent's, or another user's
    (an upload called the same, say), the person plays as ``NAME human``: a
    space is never in a package's or a user's name, so no upload can take it.
    The name played under is recorded as the user's (``agent_owners``), so no
    other user can later upload a package under it.

    Raises:
        ArenaError: neither name can be a person's (too long with the suffix).
    """
    try:
        check_name(user.name, engine)
        claim_person_name(engine, user, user.name)
        return user.name
    except ArenaError:
        fallback = user.name + PERSON_SUFFIX
        check_name(fallback, engine)
        return fallback


def opponent_text(opponent: str) -> str:
    """The opponent as typed, refused when it could name a file on the server.

    Raises:
        GameError: 400 for anything but a built-in or a submitted ``name[@version]``.
    """
    text = opponent.strip()
    if not text or any(c in text for c in "/\\") or text.startswith((".", "~")):
        raise GameError(
            400, f"opponent '{opponent}': name a built-in or a submitted agent (name[@version])"
        )
    return text


def overall(records: Sequence[GameRecord]) -> str:
    """The person's result over the games (one, or a pair): by points, a win 1, a draw 1/2."""
    points = sum({"win": 1.0, "draw": 0.5}.get(r.outcome, 0.0) for r in records)
    half = len(records) / 2
    return "win" if points > half else "loss" if points < half else "draw"


class BrowserSeat:
    """The person's seat as a host: ``act`` waits for the browser's move."""

    def __init__(self, game: WebGame) -> None:
        self.game = game

    def load(self) -> None:
        pass

    def start_match(self, contexts: Sequence[AgentContext]) -> None:
        pass

    def act(self, seat: str, observation: Any, mask: Any, timeout_s: float) -> Any:
        # timeout_s is the opponent's kind of limit; a person has game_idle_s instead.
        return self.game.wait_for_move(seat, mask)

    def end_match(self) -> str:
        return ""

    def close(self) -> None:
        pass


class WebGame:
    """One game of one person: the state its requests read, and the thread that plays it."""

    def __init__(
        self,
        game_id: int,
        user: UserInfo,
        setup: PlaySetup,
        seat: Seat,
        engine: Engine,
        settings: Settings,
        limits: Limits,
    ) -> None:
        self.id = game_id
        self.user_id = user.id
        self.user = user
        self.setup = setup
        self.seat_choice = seat
        self.engine, self.settings, self.limits = engine, settings, limits
        side = 0 if seat == "first" else 1
        self.your_seat = setup.spec.sides[side].seats[0]
        self._their_seat = setup.spec.sides[1 - side].seats[0]
        self._cond = threading.Condition()
        self._stopping = False
        self._version = 0  # bumped on every change of what a request sees
        self._waiting = False  # the person is to move
        self._pending: int | None = None  # the move handed over, not yet taken
        self.to_move: str | None = None
        self.legal: list[tuple[int, str]] = []
        self.text: str | None = None
        self.board: dict[str, Any] | None = None
        self.opponent_move: str | None = None
        self.done = False
        #: Games to play: 1, or a duplicate pair (role-asymmetric real-time envs).
        self.games = 1
        self.records: list[GameRecord] = []
        self.error: str | None = None
        self.finished_at: float | None = None
        self.thread = threading.Thread(target=self._run, name=f"arena-game-{game_id}", daemon=True)

    # --- the game's thread -------------------------------------------------

    def seat_host(self) -> Host:
        """What serves the person's seat."""
        return BrowserSeat(self)

    def _render(self) -> None:
        """Read the position off the env (in the game's thread: the env is still)."""
        spec, env = self.setup.spec, self.setup.env
        self.text = None if spec.render_text is None else clean_text(spec.render_text(env))
        self.board = None if spec.render_board is None else spec.render_board(env)

    def wait_for_move(self, seat: str, mask: Any) -> int:
        """Publish the position with the seat's legal moves; wait for the person's move.

        Raises:
            AgentFault: ``timeout`` after ``game_idle_s`` without a move.
            ServerStopped: the server shuts down.
        """
        notation = self.setup.spec.notation
        assert notation is not None
        legal = notation.legal(self.setup.env, seat, mask)
        with self._cond:
            self._render()
            self.to_move, self.legal = seat, legal
            self._waiting, self._pending = True, None
            self._version += 1
            self._cond.notify_all()
            deadline = monotonic() + self.settings.game_idle_s
            try:
                while self._pending is None:
                    if self._stopping:
                        raise ServerStopped
                    left = deadline - monotonic()
                    if left <= 0:
                        idle = self.settings.game_idle_s
                        raise AgentFault(
                            "timeout", f"the player made no move for {idle:g} s", seat=seat
                        )
                    self._cond.wait(left)
                action: int = self._pending
            finally:
                self._waiting, self._pending, self.legal = False, None, []
                self.to_move = self._their_seat
                self._version += 1
                self._cond.notify_all()
        return action

    def _told(self, seat: str, move: str) -> None:
        with self._cond:
            self.opponent_move = clean_text(move)

    def _starting(self, start: GameStart) -> None:
        with self._cond:
            self.your_seat = start.seat
            self._version += 1

    def _ended(self, record: GameRecord, _result: MatchResult) -> bool:
        with self._cond:
            self._render()
            self.records.append(record)
            self._version += 1
            return len(self.records) < self.games

    def _run(self) -> None:
        try:
            play_series(
                self.setup,
                self.seat_host(),
                self.engine,
                tell=self._told,
                games=self.games,
                seat=self.seat_choice,
                seed=secrets.randbits(31),
                limits=self.limits,
                before_game=self._starting,
                after_game=self._ended,
                pairs=self.games > 1,
            )
        except ServerStopped:
            self.error = "the server stopped; this game was not recorded"
        except ArenaError as exc:  # the opponent's package failed to import
            self.error = self._opponent_error(clean_text(str(exc)))
        except Exception as exc:
            log.exception("game %s failed", self.id)
            self.error = f"the game failed ({type(exc).__name__}); it was not recorded"
        finally:
            with self._cond:
                self.done, self._waiting, self.to_move, self.legal = True, False, None, []
                self.finished_at = monotonic()
                self._version += 1
                self._cond.notify_all()

    # --- what requests call ------------------------------------------------

    def _wait_for_turn(self, after: int, timeout_s: float) -> None:
        """Wait (holding the lock) until the person is to move again, or the game is over."""
        deadline = monotonic() + timeout_s
        while not (self.done or (self._waiting and self._version > after)):
            left = deadline - monotonic()
            if left <= 0:
                return
            self._cond.wait(left)

    def reply_wait_s(self) -> float:
        """How long the opponent may take to move (or to start), plus a margin."""
        limits = self.limits
        return limits.init_timeout_s + limits.move_timeout_s + limits.time_bank_s + REPLY_MARGIN_S

    def first_position(self) -> dict[str, Any]:
        """Start the thread; the state once the person is to move (or the game is over)."""
        with self._cond:
            self.thread.start()
            self._wait_for_turn(0, self.reply_wait_s())
            return self.view()

    def move(self, user: UserInfo, action: int) -> dict[str, Any]:
        """Hand the person's move to the game; the state after the opponent's reply.

        Raises:
            GameError: 403 someone else's game, 409 over or not the person's turn,
                400 an illegal action.
        """
        with self._cond:
            if user.id != self.user_id:
                raise GameError(403, f"game {self.id} is not yours")
            if self.done:
                raise GameError(409, f"game {self.id} is over")
            if not self._waiting or self._pending is not None:
                raise GameError(409, "the opponent is to move; wait for its move")
            legal = [a for a, _ in self.legal]
            if action not in legal:
                shown = ", ".join(str(a) for a in legal)
                raise GameError(400, f"action {action} is not legal here (legal: {shown})")
            self._pending = action
            before = self._version
            self._cond.notify_all()
            self._wait_for_turn(before, self.reply_wait_s())
            return self.view()

    def _opponent_error(self, text: str) -> str:
        """The opponent's failure as the person may read it (the text: owner, organisers)."""
        if visible_agents(self.engine, self.user, {self.setup.rival.info.name}):
            return text
        log.warning("game %s: the opponent failed: %s", self.id, text)
        return OPPONENT_FAILED

    def view(self) -> dict[str, Any]:
        """The state a request answers with (JSON-ready)."""
        with self._cond:
            record = self.records[-1] if self.records and self.done else None
            return {
                "id": self.id,
                "env": self.setup.spec.env_id,
                "opponent": clean_text(self.setup.rival.label),
                "player": self.setup.name,
                "your_seat": self.your_seat,
                "to_move": self.to_move,
                "legal": [a for a, _ in self.legal],
                "legal_names": [[a, clean_text(name)] for a, name in self.legal],
                "text": self.text,
                "board": self.board,
                "opponent_move": self.opponent_move,
                "done": self.done,
                "result": None if record is None else overall(self.records),
                "match_id": None if record is None else record.match_id,
                "games": [
                    {"seat": r.seat, "result": r.outcome, "match_id": r.match_id}
                    for r in self.records
                ],
                "forfeit": None if record is None else record.forfeit,
                "opponent_forfeit": None if record is None else record.opponent_forfeit,
                "error": self.error,
                "idle_limit_s": self.settings.game_idle_s,
            }

    def stop(self) -> None:
        """Ask the thread to end (the server is shutting down)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()


def opponents_for(engine: Engine, env_id: str) -> list[str]:
    """Who a person can play on ``env_id``: the built-ins, then the accepted (stored) agents."""
    from arena.registry import builtin_agents, get_env
    from arena.sources import builtin_source, resolve_agent
    from server.queries import agent_rows

    roles = get_env(env_id).roles
    builtins = builtin_agents()
    found = [
        name
        for name, agent in sorted(builtins.items())
        if _plays(builtin_source(agent), env_id, roles)
    ]
    for row in agent_rows(engine):
        if row.kind == "human" or row.name in builtins:
            continue
        try:
            opponent_text(row.name)
            source = resolve_agent(row.name, base_dir=NOWHERE)
        except (ArenaError, GameError):
            continue  # not in this server's registry (played from a folder, say)
        if _plays(source, env_id, roles):
            found.append(row.name)
    return found


def _plays(source: AgentSource, env_id: str, roles: Sequence[str]) -> bool:
    # Every role: a role-asymmetric real-time game is a pair, the opponent on both sides.
    return source.supports(env_id) and all(source.can_fill(role) for role in roles)

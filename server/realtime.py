"""Real-time games in the browser: MPE and two-player Atari, played with the keyboard.

The game's thread steps the env at a fixed tick (:data:`FPS`), as fast as a
person can watch; every step, the person's seats all take the action of the
key the person holds (the last one the page sent; no key is the no-op), and
the position is sent as a PNG frame over the game's WebSocket
(``/api/games/ID/ws``, :mod:`server.play_api`). The clock waits for the page
to connect, and a game without a key for ``Settings.game_idle_s`` (or never
connected) is forfeited (``timeout``) and recorded, like a board game.

Keys (the page sends action numbers; :func:`key_map` is the map it gets):

- MPE (the five moves): arrows or WASD; nothing held is "no move". Seats whose
  actions are not the five moves (``simple_world_comm``'s leader,
  ``simple_crypto``) take the key's number when it is one of theirs, else 0.
- Atari: arrows move, space fires, nothing held is NOOP; a game's minimal
  action set decides which of these exist.

Role-asymmetric envs (simple_tag's predators and prey) are rated in duplicate
pairs only (:mod:`arena.storage.recorder`), so there a game is a pair: the
person plays one side, then the other on the same seed, and the pair is rated.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Sequence
from time import monotonic
from typing import Any

from arena.faults import AgentFault
from arena.hosts import Host
from arena.human import GameRecord, GameStart
from arena.protocol import AgentContext
from arena.rating import asymmetric
from arena.result import MatchResult
from server.games import GameError, ServerStopped, WebGame

FPS = 15
#: MPE's discrete moves: 0 none, 1 left, 2 right, 3 down, 4 up.
MPE_KEYS = {"ArrowLeft": 1, "ArrowRight": 2, "ArrowDown": 3, "ArrowUp": 4}
#: The ALE actions the keys stand for: FIRE 1, UP 2, RIGHT 3, LEFT 4, DOWN 5.
ATARI_KEYS = {" ": 1, "ArrowUp": 2, "ArrowRight": 3, "ArrowLeft": 4, "ArrowDown": 5}
#: Frames waiting for a slow page; older ones are dropped (the page shows the newest).
FRAME_BACKLOG = 4
#: Open sockets (pages) per game: one; a second page is refused until the first closes.
SOCKETS_PER_GAME = 1


def key_map(family: str, env: Any) -> dict[str, int]:
    """Key (``KeyboardEvent.key``) -> action number of the env's seats."""
    if family == "mpe":
        return dict(MPE_KEYS)
    mapping = [int(a) for a in getattr(env.unwrapped, "action_mapping", ())]
    return {key: mapping.index(ale) for key, ale in ATARI_KEYS.items() if ale in mapping}


def png(frame: Any) -> bytes:
    """An ``rgb_array`` frame as PNG bytes (fast compression: a tick is 66 ms)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


class KeyboardSeat:
    """The person's seats as a host: each step waits for the tick, then takes the held key."""

    def __init__(self, game: RealtimeGame) -> None:
        self.game = game

    def load(self) -> None:
        pass

    def start_match(self, contexts: Sequence[AgentContext]) -> None:
        pass

    def act(self, seat: str, observation: Any, mask: Any, timeout_s: float) -> Any:
        return self.game.tick(seat)

    def end_match(self) -> str:
        return ""

    def close(self) -> None:
        pass


class RealtimeGame(WebGame):
    """A game stepped by the clock; keys come in and frames go out over a WebSocket."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        spec, env = self.setup.spec, self.setup.env
        # Role-asymmetric envs (simple_tag) are rated by duplicate pairs only: the person
        # plays both sides, one game each, on one seed.
        self.games = 2 if asymmetric((s.role, s.team) for s in spec.sides) else 1
        self._sizes = {seat: int(env.action_space(seat).n) for seat in env.possible_agents}
        self._lead = ""
        self._lead_of(self.seat_choice == "first")
        self.keys = key_map(spec.family, env)
        self._held = 0
        self._connections = 0
        self._last_input = monotonic()
        self._next_tick = 0.0
        self._out: deque[bytes | dict[str, Any]] = deque()  # frames and states, in order
        self.steps = 0

    def seat_host(self) -> Host:
        return KeyboardSeat(self)

    def _lead_of(self, first: bool) -> None:
        """The first of the person's seats asked each step: the one that waits for the tick."""
        spec = self.setup.spec
        team = spec.sides[0 if first else 1].team
        self._lead = next(seat for s in spec.sides if s.team == team for seat in s.seats)

    def _starting(self, start: GameStart) -> None:
        with self._cond:
            self._lead_of(start.first)
            self._held = 0
        super()._starting(start)
        if start.game > 1:  # the page learns its new side before the new game's frames
            self._send(self.view())

    # --- the game's thread -------------------------------------------------

    def _send(self, item: bytes | dict[str, Any]) -> None:
        """Queue a frame (or a state) for the socket; a slow page loses its oldest frames."""
        with self._cond:
            self._out.append(item)
            frames = [i for i, x in enumerate(self._out) if isinstance(x, bytes)]
            if len(frames) > FRAME_BACKLOG:
                del self._out[frames[0]]
            self._cond.notify_all()

    def _push_frame(self) -> None:
        frame = self.setup.env.render()
        if frame is not None:
            self._send(png(frame))

    def _idle_fault(self, seat: str) -> AgentFault:
        idle = self.settings.game_idle_s
        return AgentFault("timeout", f"the player pressed no key for {idle:g} s", seat=seat)

    def tick(self, seat: str) -> int:
        """The held key's action for ``seat``; at each step's first seat, wait for the tick.

        Raises:
            AgentFault: ``timeout``: no page connected, or no key, for ``game_idle_s``.
            ServerStopped: the server shuts down.
        """
        if seat == self._lead:
            with self._cond:
                while self._connections == 0:  # the clock waits for the page
                    if self._stopping:
                        raise ServerStopped
                    left = self._last_input + self.settings.game_idle_s - monotonic()
                    if left <= 0:
                        raise self._idle_fault(seat)
                    self._cond.wait(left)
                    self._next_tick = monotonic()
            self._push_frame()
            with self._cond:
                while not self._stopping and monotonic() < self._next_tick:
                    self._cond.wait(self._next_tick - monotonic())
                if self._stopping:
                    raise ServerStopped
                if monotonic() - self._last_input > self.settings.game_idle_s:
                    raise self._idle_fault(seat)
                self._next_tick = max(monotonic(), self._next_tick) + 1.0 / FPS
                self.steps += 1
        held = self._held
        return held if held < self._sizes[seat] else 0

    def _ended(self, record: GameRecord, result: MatchResult) -> bool:
        self._push_frame()  # the final position
        return super()._ended(record, result)

    # --- what requests and the WebSocket call ------------------------------

    def first_position(self) -> dict[str, Any]:
        """Start the thread; the clock starts when the page connects."""
        self.thread.start()
        return self.view()

    def move(self, user: Any, action: int) -> dict[str, Any]:
        raise GameError(409, "a real-time game takes its keys over /api/games/ID/ws")

    def connect(self) -> bool:
        """Take the game's socket; False while another page holds it (one at a time:
        each socket holds a server thread while it waits for frames)."""
        with self._cond:
            if self._connections >= SOCKETS_PER_GAME:
                return False
            self._connections += 1
            self._last_input = monotonic()
            self._cond.notify_all()
            return True

    def disconnect(self) -> None:
        with self._cond:
            self._connections -= 1
            self._held = 0  # a closed page holds no key
            self._cond.notify_all()

    def hold(self, action: Any) -> None:
        """The key the person now holds, as its action number (0: none).

        Raises:
            GameError: 400 for anything but an action number of the person's seats.
        """
        top = self._sizes[self._lead]
        if isinstance(action, bool) or not isinstance(action, int) or not 0 <= action < top:
            raise GameError(400, f"action {action!r} is not legal here (legal: 0-{top - 1})")
        with self._cond:
            self._held = action
            self._last_input = monotonic()

    def next_out(self, timeout_s: float) -> bytes | dict[str, Any] | None:
        """The next PNG frame or state for the socket; None when none came in ``timeout_s``."""
        with self._cond:
            if not self._out:
                self._cond.wait(timeout_s)
            return self._out.popleft() if self._out else None

    def view(self) -> dict[str, Any]:
        state = super().view()
        with self._cond:
            state.update(
                realtime=True,
                fps=FPS,
                keys=self.keys,
                legal=list(range(self._sizes[self._lead])),
                legal_names=[],
                to_move=None if self.done else self._lead,
                steps=self.steps,
                game=min(len(self.records) + 1, self.games),
                of=self.games,
            )
        return state

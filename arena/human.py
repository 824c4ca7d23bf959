"""A person plays in the terminal (``arena play``), rated like any other agent.

The person is an agent of kind ``human`` (source ``human``), created on first
play under its name and rated with TrueSkill in the same pool as the machines.
The person's seat is served by :class:`HumanHost`, which reads moves through a
callback (stdin in the CLI) and never times out: the move limits apply to the
opponent alone. An opponent package runs in the sandbox as in any match.

Input, one move per line: the action index or the game's notation (see
``envs/notation.py``). ``resign`` forfeits the game (reason ``resign``);
``quit``, or the end of input, forfeits the game in progress (reason ``quit``)
and plays no more games: leaving a lost game must not spare the rating.

Ctrl-C asks first (``forfeit this game? [y/N]``): yes forfeits the game in
progress (reason ``quit``) and stops; no, or nothing, goes on with the game
where it was. A second Ctrl-C at that question, or the end of input, is a yes.
Ctrl-C while the opponent moves is held until the person's next prompt, so it
never leaves a game unrecorded; between games it stops the series.
"""

from __future__ import annotations

import contextlib
import getpass
import re
import secrets
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine

from arena.errors import ArenaError
from arena.faults import AgentFault
from arena.hosts import Host, HostPool
from arena.limits import Limits
from arena.protocol import AgentContext
from arena.result import AgentInfo, MatchResult
from arena.runner import play_match
from arena.sources import AgentSource
from arena.specs import EnvSpec, Notation

Ask = Callable[[str], "str | None"]  # prompt -> one line, None at the end of input
Show = Callable[[str], None]
SeatChoice = Literal["first", "second", "alternate"]

NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,47}$")
HUMAN_KIND = "human"
FORFEIT_PROMPT = "forfeit this game? [y/N] "


@dataclass
class GameRecord:
    """One game the person played."""

    game: int
    match_id: int | None
    seat: str
    outcome: str  # win | draw | loss, from the person's side
    forfeit: str | None  # the person's forfeit reason
    opponent_forfeit: str | None
    reward: float


@dataclass
class PlayReport:
    """What ``arena play`` did, and the person's rating afterwards."""

    env_id: str
    name: str
    opponent: str
    games: list[GameRecord] = field(default_factory=list)
    quit: bool = False  # the person stopped the series: quit, the end of input, or Ctrl-C
    interrupted: bool = False  # ... by Ctrl-C
    rating: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def human_info(name: str) -> AgentInfo:
    """The agent identity of a person: one version per name, forever."""
    return AgentInfo(
        name=name,
        version="1",
        content_hash=f"human:{name}",
        kind=HUMAN_KIND,
        learning_type="Human",
        source="human",
    )


def default_name() -> str:
    """The login name when it is a valid player name, else ``human``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        return "human"
    return user if NAME_RULE.match(user) else "human"


def playable_envs() -> list[str]:
    """Env ids a person can play: two sides, a text renderer and a notation."""
    from arena.registry import env_specs

    return sorted(
        env_id
        for env_id, spec in env_specs().items()
        if spec.notation is not None and spec.render_text is not None and spec.symmetric
    )


class HumanHost:
    """Serves the person's seat: shows the position, reads a move, never times out."""

    def __init__(self, spec: EnvSpec, env: Any, ask: Ask, show: Show) -> None:
        assert spec.notation is not None and spec.render_text is not None
        self.spec = spec
        self.env = env
        self.notation: Notation = spec.notation
        self.ask = ask
        self.show = show
        self.quit = False  # the person stopped the series
        self.interrupted = False  # ... by Ctrl-C
        self.pending = False  # Ctrl-C came while the person was not at a prompt
        self.at_prompt = False

    def load(self) -> None:
        pass

    def start_match(self, contexts: Sequence[AgentContext]) -> None:
        pass

    def act(self, seat: str, observation: Any, mask: Any, timeout_s: float) -> Any:
        # timeout_s is ignored on purpose: a person thinks as long as they like.
        assert self.spec.render_text is not None
        self.show(self.spec.render_text(self.env))
        legal = self.notation.legal(self.env, seat, mask)
        self.show("legal moves: " + " ".join(name for _, name in legal))
        while True:
            if self.pending:  # Ctrl-C while the opponent moved: asked now
                self.pending = False
                self._confirm_forfeit(seat)
            try:
                line = self._prompt("your move> ")
            except KeyboardInterrupt:
                self.show("")  # the terminal's ^C left the cursor on the prompt's line
                self._confirm_forfeit(seat)
                continue
            if line is None or line.strip().lower() == "quit":
                self.quit = True
                raise AgentFault("quit", "the player quit", seat=seat)
            text = line.strip()
            if not text:
                continue
            if text.lower() == "resign":
                raise AgentFault("resign", "the player resigned", seat=seat)
            try:
                return self.notation.parse(self.env, seat, text, mask)
            except ValueError as exc:
                self.show(f"refused: {exc}; type a legal move, resign or quit")

    def _prompt(self, prompt: str) -> str | None:
        self.at_prompt = True  # Ctrl-C now interrupts the read (see on_sigint)
        try:
            return self.ask(prompt)
        finally:
            self.at_prompt = False

    def _confirm_forfeit(self, seat: str) -> None:
        """Ask before forfeiting; raise the forfeit on yes, return to the game on no."""
        try:
            answer = self._prompt(FORFEIT_PROMPT)
        except KeyboardInterrupt:
            self.show("")
            answer = None  # a second Ctrl-C is a yes
        if answer is None or answer.strip().lower() in ("y", "yes"):
            self.quit = self.interrupted = True
            raise AgentFault("quit", "the player quit (Ctrl-C)", seat=seat)
        self.show("the game goes on")

    def on_sigint(self, _signum: int, _frame: Any) -> None:
        """SIGINT during a series: interrupts a prompt, else waits for the next one."""
        if self.at_prompt:
            raise KeyboardInterrupt
        self.pending = True

    def end_match(self) -> str:
        return ""

    def close(self) -> None:
        pass


Tell = Callable[[str, str], None]  # the opponent's seat, the name of the move it plays


class Announced:
    """The opponent's host, telling the person each move it makes (``tell(seat, name)``)."""

    def __init__(self, inner: Host, spec: EnvSpec, env: Any, tell: Tell) -> None:
        self.inner = inner
        self.spec = spec
        self.env = env
        self.notation: Notation | None = spec.notation  # None: real-time envs, nothing to tell
        self.tell = tell

    def load(self) -> None:
        self.inner.load()

    def start_match(self, contexts: Sequence[AgentContext]) -> None:
        self.inner.start_match(contexts)

    def act(self, seat: str, observation: Any, mask: Any, timeout_s: float) -> Any:
        action = self.inner.act(seat, observation, mask, timeout_s)
        if not self.spec.turn_based or self.notation is None:
            # Simultaneous moves: telling now could show the person the move before
            # theirs; the next position shows both.
            return action
        try:  # named before the env plays it; a bad action is the runner's to judge
            name = self.notation.describe(self.env, seat, action)
        except Exception:
            name = repr(action)
        self.tell(seat, name)
        return action

    def end_match(self) -> str:
        return self.inner.end_match()

    def close(self) -> None:
        self.inner.close()


def check_name(name: str, engine: Engine) -> None:
    """Refuse a person's name that is malformed, a built-in's, or a stored machine agent's.

    Raises:
        ArenaError: the name cannot be a person's; the message says why.
    """
    from arena.registry import builtin_agents
    from arena.storage.queries.agents import agent_kind

    if not NAME_RULE.match(name):
        raise ArenaError(
            f"--name '{name}': use 1-48 letters, digits, spaces, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if name in builtin_agents():
        raise ArenaError(f"--name '{name}' is a built-in agent's name; choose another")
    kind = agent_kind(engine, name)
    if kind is not None and kind != HUMAN_KIND:
        raise ArenaError(f"--name '{name}' belongs to a stored agent of kind '{kind}'")


def _rating(engine: Engine, info: AgentInfo, env_id: str) -> dict[str, float] | None:
    from arena.rating import conservative
    from arena.storage.queries.ratings import version_rating

    row = version_rating(engine, info.content_hash, env_id)
    if row is None:
        return None
    return {
        "mu": row.mu,
        "sigma": row.sigma,
        "score": conservative(row.mu, row.sigma),
        "games": row.games,
    }


def _record(result: MatchResult, human: int, game: int, match_id: int | None) -> GameRecord:
    mine = [s for s in result.seats if s.side == human]
    theirs = [s for s in result.seats if s.side != human]
    return GameRecord(
        game=game,
        match_id=match_id,
        seat=mine[0].seat,
        outcome=result.outcome(human),
        forfeit=mine[0].forfeit,
        opponent_forfeit=theirs[0].forfeit if theirs else None,
        reward=sum(s.reward for s in mine),
    )


@dataclass
class PlaySetup:
    """A checked game between a person and an opponent: who, where, on which env."""

    spec: EnvSpec  # for the built env (:meth:`EnvSpec.for_env`)
    env: Any  # built once, reset by every game
    person: AgentSource
    rival: AgentSource

    @property
    def name(self) -> str:
        return self.person.info.name


def prepare_play(
    env_id: str, opponent: str, name: str, engine: Engine, *, base_dir: Path | None = None
) -> PlaySetup:
    """Check the env, the person's name and the opponent; build the env.

    ``opponent`` is resolved by :func:`arena.sources.resolve_agent` (paths
    relative to ``base_dir``).

    Raises:
        ArenaError: a bad env, opponent or name, before anything is played.
    """
    from arena.registry import get_env

    spec = get_env(env_id)
    if env_id not in playable_envs():
        raise ArenaError(
            f"'arena play' does not support {env_id} (playable: {', '.join(playable_envs())})"
        )
    spec.require()
    check_name(name, engine)
    rival = _rival(opponent, env_id, (spec.sides[0].role,), base_dir)
    person = AgentSource(info=human_info(name), envs=None, roles=None)
    env = spec.build()
    return PlaySetup(spec=spec.for_env(env), env=env, person=person, rival=rival)


def _rival(opponent: str, env_id: str, roles: Sequence[str], base_dir: Path | None) -> AgentSource:
    from arena.sources import resolve_agent

    rival = resolve_agent(opponent, base_dir=base_dir)
    if not rival.supports(env_id):
        raise ArenaError(
            f"agent '{rival.label}' does not declare env '{env_id}' "
            f"(its envs: {', '.join(rival.envs or ())})"
        )
    for role in roles:
        if not rival.can_fill(role):
            raise ArenaError(f"agent '{rival.label}' cannot fill role '{role}'")
    return rival


def realtime_envs() -> list[str]:
    """Env ids a person can play in real time (the browser's keyboard): MPE and Atari
    envs of two teams, the person playing every seat of one."""
    from arena.registry import env_specs

    return sorted(
        env_id
        for env_id, spec in env_specs().items()
        if spec.family in ("mpe", "atari") and len(spec.teams) == 2
    )


def prepare_realtime(
    env_id: str,
    opponent: str,
    name: str,
    engine: Engine,
    *,
    first: bool,
    base_dir: Path | None = None,
) -> PlaySetup:
    """:func:`prepare_play` for :func:`realtime_envs`; the env renders ``rgb_array`` frames.

    ``first``: the person plays the first team (the env's first side's), else the other.

    Raises:
        ArenaError: a bad env, opponent or name, before anything is played.
    """
    from arena.rating import asymmetric
    from arena.registry import get_env

    spec = get_env(env_id)
    if env_id not in realtime_envs():
        raise ArenaError(
            f"{env_id} is not played in real time (real-time envs: {', '.join(realtime_envs())})"
        )
    spec.require()
    check_name(name, engine)
    theirs = spec.teams[1 if first else 0]
    roles = tuple(dict.fromkeys(side.role for side in spec.sides if side.team == theirs))
    if asymmetric((side.role, side.team) for side in spec.sides):
        roles = spec.roles  # a duplicate pair (play_series(pairs=True)): both sides in turn
    rival = _rival(opponent, env_id, roles, base_dir)
    person = AgentSource(info=human_info(name), envs=None, roles=None)
    env = spec.build(render_mode="rgb_array")
    return PlaySetup(spec=spec.for_env(env), env=env, person=person, rival=rival)


@dataclass
class GameStart:
    """What the person is told as a game begins."""

    game: int  # 1-based
    seat: str  # the person's seat
    first: bool  # the person moves first


def play_series(
    setup: PlaySetup,
    person_host: Host,
    engine: Engine,
    *,
    tell: Tell,
    games: int = 1,
    seat: SeatChoice = "first",
    seed: int,
    limits: Limits,
    before_game: Callable[[GameStart], None] | None = None,
    after_game: Callable[[GameRecord, MatchResult], bool],
    pairs: bool = False,
) -> list[GameRecord]:
    """The one game loop of a person against an opponent (terminal and web alike).

    The person's seat is served by ``person_host``; the opponent runs where its
    trust puts it (the sandbox for a package), loaded before any game. Each
    game is stored and rated as it ends, then ``after_game`` says whether to
    play on. An exception from ``person_host`` other than :class:`AgentFault`
    ends the series without recording the game in progress.

    ``pairs``: games come in duplicate pairs, the second of each on the first's
    seed with the person on the other side (``seat`` says where the first one
    starts): role-asymmetric envs are rated by such pairs only.

    Raises:
        ArenaError: the opponent's package fails to import.
    """
    from arena.series import game_seed
    from arena.storage.recorder import Recorder

    spec, person, rival = setup.spec, setup.person, setup.rival
    recorder = Recorder(engine)
    played: list[GameRecord] = []
    with HostPool(limits) as pool:
        pool.load(rival)  # a package that fails to import is an error, before any game
        pool.attach(person, person_host)
        pool.attach(rival, Announced(pool.host(rival), spec, setup.env, tell))
        for game in range(games):
            if pairs:
                first = (seat != "second") == (game % 2 == 0)
            else:
                first = seat == "first" or (seat == "alternate" and game % 2 == 0)
            sources = [person, rival] if first else [rival, person]
            human = 0 if first else 1
            if before_game is not None:
                before_game(GameStart(game + 1, spec.sides[human].seats[0], first))
            result = play_match(
                spec,
                sources,
                seed=game_seed(seed, game // 2 if pairs else game),
                limits=limits,
                env=setup.env,
                hosts=pool,
            )
            match_id = recorder.record(result)
            record = _record(result, human, game + 1, match_id)
            played.append(record)
            if not after_game(record, result):
                break
    return played


def play_human(
    env_id: str,
    opponent: str,
    *,
    ask: Ask,
    show: Show,
    name: str | None = None,
    games: int = 1,
    seat: SeatChoice = "first",
    seed: int | None = None,
    limits: Limits | None = None,
    db_url: str | None = None,
) -> PlayReport:
    """A person plays ``games`` games of ``env_id`` against ``opponent``; each is stored.

    Args:
        env_id: one of :func:`playable_envs`.
        opponent: built-in name, package path, or ``name[@version]`` from the registry.
        ask: reads one line of input after showing a prompt; None at the end of input.
        show: shows text to the person.
        name: the person's agent name (default: the login name).
        games: games to play, unless the person quits.
        seat: ``first`` or ``second`` to move, or ``alternate`` (first in game 1).
        seed: root seed of the games (default: a random one).
        limits: the opponent's limits (the person has none).
        db_url: the database; every game is committed as soon as it ends.

    Raises:
        ArenaError: a bad env, opponent, name or count, before anything is played.
    """
    from arena.storage import connect

    if games < 1:
        raise ArenaError(f"--games must be at least 1, got {games}")
    if seat not in ("first", "second", "alternate"):
        raise ArenaError(f"--seat must be first, second or alternate, got '{seat}'")
    engine = connect(db_url)
    setup = prepare_play(env_id, opponent, name if name is not None else default_name(), engine)
    spec, label = setup.spec, setup.rival.label
    report = PlayReport(env_id=env_id, name=setup.name, opponent=label)
    human_host = HumanHost(spec, setup.env, ask, show)

    def starting(start: GameStart) -> None:
        order = "first" if start.first else "second"
        show(f"game {start.game} of {games}: you ({setup.name}) are {start.seat}, moving {order}")

    def ended(record: GameRecord, result: MatchResult) -> bool:
        report.games.append(record)
        assert spec.render_text is not None
        show(spec.render_text(setup.env))
        show(_verdict(record, label, result))
        if human_host.pending and not human_host.quit and record.game < games:
            # Ctrl-C as the game ended (the opponent's last move): no more games.
            human_host.quit = human_host.interrupted = True
            show(f"interrupted: stopped after game {record.game} of {games}")
        if human_host.quit:
            report.quit, report.interrupted = True, human_host.interrupted
        return not human_host.quit

    with _sigint_to(human_host):
        play_series(
            setup,
            human_host,
            engine,
            tell=lambda seat, move: show(f"{label} ({seat}) plays {move}"),
            games=games,
            seat=seat,
            seed=secrets.randbits(31) if seed is None else seed,
            limits=limits or Limits(),
            before_game=starting,
            after_game=ended,
        )
    report.rating = _rating(engine, setup.person.info, env_id)
    return report


@contextlib.contextmanager
def _sigint_to(host: HumanHost) -> Iterator[None]:
    """Ctrl-C goes to ``host`` for the series (signals reach the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, host.on_sigint)
    try:
        yield
    finally:
        signal.signal(
            signal.SIGINT, previous if previous is not None else signal.default_int_handler
        )


def _verdict(record: GameRecord, opponent: str, result: MatchResult) -> str:
    what = {"win": "you won", "draw": "draw", "loss": "you lost"}[record.outcome]
    if record.forfeit:
        what += f" (you forfeited: {record.forfeit})"
    elif record.opponent_forfeit:
        error = next(s.error for s in result.seats if s.forfeit) or ""
        first_line = error.strip().splitlines()[-1] if error.strip() else ""
        what += f" ({opponent} forfeited: {record.opponent_forfeit}: {first_line})"
    return f"game {record.game}: {what}; stored as match {record.match_id}"

"""``arena agent check``: validate a package and play a smoke match on each env.

Like Kaggle's validation episode: a package that cannot finish a short match
against ``random`` is reported with its own traceback, and the last lines it
printed, before it enters anything. It takes a package folder or an archive of
one (what ``arena agent submit`` takes), unpacked by :mod:`arena.archives`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena.archives import is_archive, unpack_archive
from arena.errors import ArenaError
from arena.hosts import HostPool
from arena.registry import builtin_agents, get_env
from arena.runner import Limits, play_match
from arena.sources import AgentSource, builtin_source, package_source

SMOKE_STEPS = 2_000  # a smoke match need not finish a long Atari episode
OUTPUT_LINES = 20  # lines of what the agent printed shown when its smoke match fails


class SmokeFailure(ArenaError):
    """A smoke match the package forfeited; ``output`` is what it printed in it."""

    def __init__(self, message: str, *, detail: str | None, agent: str, output: str) -> None:
        super().__init__(message, detail=detail)
        self.agent, self.output = agent, output

    def output_tail(self, lines: int = OUTPUT_LINES) -> list[str]:
        """The last ``lines`` lines the agent printed, under a header; none if it printed none."""
        printed = self.output.rstrip("\n").split("\n") if self.output.strip() else []
        if not printed:
            return []
        shown = printed[-lines:]
        what = (
            f"{len(printed)}" if len(shown) == len(printed) else f"last {lines} of {len(printed)}"
        )
        header = f"agent '{self.agent}' printed in the smoke match ({what} lines):"
        return [header, *(f"  | {line}" for line in shown)]


@dataclass
class CheckReport:
    """What ``check_package`` verified."""

    name: str
    version: str
    content_hash: str
    envs_checked: list[str] = field(default_factory=list)
    envs_skipped: list[str] = field(default_factory=list)
    smoke: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "hash": self.content_hash,
            "envs_checked": self.envs_checked,
            "envs_skipped": self.envs_skipped,
            "smoke": self.smoke,
        }


def check_package(path: Path, *, env_id: str | None = None, seed: int = 0) -> CheckReport:
    """Validate the manifest, the requirements and the import, then play smoke matches.

    ``path`` is a package folder or an archive of one (``.zip``, ``.tar.gz``,
    ``.tgz``), unpacked as ``arena agent submit`` unpacks it; every error then
    names the archive. For every declared env (or just ``env_id``) and every
    side whose role the package can fill, it plays one match against ``random``
    in the other sides.

    Raises:
        ArenaError: the first failure, with the agent's traceback in ``detail``;
            a forfeited smoke match is a :class:`SmokeFailure`, with what the
            agent printed in it.
    """
    if path.is_file() and is_archive(path):
        folder = unpack_archive(path)  # its refusals name the archive and the member
        with _named_after(path, folder):
            return _check_folder(folder, env_id, seed)
    if not path.is_dir():
        raise ArenaError(f"{path}: not a package folder or a .zip / .tar.gz / .tgz archive")
    return _check_folder(path, env_id, seed)


def _check_folder(path: Path, env_id: str | None, seed: int) -> CheckReport:
    source = package_source(path)
    with HostPool(Limits()) as hosts:
        hosts.load(source)  # imported inside the sandbox, like every match
        return _smoke(source, env_id, seed, hosts)


@contextlib.contextmanager
def _named_after(archive: Path, folder: Path) -> Iterator[None]:
    """Errors name ``archive`` (``x.zip/agent.toml``), never the folder it was unpacked to."""

    def named(text: str) -> str:
        for unpacked in dict.fromkeys([str(folder.resolve()), str(folder)]):
            text = text.replace(unpacked, str(archive))
        return text

    try:
        yield
    except ArenaError as exc:
        message = named(str(exc))
        exc.args = (message if message.startswith(str(archive)) else f"{archive}: {message}",)
        exc.detail = named(exc.detail) if exc.detail else exc.detail
        raise


def _smoke(source: AgentSource, env_id: str | None, seed: int, hosts: HostPool) -> CheckReport:
    assert source.manifest is not None
    if env_id is not None and env_id not in source.manifest.envs:
        raise ArenaError(
            f"{source.manifest.path}: [agent].envs: does not declare '{env_id}' "
            f"(declared: {', '.join(source.manifest.envs)})"
        )
    report = CheckReport(source.info.name, source.info.version, source.info.content_hash)
    opponent = builtin_source(builtin_agents()["random"])
    for env in [env_id] if env_id else list(source.manifest.envs):
        spec = get_env(env)
        if spec.missing():
            report.envs_skipped.append(env)
            continue
        filled = False
        for side_index, side in enumerate(spec.sides):
            if not source.can_fill(side.role):
                continue
            filled = True
            sources = [opponent] * len(spec.sides)
            sources[side_index] = source
            result = play_match(
                spec, sources, seed=seed, limits=Limits(max_steps=SMOKE_STEPS), hosts=hosts
            )
            for seat in result.seats:
                if seat.forfeit and seat.side == side_index:
                    first_line = (seat.error or "").strip().splitlines()
                    summary = first_line[-1] if first_line else seat.forfeit
                    raise SmokeFailure(
                        f"agent '{source.label}' failed its smoke match on {env} as {side.role} "
                        f"(seat {seat.seat}): {seat.forfeit}: {summary}",
                        detail=seat.error,
                        agent=source.label,
                        output=result.outputs.get(result.labels[side_index], ""),
                    )
            report.smoke.append(
                {
                    "env": env,
                    "side": side_index,
                    "role": side.role,
                    "steps": result.steps,
                    "rank": result.side_ranks[side_index],
                }
            )
        if not filled:
            raise ArenaError(
                f"{source.manifest.path}: [agent].roles: fills no role of {env} "
                f"(its roles: {', '.join(spec.roles)})"
            )
        report.envs_checked.append(env)
    return report

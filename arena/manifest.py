"""Reading and validating ``agent.toml``, the manifest of an agent package.

Every error names the file and the key and says what was expected, because the
people who read them wrote their package without reading our code.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Literal, get_args

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from arena.config_check import Check, check_table, one_of
from arena.errors import ArenaError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

MANIFEST = "agent.toml"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
ENTRY_RE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
KINDS = (
    "tabular",
    "dqn",
    "maddpg",
    "sac",
    "policy-gradient",
    "search",
    "scripted",
    "human",
    "other",
)
ProtocolVersion = Literal[1]
PROTOCOLS = get_args(ProtocolVersion)
RUNNING_PYTHON = ".".join(map(str, sys.version_info[:3]))


def _is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def _is_specifier(text: str) -> bool:
    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        return False
    return True


def _is_requirement(text: str) -> bool:
    try:
        Requirement(text)
    except InvalidRequirement:
        return False
    return True


# The checks of the [agent] values, each in the words of AGENT_PROTOCOL.md.
GOOD_NAME = Check(
    lambda v: NAME_RE.fullmatch(v) is not None,
    says=lambda v: (
        f"{v!r} must match {NAME_RE.pattern} (lower-case letters, digits, '.', '_', '-')"
    ),
)
PEP_440 = Check(_is_version, says=lambda v: f"{v!r} is not a PEP 440 version (e.g. 1.0.0)")
GOOD_ENTRY = Check(
    lambda v: ENTRY_RE.fullmatch(v) is not None,
    says=lambda v: f"{v!r} must be 'module:callable' (e.g. 'negamax:make_agent')",
)
SOME_ENV = Check(bool, says=lambda _: "must name at least one env")
SPECIFIER = Check(_is_specifier, says=lambda v: f"{v!r} is not a version specifier")
ALLOWS_RUNNING_PYTHON = Check(
    lambda v: RUNNING_PYTHON in SpecifierSet(v),
    says=lambda v: f"{v!r} excludes the arena's Python {RUNNING_PYTHON}",
)
PEP_508 = Check(_is_requirement, says=lambda v: f"{v!r} is not a PEP 508 requirement")


@dataclass(frozen=True)
class AgentTable:
    """The ``[agent]`` table of ``agent.toml``: its keys, their types and their checks."""

    name: Annotated[str, GOOD_NAME]
    version: Annotated[str, PEP_440]
    entry: Annotated[str, GOOD_ENTRY]
    envs: Annotated[tuple[str, ...], SOME_ENV]
    kind: Annotated[str, one_of(KINDS)] = "other"
    learning_type: str = ""
    description: str = ""
    authors: tuple[str, ...] = ()
    roles: tuple[str, ...] | None = None  # None: every role
    python_requires: Annotated[str, SPECIFIER, ALLOWS_RUNNING_PYTHON] | None = None
    requires: tuple[Annotated[str, PEP_508], ...] = ()


AGENT_KEYS = tuple(f.name for f in fields(AgentTable))


@dataclass(frozen=True, kw_only=True)
class ManifestFile:
    """The whole of ``agent.toml``."""

    protocol: ProtocolVersion = 1
    agent: AgentTable


@dataclass(frozen=True)
class Manifest(AgentTable):
    """A validated ``agent.toml``: its ``[agent]`` table, where it was read and its protocol."""

    path: Path = field(kw_only=True)
    protocol: int = field(default=1, kw_only=True)

    @property
    def module(self) -> str:
        return self.entry.split(":", 1)[0]

    @property
    def callable_name(self) -> str:
        return self.entry.split(":", 1)[1]


def load_manifest(package_dir: Path, *, known_envs: set[str] | None = None) -> Manifest:
    """Read and validate ``package_dir/agent.toml``.

    Args:
        package_dir: the unpacked package folder.
        known_envs: env ids the arena offers; ids in ``envs`` outside it are errors.

    Raises:
        ArenaError: one line naming the file and the key at fault.
    """
    path = package_dir / MANIFEST
    if not path.is_file():
        raise ArenaError(f"{package_dir}: no {MANIFEST} found (an agent package needs one)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ArenaError(f"{path}: not valid TOML: {exc}") from None
    checked = check_table(data, ManifestFile, path)
    agent = checked.agent
    if known_envs is not None:
        for env_id in agent.envs:
            if env_id not in known_envs:
                raise ArenaError(
                    f"{path}: [agent].envs: unknown env '{env_id}' (run 'arena envs' for the list)"
                )
    table = {f.name: getattr(agent, f.name) for f in fields(AgentTable)}
    return Manifest(path=path, protocol=checked.protocol, **table)


def check_requires(manifest: Manifest) -> None:
    """Check that every ``requires`` entry is installed in a matching version.

    The arena installs nothing: a missing dependency is the author's error.
    """
    from importlib.metadata import PackageNotFoundError, version

    for req_text in manifest.requires:
        req = Requirement(req_text)
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            installed = version(req.name)
        except PackageNotFoundError:
            raise ArenaError(
                f"{manifest.path}: [agent].requires: '{req.name}' is not installed in the arena "
                "(the arena installs nothing; ask the organiser)"
            ) from None
        if req.specifier and not req.specifier.contains(installed, prereleases=True):
            raise ArenaError(
                f"{manifest.path}: [agent].requires: '{req_text}' but the arena has "
                f"{req.name} {installed}"
            )

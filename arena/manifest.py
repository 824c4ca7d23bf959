"""Reading and validating ``agent.toml``, the manifest of an agent package.

Every error names the file and the key and says what was expected, because the
people who read them wrote their package without reading our code.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

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
PROTOCOLS = (1,)
TOP_KEYS = ("protocol", "agent")
# key -> (expected type description, required)
AGENT_KEYS: dict[str, tuple[str, bool]] = {
    "name": ("string", True),
    "version": ("string", True),
    "entry": ("string", True),
    "envs": ("list of strings", True),
    "kind": ("string", False),
    "learning_type": ("string", False),
    "description": ("string", False),
    "authors": ("list of strings", False),
    "roles": ("list of strings", False),
    "python_requires": ("string", False),
    "requires": ("list of strings", False),
}


@dataclass(frozen=True)
class Manifest:
    """A validated ``agent.toml``."""

    path: Path
    name: str
    version: str
    entry: str
    envs: tuple[str, ...]
    kind: str = "other"
    learning_type: str = ""
    description: str = ""
    authors: tuple[str, ...] = ()
    roles: tuple[str, ...] | None = None
    python_requires: str | None = None
    requires: tuple[str, ...] = ()
    protocol: int = 1

    @property
    def module(self) -> str:
        return self.entry.split(":", 1)[0]

    @property
    def callable_name(self) -> str:
        return self.entry.split(":", 1)[1]


def _check_type(path: Path, key: str, value: Any, expected: str) -> None:
    ok = (
        isinstance(value, str)
        if expected == "string"
        else isinstance(value, list) and all(isinstance(v, str) for v in value)
    )
    if not ok:
        raise ArenaError(
            f"{path}: [agent].{key}: expected a {expected}, got {type(value).__name__} {value!r}"
        )


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

    for key in data:
        if key not in TOP_KEYS:
            raise ArenaError(
                f"{path}: unknown key '{key}' (expected one of: {', '.join(TOP_KEYS)})"
            )
    protocol = data.get("protocol", 1)
    if type(protocol) is not int or protocol not in PROTOCOLS:
        raise ArenaError(f"{path}: protocol: expected one of {list(PROTOCOLS)}, got {protocol!r}")
    agent = data.get("agent")
    if not isinstance(agent, dict):
        raise ArenaError(f"{path}: missing [agent] table")
    for key in agent:
        if key not in AGENT_KEYS:
            raise ArenaError(
                f"{path}: [agent].{key}: unknown key (expected one of: {', '.join(AGENT_KEYS)})"
            )
    for key, (expected, required) in AGENT_KEYS.items():
        if key not in agent:
            if required:
                raise ArenaError(f"{path}: [agent].{key}: missing required key ({expected})")
            continue
        _check_type(path, key, agent[key], expected)

    name = agent["name"]
    if not NAME_RE.fullmatch(name):
        raise ArenaError(
            f"{path}: [agent].name: {name!r} must match {NAME_RE.pattern} "
            "(lower-case letters, digits, '.', '_', '-')"
        )
    try:
        Version(agent["version"])
    except InvalidVersion:
        raise ArenaError(
            f"{path}: [agent].version: {agent['version']!r} is not a PEP 440 version (e.g. 1.0.0)"
        ) from None
    if not ENTRY_RE.fullmatch(agent["entry"]):
        raise ArenaError(
            f"{path}: [agent].entry: {agent['entry']!r} must be 'module:callable' "
            "(e.g. 'negamax:make_agent')"
        )
    envs = tuple(agent["envs"])
    if not envs:
        raise ArenaError(f"{path}: [agent].envs: must name at least one env")
    if known_envs is not None:
        for env_id in envs:
            if env_id not in known_envs:
                raise ArenaError(
                    f"{path}: [agent].envs: unknown env '{env_id}' (run 'arena envs' for the list)"
                )
    kind = agent.get("kind", "other")
    if kind not in KINDS:
        raise ArenaError(f"{path}: [agent].kind: {kind!r} is not one of: {', '.join(KINDS)}")
    python_requires = agent.get("python_requires")
    if python_requires is not None:
        try:
            spec = SpecifierSet(python_requires)
        except InvalidSpecifier:
            raise ArenaError(
                f"{path}: [agent].python_requires: {python_requires!r} is not a version specifier"
            ) from None
        running = ".".join(map(str, sys.version_info[:3]))
        if running not in spec:
            raise ArenaError(
                f"{path}: [agent].python_requires: {python_requires!r} excludes the arena's "
                f"Python {running}"
            )
    for req in agent.get("requires", []):
        try:
            Requirement(req)
        except InvalidRequirement:
            raise ArenaError(
                f"{path}: [agent].requires: {req!r} is not a PEP 508 requirement"
            ) from None
    roles = agent.get("roles")
    return Manifest(
        path=path,
        name=name,
        version=agent["version"],
        entry=agent["entry"],
        envs=envs,
        kind=kind,
        learning_type=agent.get("learning_type", ""),
        description=agent.get("description", ""),
        authors=tuple(agent.get("authors", [])),
        roles=tuple(roles) if roles is not None else None,
        python_requires=python_requires,
        requires=tuple(agent.get("requires", [])),
        protocol=protocol,
    )


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

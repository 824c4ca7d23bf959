"""Where an agent comes from: a built-in, a package folder, or the registry.

``resolve_agent("random")``, ``resolve_agent("./my-agent")`` and
``resolve_agent("c4-dqn@1.2.0")`` all return an :class:`AgentSource`, which can
say what it supports and build one agent instance per seat.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from arena import __version__, package_store
from arena.archives import is_archive, unpack_archive
from arena.errors import ArenaError
from arena.home import content_hash, package_entries
from arena.manifest import MANIFEST, Manifest, check_requires, load_manifest
from arena.protocol import AgentContext
from arena.registry import BuiltinAgent, builtin_agents, env_specs
from arena.result import AgentInfo

OUTPUT_LIMIT = 64 * 1024  # characters of an agent's printed output kept with a match


class BoundedOutput(io.StringIO):
    """A text sink for an agent's prints that keeps only the first ``OUTPUT_LIMIT``."""

    def write(self, s: str) -> int:
        room = OUTPUT_LIMIT - self.tell()
        if room > 0:
            super().write(s[:room])
        return len(s)


class AgentLoadError(Exception):
    """The package's own code failed while loading (import or missing callable)."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


@dataclass
class AgentSource:
    """One agent version, ready to build instances for the seats it fills."""

    info: AgentInfo
    envs: tuple[str, ...] | None
    roles: tuple[str, ...] | None
    builtin: BuiltinAgent | None = None
    manifest: Manifest | None = None
    package_dir: Path | None = None
    import_output: str = ""
    _factory: Callable[[AgentContext], Any] | None = field(default=None, repr=False)
    _modules: dict[str, ModuleType] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        return self.info.name

    def supports(self, env_id: str) -> bool:
        return self.envs is None or env_id in self.envs

    def can_fill(self, role: str) -> bool:
        return self.roles is None or role in self.roles

    def factory(self) -> Callable[[AgentContext], Any]:
        """Return ``make_agent``, importing the package's entry point on first use.

        What the package prints while importing is kept in ``import_output``.

        Raises:
            AgentLoadError: the module failed to import or lacks the callable;
                ``detail`` holds the package's traceback.
        """
        if self._factory is None:
            if self.builtin is not None:
                self._factory = self.builtin.factory
            else:
                assert self.manifest is not None and self.package_dir is not None
                sink = BoundedOutput()
                try:
                    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                        self._factory, self._modules = _import_entry(
                            self.manifest, self.package_dir
                        )
                finally:
                    self.import_output = sink.getvalue()
        return self._factory

    @contextlib.contextmanager
    def activated(self) -> Iterator[None]:
        """Make the package importable for the length of a call into its code.

        Its folder goes first on ``sys.path`` and its own modules back into
        ``sys.modules``, so ``make_agent`` can unpickle its classes or import a
        sibling lazily; afterwards both are restored, so packages that ship
        modules with the same names do not see each other's.
        """
        if self.package_dir is None:
            yield
            return
        folder = str(self.package_dir.resolve())
        shadowed = {name: sys.modules.get(name) for name in self._modules}
        sys.modules.update(self._modules)
        sys.path.insert(0, folder)
        before = set(sys.modules)
        try:
            yield
        finally:
            with contextlib.suppress(ValueError):
                sys.path.remove(folder)
            for name in set(sys.modules) - before:
                if _is_inside(sys.modules[name], folder):
                    self._modules[name] = sys.modules.pop(name)
            for name, module in shadowed.items():
                if module is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = module


def _is_inside(module: ModuleType, folder: str) -> bool:
    file = getattr(module, "__file__", None) or ""
    return file.startswith(folder + os.sep)


def _import_entry(
    manifest: Manifest, package_dir: Path
) -> tuple[Callable[[AgentContext], Any], dict[str, ModuleType]]:
    """Import ``entry`` with the package folder first on ``sys.path``.

    Modules loaded from the package are taken out of ``sys.modules`` afterwards
    and returned, so that two packages that both ship ``agent.py`` can play in one
    process; :meth:`AgentSource.activated` puts them back during calls.
    """
    folder = str(package_dir.resolve())
    before = set(sys.modules)
    sys.path.insert(0, folder)
    importlib.invalidate_caches()
    modules: dict[str, ModuleType] = {}
    try:
        module = importlib.import_module(manifest.module)
        factory = getattr(module, manifest.callable_name, None)
    except BaseException as exc:  # the package's code may raise anything, even SystemExit
        detail = traceback.format_exc()
        raise AgentLoadError(
            f"importing '{manifest.module}' failed: {type(exc).__name__}: {exc}", detail
        ) from None
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)
        for name in set(sys.modules) - before:
            if _is_inside(sys.modules[name], folder):
                modules[name] = sys.modules.pop(name)
    if not callable(factory):
        raise AgentLoadError(
            f"module '{manifest.module}' has no callable '{manifest.callable_name}'",
            f"{manifest.path}: entry = {manifest.entry!r}",
        )
    return factory, modules


def builtin_source(agent: BuiltinAgent) -> AgentSource:
    info = AgentInfo(
        name=agent.name,
        version=__version__,
        content_hash=f"builtin:{agent.name}@{__version__}",
        kind=agent.kind,
        learning_type=agent.learning_type,
        source="builtin",
    )
    return AgentSource(info=info, envs=agent.envs, roles=None, builtin=agent)


def package_source(package_dir: Path, *, source: str = "path") -> AgentSource:
    """Load a package folder's manifest (not its code) into an :class:`AgentSource`.

    Raises:
        ArenaError: a fifo, device, socket or a link out of the folder (named,
            nothing opened), or an invalid manifest.
    """
    package_dir = package_dir.resolve()  # sandboxed workers start elsewhere
    entries = package_entries(package_dir)  # fifos and links out refused before any read
    manifest = load_manifest(package_dir, known_envs=set(env_specs()))
    check_requires(manifest)
    info = AgentInfo(
        name=manifest.name,
        version=manifest.version,
        content_hash=content_hash(package_dir, entries),
        kind=manifest.kind,
        learning_type=manifest.learning_type,
        source=source,
        path=str(package_dir.resolve()),
    )
    return AgentSource(
        info=info,
        envs=manifest.envs,
        roles=manifest.roles,
        manifest=manifest,
        package_dir=package_dir,
    )


def resolve_agent(spec: str, *, base_dir: Path | None = None) -> AgentSource:
    """Turn what a user typed into an agent source.

    Order: a built-in name; then a path (relative to ``base_dir``, else the
    current folder) holding ``agent.toml``, or a ``.zip`` / ``.tar.gz`` / ``.tgz``
    of one (unpacked into ``$ARENA_HOME/cache``); then ``name@version`` or
    ``name`` (newest version) in the registry under ``$ARENA_HOME/packages``,
    versions compared under PEP 440 (``name@1.0`` finds a stored ``1.0.0``; see
    :func:`arena.package_store.find`).

    Raises:
        ArenaError: nothing matched, the package's manifest is invalid, an
            archive is unsafe or too big, or ``@version`` is not a PEP 440 version.
    """
    builtins = builtin_agents()
    if spec in builtins:
        return builtin_source(builtins[spec])
    path = Path(spec).expanduser()
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    if path.is_dir():
        return package_source(path)
    if path.is_file():
        if path.name == MANIFEST:
            return package_source(path.parent)
        if is_archive(path):
            return package_source(unpack_archive(path))
        raise ArenaError(
            f"agent '{spec}': {path} is a file; pass the package folder that holds {MANIFEST}"
        )
    name, _, version = spec.partition("@")
    if "/" not in spec and name:
        stored = package_store.find(name, version or None)
        if stored is not None:
            return package_source(stored, source="registry")
    known = ", ".join(sorted(builtins))
    raise ArenaError(
        f"unknown agent '{spec}': not a built-in ({known}), a package folder, "
        "or a submitted name[@version]"
    )

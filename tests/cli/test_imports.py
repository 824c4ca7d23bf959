"""The CLI stays light: neither ``arena --help`` nor a random-vs-random match imports torch.

Each check runs the CLI (``arena.cli.app``) in a fresh interpreter under a watch:
a meta-path finder placed first on ``sys.meta_path`` records every lookup of
``torch`` and then steps aside (it never loads anything). A lookup made through
``importlib.util.find_spec`` is an availability probe, which is allowed; any
other lookup is an ``import torch`` statement, which fails the test whether or
not torch is installed (a ``try: import torch`` would otherwise pass unnoticed
where torch is missing). The child also reports ``'torch' in sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

# Installed before anything else runs in the child.
WATCH = r"""
import json, sys

class _TorchWatch:
    imports, probes = [], []

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            frame, probe = sys._getframe(1), False
            while frame is not None:
                if (
                    frame.f_code.co_name == "find_spec"
                    and frame.f_globals.get("__name__") == "importlib.util"
                ):
                    probe = True
                    break
                frame = frame.f_back
            (cls.probes if probe else cls.imports).append(name)
        return None

sys.meta_path.insert(0, _TorchWatch)
"""

# Runs the CLI with the JSON argument list in argv[1], then reports on stderr.
RUN_CLI = r"""
from arena.cli import app

code = 0
try:
    code = app(json.loads(sys.argv[1]), standalone_mode=False)
except SystemExit as exc:
    code = exc.code
report = {
    "exit": code,
    "in_modules": "torch" in sys.modules,
    "imports": sorted(set(_TorchWatch.imports)),
    "probes": sorted(set(_TorchWatch.probes)),
}
print("@@torch-watch " + json.dumps(report), file=sys.stderr)
"""

MARK = "@@torch-watch "


def run_watched(args: list[str], home: Path, *, before_cli: str = "") -> tuple[dict[str, Any], str]:
    """Run ``arena ARGS`` in a child with the torch watch; return its report and stdout.

    ``before_cli`` is code run between installing the watch and importing the CLI
    (used to check the watch itself).
    """
    env = {**os.environ, "ARENA_HOME": str(home)}
    env.pop("ARENA_DB", None)
    proc = subprocess.run(
        [sys.executable, "-c", WATCH + before_cli + RUN_CLI, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=home,
        timeout=120,
    )
    lines = [line for line in proc.stderr.splitlines() if line.startswith(MARK)]
    assert proc.returncode == 0 and lines, f"the child failed:\n{proc.stderr}"
    return json.loads(lines[-1].removeprefix(MARK)), proc.stdout


def assert_no_torch(report: dict[str, Any], what: str) -> None:
    """Fail with a message naming the command if torch was imported or attempted."""
    assert report["imports"] == [], f"{what} tried to import {report['imports']}"
    assert report["in_modules"] is False, f"{what} left torch in sys.modules"


def test_help_does_not_import_torch(tmp_path: Path) -> None:
    report, out = run_watched(["--help"], tmp_path)
    assert report["exit"] == 0
    assert "match" in out  # the help was printed, so the whole CLI was built
    assert_no_torch(report, "arena --help")


def test_random_match_does_not_import_torch(tmp_path: Path) -> None:
    args = ["match", "connect_four_v3", "random", "random", "--games", "2", "--json"]
    report, out = run_watched(args, tmp_path)
    assert report["exit"] in (0, None)  # a command that returns normally gives None
    summary = json.loads(out)
    # Both games were played and stored in $ARENA_HOME, so storage and rating ran too.
    assert summary["games"] == 2
    assert len(summary["match_ids"]) == 2
    assert (tmp_path / "arena.db").is_file()
    assert_no_torch(report, "arena match connect_four_v3 random random")


def test_watch_catches_an_import_and_allows_a_probe(tmp_path: Path) -> None:
    """The watch itself: a guarded ``import torch`` is caught, a ``find_spec`` probe is not."""
    attempt = (
        "import importlib.util\n"
        "importlib.util.find_spec('torch')\n"
        # Behind the watch, a finder that refuses torch: fast even where it is installed.
        "class _Refuse:\n"
        "    @staticmethod\n"
        "    def find_spec(name, path=None, target=None):\n"
        "        if name == 'torch':\n"
        "            raise ModuleNotFoundError('refused by the test', name=name)\n"
        "sys.meta_path.insert(1, _Refuse)\n"
        "try:\n"
        "    import torch\n"
        "except ImportError:\n"
        "    pass\n"
    )
    report, _ = run_watched(["--help"], tmp_path, before_cli=attempt)
    assert report["imports"] == ["torch"]
    assert report["probes"] == ["torch"]

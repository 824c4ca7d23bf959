"""``bench/RESULTS.md``: every benchmark keeps its own marked sections there.

A section runs from ``<!-- NAME: KEY -->`` to ``<!-- /NAME -->`` (KEY says the
machine and the workload); rewriting one leaves every other section alone.
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(name: str, key: str, body: str, path: Path = RESULTS) -> None:
    """Insert or refresh section ``name: key`` (re-reading the file first)."""
    start, end = f"<!-- {name}: {key} -->", f"<!-- /{name} -->"
    section = f"{start}\n## {name}: {key}\n\n{body.strip()}\n{end}\n"
    text = path.read_text() if path.exists() else "# Benchmark results\n\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text, count=1)
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text)


def cpu_name() -> str:
    """The CPU's model name and the core count, for a section's machine line."""
    name = platform.processor() or "CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} cores"


def torch_version() -> str:
    import torch

    return str(torch.__version__)

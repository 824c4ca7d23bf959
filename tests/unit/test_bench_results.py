"""bench/results.py: one benchmark's section is replaced, the others are left alone."""

from __future__ import annotations

import importlib.util
from pathlib import Path

# Loaded by path: bench/ is a folder of scripts, not a package.
_spec = importlib.util.spec_from_file_location(
    "bench_results", Path(__file__).resolve().parents[2] / "bench" / "results.py"
)
assert _spec is not None and _spec.loader is not None
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
write_section = _module.write_section


def test_write_section_inserts_then_replaces_only_its_own(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results\n\n<!-- other: x -->\nkeep me\n<!-- /other -->\n")
    write_section("speed", "cpu A", "first", path)
    write_section("speed", "cpu B", "second", path)
    write_section("speed", "cpu A", "third", path)
    text = path.read_text()
    assert "keep me" in text and "first" not in text
    assert text.count("<!-- speed: cpu A -->") == 1
    assert "<!-- speed: cpu A -->\n## speed: cpu A\n\nthird\n<!-- /speed -->" in text
    assert "<!-- speed: cpu B -->\n## speed: cpu B\n\nsecond\n<!-- /speed -->" in text

"""The sandbox's note about missing protections: one short line per process, the
reasons only under ``arena -v``."""

from __future__ import annotations

import pytest

from arena.sandbox import isolation


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolation, "_said", set())
    monkeypatch.setattr(isolation, "detail", False)


MISSING = (
    "a root of its own and namespaces: setpriv is not installed",
    "per-sandbox memory, CPU and freezing: no cgroups; RLIMIT_AS applies instead",
)


def test_one_short_line_once_per_process(capsys: pytest.CaptureFixture[str]) -> None:
    isolation.say_missing(MISSING)
    isolation.say_missing(MISSING)
    assert capsys.readouterr().err == (
        "sandbox: not applied here: a root of its own and namespaces; per-sandbox memory, "
        "CPU and freezing (-v says why; docs/sandbox.md)\n"
    )


def test_a_protection_found_missing_later_is_named_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    isolation.say_missing(MISSING[:1])
    isolation.say_missing(["unix-socket filter: seccomp unavailable", *MISSING[:1]])
    assert capsys.readouterr().err.splitlines() == [
        "sandbox: not applied here: a root of its own and namespaces (-v says why; "
        "docs/sandbox.md)",
        "sandbox: not applied here: unix-socket filter (-v says why; docs/sandbox.md)",
    ]


def test_verbose_gives_the_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    isolation.detail = True
    isolation.say_missing(MISSING)
    assert capsys.readouterr().err.splitlines() == [f"sandbox: not applied: {m}" for m in MISSING]


def test_nothing_missing_says_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    isolation.say_missing(())
    assert capsys.readouterr().err == ""

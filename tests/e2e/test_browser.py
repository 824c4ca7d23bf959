"""A person's browser against a real ``arena serve``: the home page's leaderboards, signing
in and uploading through the form until the agent is accepted and on the live leaderboard,
a game of tic-tac-toe by clicking, and a replay stepped with its buttons.

One server per database (fixture ``e2e_site``); every wait has a deadline (Playwright's
``expect`` timeouts), none is a sleep.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import E2ESite, sign_in
from tests.e2e.live_server import package_archive

expect: Any
try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips with the reason
    expect = None

pytestmark = pytest.mark.e2e

#: The sandboxed check of an upload, and a tournament's matches, on 2 shared cores.
WORK_TIMEOUT_MS = 120_000


def _board_of(page: Any, env: str) -> Any:
    return page.locator("section.env").filter(has=page.locator("h2", has_text=env))


def test_home_page_shows_every_envs_leaderboard(page: Any, e2e_site: E2ESite) -> None:
    page.goto("/")
    expect(page).to_have_title("Leaderboards · arena")
    assert page.locator("section.env h2").all_inner_texts() == ["connect_four_v3", "tictactoe_v3"]
    for env in ("connect_four_v3", "tictactoe_v3"):
        rows = _board_of(page, env).locator("table.board tbody tr")
        expect(rows).to_have_count(2)
        agents = sorted(rows.locator("td:nth-child(2)").all_inner_texts())
        assert [a.split()[0] for a in agents] == ["one-ply", "random"]


def test_an_upload_through_the_form_is_accepted_and_reaches_the_live_leaderboard(
    page: Any, e2e_site: E2ESite, tmp_path: Path
) -> None:
    archive = package_archive(tmp_path, "e2e-ttt")
    sign_in(page, e2e_site.tokens["ada"])
    expect(page.locator("header .who")).to_have_text("ada")

    page.set_input_files("input[name=package]", str(archive))
    page.click("form.upload button[type=submit]")
    page.wait_for_url(re.compile(r"/submit\?sent=\d+$"))
    sent = page.locator("tr.sent")
    expect(sent.locator("td").nth(1)).to_have_text("e2e-ttt-1.0.0.tar.gz")
    # The worker checks it in the sandbox; the live page swaps the row's status in.
    status = sent.locator("td").nth(3)
    expect(status).not_to_have_text("checking", timeout=WORK_TIMEOUT_MS)
    assert status.inner_text() == "accepted", sent.inner_text()
    expect(sent.locator("td").nth(2)).to_have_text("e2e-ttt 1.0.0")

    # The home page is open (its event stream connected) before the agent plays.
    with page.expect_request("**/api/events"):
        page.goto("/")
    expect(_board_of(page, "tictactoe_v3")).not_to_contain_text("e2e-ttt")
    toml = (
        '[tournament]\nname = "e2e-class"\nenv = "tictactoe_v3"\ngames_per_pairing = 2\n'
        '[[entrants]]\nagent = "e2e-ttt@1.0.0"\n[[entrants]]\nagent = "random"\n'
    )
    queued = httpx.post(
        f"{e2e_site.url}/api/tournaments", content=toml, headers=e2e_site.auth("prof")
    )
    assert queued.status_code == 202, queued.text
    row = _board_of(page, "tictactoe_v3").locator("tbody tr", has_text="e2e-ttt")
    expect(row).to_have_count(1, timeout=WORK_TIMEOUT_MS)
    expect(row.locator("a")).to_have_attribute("href", "/agents/e2e-ttt")


def _play_until_done(page: Any, deadline_s: float = 60.0) -> str:
    """Click the first legal cell until ``#result`` shows; the result's text."""
    result = page.locator("#result")
    legal = page.locator("#board [data-action].legal")
    deadline = time.monotonic() + deadline_s
    while not result.is_visible():
        assert time.monotonic() < deadline, "the game did not end"
        # Wait for our turn (legal cells) or the end, whichever comes first.
        page.locator("#board [data-action].legal, #result").first.wait_for(timeout=30_000)
        if result.is_visible():
            break
        before = legal.count()
        legal.first.click()
        # The move is in once the board changed (fewer legal cells, or the end).
        page.wait_for_function(
            "([n]) => document.querySelector('#result') && "
            "document.querySelector('#result').offsetParent !== null || "
            "document.querySelectorAll('#board [data-action].legal').length !== n",
            arg=[before],
            timeout=30_000,
        )
    return result.inner_text()


def test_a_person_plays_tictactoe_by_clicking_and_the_game_is_rated(
    page: Any, e2e_site: E2ESite
) -> None:
    sign_in(page, e2e_site.tokens["ada"])
    shown = page.goto("/play/tictactoe_v3")
    assert shown is not None and shown.status == 200
    page.select_option("select[name=opponent]", "random")
    page.click("#start")
    expect(page.locator("#board [data-action].legal").first).to_be_visible()
    text = _play_until_done(page)
    assert re.search(r"\b(win|loss|draw)\b", text), text
    board = httpx.get(f"{e2e_site.url}/api/leaderboard?env=tictactoe_v3").json()
    people = [r for r in board if r["kind"] == "human"]
    assert [(r["agent"], r["games"]) for r in people] == [("ada", 1)]


def _replay_frames(e2e_site: E2ESite) -> int:
    data = httpx.get(f"{e2e_site.url}/api/matches/{e2e_site.ttt_match}").json()
    return len(data["frames"]) - 1


def test_a_replay_steps_with_its_buttons(page: Any, e2e_site: E2ESite) -> None:
    last = _replay_frames(e2e_site)
    assert last >= 5  # a tic-tac-toe game has at least five moves
    page.goto(f"/matches/{e2e_site.ttt_match}")
    where = page.locator("#replay .where")
    expect(where).to_have_text(re.compile(rf"^\D*\b0\D+\b{last}\D*$"))
    page.click("#replay button[data-step=next]")
    expect(where).to_have_text(re.compile(rf"^\D*\b1\D+\b{last}\D*$"))
    page.click("#replay button[data-step=last]")
    expect(where).to_have_text(re.compile(rf"^\D*\b{last}\D+\b{last}\D*$"))
    page.click("#replay button[data-step=prev]")
    expect(where).to_have_text(re.compile(rf"^\D*\b{last - 1}\D+\b{last}\D*$"))


def test_a_replay_draws_the_board_as_svg_and_redraws_it_each_step(
    page: Any, e2e_site: E2ESite
) -> None:
    page.goto(f"/matches/{e2e_site.ttt_match}")
    svg = page.locator("#replay svg.board")
    expect(svg).to_be_visible()
    empty = svg.inner_html()
    page.click("#replay button[data-step=next]")
    expect(page.locator("#replay .where")).to_have_text(re.compile(r"^\D*\b1\D"))
    assert svg.inner_html() != empty  # the first mark is drawn
    page.click("#replay button[data-step=prev]")
    expect(page.locator("#replay .where")).to_have_text(re.compile(r"^\D*\b0\D"))
    assert svg.inner_html() == empty

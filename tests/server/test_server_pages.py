"""The pages: escaped names everywhere, leaderboards and person vs machine, the replay
viewer's frames, logs on a match page for its owner only, headers, 404s."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from sqlalchemy import select, update

from arena.storage import models as m
from arena.storage import session_factory
from arena.storage.accounts import AgentOwner, User
from tests.server.server_helpers import GOOD_C4, Site, record_match

HOSTILE = "<script>alert(1)</script>"


def _rename(site: Site, old: str, new: str) -> None:
    with session_factory(site.engine).begin() as session:
        session.execute(update(m.Agent).where(m.Agent.name == old).values(name=new))
        session.execute(update(m.Participant).where(m.Participant.label == old).values(label=new))


def test_an_agent_called_script_is_escaped_on_every_page(site: Site) -> None:
    match_id = record_match(site.engine, "connect_four_v3", ["one-ply", "random"])
    _rename(site, "random", HOSTILE)  # as if an older arena had stored such a name
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    pages = [
        "/",
        "/envs/connect_four_v3",
        f"/agents/{quote(HOSTILE, safe='')}",
        f"/matches/{match_id}",
    ]
    for page in pages:
        html = site.client.get(page)
        assert html.status_code == 200, page
        assert HOSTILE not in html.text, page
        assert escaped in html.text, page
    # Its link quotes the name in the URL, too.
    assert f'href="/agents/{quote(HOSTILE, safe="")}"' in site.client.get("/").text


def test_home_shows_each_envs_leaderboard_and_person_vs_machine(site: Site) -> None:
    for seed in range(2):
        record_match(site.engine, "connect_four_v3", ["one-ply", "random"], seed)
    html = site.client.get("/").text
    assert '<a href="/envs/connect_four_v3">connect_four_v3</a>' in html
    assert "Best person" not in html  # no person has played yet
    with session_factory(site.engine).begin() as session:
        session.execute(update(m.Agent).where(m.Agent.name == "random").values(kind="human"))
        session.execute(
            update(m.AgentVersion)
            .where(m.AgentVersion.agent_id == m.Agent.id, m.Agent.name == "random")
            .values(kind="human")
        )
    html = site.client.get("/").text
    assert "Best person" in html and "the machine leads" in html
    assert '<span class="tag">person</span>' in html
    # The Human vs AI table: one row per game, the person's and the machine's scores apart.
    table = html.split('<section class="versus-table">', 1)[1].split("</section>", 1)[0]
    row = table.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    cells = [c.split("</td>", 1)[0] for c in row.split("<td")[1:]]
    assert 'connect_four_v3</a>' in cells[0]
    assert "<small>random</small>" in cells[1]  # the best person, by name
    assert cells[3].endswith(">Machine")  # one-ply beat the person
    assert "one-ply" in cells[4]


def test_the_match_page_steps_through_the_text_frames(site: Site) -> None:
    match_id = record_match(site.engine, "tictactoe_v3", ["one-ply", "random"], seed=2)
    html = site.client.get(f"/matches/{match_id}").text
    found = re.search(
        r'<script type="application/json" id="replay-data">(.*?)</script>', html, re.S
    )
    assert found is not None
    frames = json.loads(found.group(1))
    api = site.client.get(f"/api/matches/{match_id}").json()
    assert frames == api["frames"]
    assert '<script src="/static/replay.js" defer></script>' in html
    assert 'data-step="next"' in html and 'type="range"' in html
    assert site.client.get("/static/replay.js").status_code == 200


def test_a_match_page_shows_logs_to_the_owner_only(site: Site) -> None:
    match_id = record_match(site.engine, "connect_four_v3", [str(GOOD_C4), "random"])
    with session_factory(site.engine).begin() as session:
        ada = session.scalar(select(User.id).where(User.name == "ada"))
        assert ada is not None
        session.add(AgentOwner(agent_name="good-c4", user_id=ada))
    assert "<h2>Logs</h2>" not in site.client.get(f"/matches/{match_id}").text

    def sign_in(user: str) -> None:
        page = site.client.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        site.client.post("/login", data={"csrf": csrf.group(1), "token": site.tokens[user]})

    sign_in("bob")
    assert "<h2>Logs</h2>" not in site.client.get(f"/matches/{match_id}").text
    sign_in("ada")
    html = site.client.get(f"/matches/{match_id}").text
    assert "<h2>Logs</h2>" in html and "plays" in html


def test_security_headers_and_404s(site: Site) -> None:
    home = site.client.get("/")
    assert home.headers["content-security-policy"].startswith(
        "default-src 'self'; script-src 'self'"
    )
    assert home.headers["x-frame-options"] == "DENY"
    assert home.headers["x-content-type-options"] == "nosniff"
    for page, text in (
        ("/envs/nope_v1", "unknown env &#39;nope_v1&#39;"),
        ("/agents/nobody", "no agent &#39;nobody&#39;"),
        ("/matches/99", "no match with id 99 in the database"),
        ("/no/such/page", "Not Found"),
    ):
        answer = site.client.get(page)
        assert answer.status_code == 404, page
        assert text in answer.text, page
    assert site.client.get("/api/nope").json() == {"detail": "Not Found"}
    assert site.client.get("/docs").status_code == 404  # no CDN-loading docs page

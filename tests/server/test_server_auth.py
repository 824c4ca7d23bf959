"""Users and tokens (``arena user ...``), revocation, browser sign-in, cookies and CSRF."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from arena.cli import app as cli
from arena.storage import connect, session_factory
from arena.storage.accounts import Submission, User, WebSession
from tests.server.server_helpers import Site, make_site, package_copy, tar_gz

runner = CliRunner()


def arena(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["--db", db_url, *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_token_is_printed_once_and_only_its_hash_is_stored(tmp_path: Path) -> None:
    db = tmp_path / "arena.db"
    url = f"sqlite:///{db}"
    code, out, err = arena(url, "user", "add", "ada")
    assert code == 0
    token = out.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 32 random bytes, URL-safe
    assert err == (
        "added participant 'ada': the token above is shown once and stored hashed; "
        "'arena user token ada' issues a new one\n"
    )
    code, out, _ = arena(url, "user", "add", "prof", "--organiser", "--json")
    assert code == 0 and json.loads(out)["organiser"] is True

    engine = connect(url)
    with session_factory(engine)() as session:
        ada = session.scalar(select(User).where(User.name == "ada"))
        assert ada is not None
        assert ada.token_hash == hashlib.sha256(token.encode()).hexdigest()
    engine.dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("arena.db*"))
    assert token.encode() not in raw

    code, out, _ = arena(url, "user", "list", "--json")
    assert code == 0 and token not in out
    assert [(u["name"], u["organiser"], u["revoked_at"]) for u in json.loads(out)] == [
        ("ada", False, None),
        ("prof", True, None),
    ]
    code, _, err = arena(url, "user", "add", "ada")
    assert (code, err) == (
        1,
        "error: user 'ada' already exists (arena user token ada gives it a new token)\n",
    )
    code, _, err = arena(url, "user", "add", "<b>")
    assert code == 1 and err.startswith("error: user name '<b>': use 1-48 letters")


def test_a_revoked_token_is_401_and_a_new_token_works(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    data = tar_gz(package_copy(tmp_path), top="c4")
    assert site.upload("ada", "c4.tar.gz", data).status_code == 202
    code, out, err = arena(site.db_url, "user", "revoke", "ada")
    assert (code, out) == (0, "revoked 'ada': the token no longer works\n")
    answer = site.upload("ada", "c4.tar.gz", data)
    assert answer.status_code == 401
    assert answer.json() == {"detail": "the token is unknown or revoked"}
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert site.submission("ada", 1).status_code == 401
    # Her waiting upload is refused rather than stored under a revoked user.
    site.work()
    assert site.submission("prof", 1).json()["reason"] == "its uploader's token was revoked"
    code, _, err = arena(site.db_url, "user", "revoke", "ada")
    assert (code, err) == (1, "error: user 'ada' is already revoked\n")

    code, out, _ = arena(site.db_url, "user", "token", "ada")
    assert code == 0
    site.tokens["ada"] = out.strip()
    assert site.upload("ada", "c4.tar.gz", data).status_code == 202
    no_scheme = site.client.get("/api/submissions/2", headers={"Authorization": "Basic x"})
    assert no_scheme.status_code == 401


def _login(site: Site, token: str) -> tuple[int, str]:
    """Sign in through the form; the response status and its Set-Cookie header."""
    page = site.client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    answer = site.client.post(
        "/login", data={"csrf": csrf.group(1), "token": token}, follow_redirects=False
    )
    return answer.status_code, answer.headers.get("set-cookie", "")


def _sessions(site: Site) -> int:
    with session_factory(site.engine)() as session:
        return session.scalar(select(func.count()).select_from(WebSession)) or 0


def test_sign_in_sets_an_httponly_strict_cookie_and_sign_out_needs_csrf(site: Site) -> None:
    status, cookie = _login(site, site.tokens["ada"])
    assert status == 303
    assert "arena_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert site.tokens["ada"] not in cookie  # the cookie holds a session key, not the token
    page = site.client.get("/submit")
    assert '<span class="who">ada</span>' in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None

    forged = site.client.post("/logout", data={"csrf": "guess"}, follow_redirects=False)
    assert forged.status_code == 403
    assert _sessions(site) == 1
    out = site.client.post("/logout", data={"csrf": csrf.group(1)}, follow_redirects=False)
    assert out.status_code == 303
    assert _sessions(site) == 0
    assert "Sign in" in site.client.get("/submit").text


def test_sign_in_without_its_csrf_token_or_with_a_bad_token_is_refused(site: Site) -> None:
    site.client.get("/login")
    answer = site.client.post(
        "/login", data={"csrf": "forged", "token": site.tokens["ada"]}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert "arena_session" not in answer.headers.get("set-cookie", "")
    status, cookie = _login(site, "wrong-token")
    assert status == 401 and "arena_session" not in cookie
    assert _sessions(site) == 0


def test_a_form_upload_without_the_csrf_token_is_refused(site: Site, tmp_path: Path) -> None:
    data = tar_gz(package_copy(tmp_path), top="c4")
    anonymous = site.client.post("/submit", files={"package": ("c4.tar.gz", data)})
    assert anonymous.status_code == 403
    _login(site, site.tokens["ada"])
    forged = site.client.post(
        "/submit", data={"csrf": "forged"}, files={"package": ("c4.tar.gz", data)}
    )
    assert forged.status_code == 403
    assert "the form expired or came from another site; reload it" in forged.text
    missing = site.client.post("/submit", files={"package": ("c4.tar.gz", data)})
    assert missing.status_code == 403
    with session_factory(site.engine)() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 0
    assert list(site.settings.uploads.iterdir()) == []

    page = site.client.get("/submit")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    sent = site.client.post(
        "/submit",
        data={"csrf": csrf.group(1)},
        files={"package": ("c4.tar.gz", data)},
        follow_redirects=False,
    )
    assert (sent.status_code, sent.headers["location"]) == (303, "/submit?sent=1")
    site.work()
    page = site.client.get("/submit?sent=1")
    assert '<td class="accepted">accepted</td>' in page.text


def test_a_cookie_never_authorises_a_state_changing_api_call(site: Site, tmp_path: Path) -> None:
    _login(site, site.tokens["ada"])
    data = tar_gz(package_copy(tmp_path), top="c4")
    answer = site.client.post("/api/agents", files={"package": ("c4.tar.gz", data)})
    assert answer.status_code == 401
    assert answer.json()["detail"] == "this call needs 'Authorization: Bearer TOKEN'"


@pytest.mark.parametrize(
    ("asked", "lands"),
    [
        ("/play/tictactoe_v3", "/play/tictactoe_v3"),
        (None, "/submit"),
        ("//evil.example/x", "/submit"),  # another host: an open redirect
        ("/\\evil.example", "/submit"),  # browsers read a backslash as a slash
        ("https://evil.example/", "/submit"),
        ("/ok\r\nSet-Cookie: x=1", "/submit"),  # no header splitting
    ],
)
def test_sign_in_goes_back_to_the_page_asked_for_and_never_off_the_site(
    site: Site, asked: str | None, lands: str
) -> None:
    query = {} if asked is None else {"next": asked}
    page = site.client.get("/login", params=query)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    back = re.search(r'name="next" value="([^"]*)"', page.text)
    assert csrf is not None and back is not None
    data = {"csrf": csrf.group(1), "token": site.tokens["ada"], "next": asked or ""}
    answer = site.client.post("/login", data=data, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, lands)


def test_the_play_page_sends_a_signed_out_visitor_to_sign_in_and_back(site: Site) -> None:
    answer = site.client.get("/play/connect_four_v3", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (
        303,
        "/login?next=/play/connect_four_v3",
    )

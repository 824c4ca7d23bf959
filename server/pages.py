"""The server-rendered pages: home, an env, an agent, a match's replay, upload, sign-in.

Templates are Jinja2 with autoescape on for every page, and every text that
agents or users control is also cleaned (:func:`arena.textsafe.clean_text`).
Forms that change state carry a CSRF token: the session's on ``/submit`` and
``/logout``, a double-submit cookie on ``/login`` (no session exists yet).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from arena.errors import ArenaError
from arena.registry import env_specs
from arena.textsafe import clean_text
from server.access import AppState, app_state, client_key, signed_in, visible_agents
from server.api import store_upload
from server.cache import cached_leaderboard
from server.draw_cache import Busy
from server.guards import RowId
from server.plots import agent_plots
from server.queries import agent_rows, match_list
from server.sessions import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    SignedIn,
    close_session,
    open_session,
    same_secret,
)
from server.submissions import user_submissions
from server.uploads import UploadError
from server.users import new_secret, user_by_token
from server.views import NotFound, match_detail, match_logs
from tournaments.leaderboard import LeaderboardRow
from tournaments.report.data import human_vs_ai_table

router = APIRouter()
TEMPLATES = Path(__file__).parent / "templates"
HOME_ROWS = 10
#: The events that refresh a live page (its <body data-live>; static/live.js).
LIVE_ALL = "match submission tournament"


def _number(value: float | None, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return ""
    return f"{value:.{digits}f}"


def make_templates() -> Environment:
    """Jinja2 with autoescape on for every template (``.html`` or not)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["clean"] = clean_text
    env.filters["num"] = _number
    # One path segment or query value: "/" quoted too (Jinja's urlencode keeps it).
    env.filters["q"] = lambda text: quote(str(text), safe="")
    return env


_templates = make_templates()


def render(
    request: Request,
    name: str,
    status: int = 200,
    *,
    session: SignedIn | None = None,
    **context: Any,
) -> HTMLResponse:
    html = _templates.get_template(name).render(
        request=request,
        user=None if session is None else session.user,
        csrf=None if session is None else session.csrf,
        **context,
    )
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status, session=signed_in(request), message=message)


def _by_env(rows: list[LeaderboardRow]) -> dict[str, list[LeaderboardRow]]:
    grouped: dict[str, list[LeaderboardRow]] = {}
    for row in rows:
        grouped.setdefault(row.env, []).append(row)
    return grouped


def _person_vs_machine(rows: list[LeaderboardRow]) -> dict[str, LeaderboardRow] | None:
    """The best person's and the best machine's rows of one env (ranked rows), if both exist."""
    person = next((r for r in rows if r.kind == "human"), None)
    machine = next((r for r in rows if r.kind != "human"), None)
    if person is None or machine is None:
        return None
    return {"person": person, "machine": machine}


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    state = app_state(request)
    boards = _by_env(cached_leaderboard(state.engine))
    envs = [
        {
            "env": env,
            "rows": rows[:HOME_ROWS],
            "more": max(0, len(rows) - HOME_ROWS),
            "versus": _person_vs_machine(rows),
        }
        for env, rows in sorted(boards.items())
    ]
    versus = human_vs_ai_table(state.engine, [r for rows in boards.values() for r in rows])
    return render(
        request,
        "home.html",
        session=signed_in(request),
        envs=envs,
        versus=[v for v in versus if v.top_human is not None or v.top_machine is not None],
        live=LIVE_ALL,
    )


@router.get("/envs/{env_id}", response_class=HTMLResponse)
def env_page(request: Request, env_id: str, role: str | None = None) -> HTMLResponse:
    state = app_state(request)
    spec = env_specs().get(env_id)
    if spec is None:
        return error_page(request, 404, f"unknown env '{env_id}'")
    try:
        rows = cached_leaderboard(state.engine, env_id=env_id, role=role)
    except ArenaError as exc:
        return error_page(request, 400, str(exc))
    roles = [] if spec.symmetric else list(spec.roles)
    return render(
        request,
        "env.html",
        session=signed_in(request),
        env=env_id,
        spec=spec,
        rows=rows,
        role=role,
        roles=roles,
        matches=match_list(state.engine, env_id=env_id, limit=50),
        live=LIVE_ALL,
    )


@router.get("/agents/{name:path}", response_class=HTMLResponse)
def agent_page(request: Request, name: str) -> HTMLResponse:
    state = app_state(request)
    found = agent_rows(state.engine, name)
    if not found:
        return error_page(request, 404, f"no agent '{name}'")
    ratings = [r for r in cached_leaderboard(state.engine) if r.agent == name]
    agent = found[0]
    return render(
        request,
        "agent.html",
        session=signed_in(request),
        agent=agent,
        ratings=ratings,
        plots=agent_plots(state.engine, agent),
        matches=match_list(state.engine, agent=name, limit=30),
    )


@router.get("/matches/{match_id}", response_class=HTMLResponse)
def match_page(request: Request, match_id: RowId) -> HTMLResponse:
    state = app_state(request)
    session = signed_in(request)
    user = None if session is None else session.user
    try:
        detail = match_detail(state.engine, match_id, user)
    except NotFound as exc:
        return error_page(request, 404, str(exc))
    except Busy as exc:
        return error_page(request, 503, str(exc))
    logs = None
    if visible_agents(state.engine, user, {p["agent"] for p in detail["players"]}):
        logs = match_logs(state.engine, match_id, user)
    return render(request, "match.html", session=session, match=detail, logs=logs)


@router.get("/submit", response_class=HTMLResponse)
def submit_page(request: Request, sent: int | None = None) -> HTMLResponse:
    session = signed_in(request)
    return _submit_form(request, session, sent=sent)


def _submit_form(
    request: Request,
    session: SignedIn | None,
    *,
    status: int = 200,
    error: str | None = None,
    sent: int | None = None,
) -> HTMLResponse:
    state = app_state(request)
    mine = [] if session is None else user_submissions(state.engine, session.user.id)
    return render(
        request,
        "submit.html",
        status,
        session=session,
        submissions=mine,
        error=error,
        sent=sent,
        limit_mb=state.settings.max_upload_bytes / (1024 * 1024),
        per_hour=state.settings.uploads_per_hour,
        live="submission" if session is not None else None,
    )


@router.post("/submit", response_class=HTMLResponse)
async def submit_post(request: Request) -> Response:
    session = await run_in_threadpool(signed_in, request)
    if session is None:
        return error_page(request, 403, "sign in first (/login)")
    # Browsers send fields in form order: the CSRF field comes before the file.
    try:
        view, _status = await store_upload(request, session.user, csrf=session.csrf)
    except UploadError as exc:
        return _submit_form(request, session, status=exc.status, error=exc.message)
    except HTTPException as exc:
        return _submit_form(request, session, status=exc.status_code, error=str(exc.detail))
    return RedirectResponse(f"/submit?sent={view.id}", status_code=303)


def _cookie_args(state: AppState) -> dict[str, Any]:
    return {"httponly": True, "samesite": "strict", "secure": state.settings.secure_cookies}


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return _login_form(request, back=local_path(next))


def local_path(target: object) -> str:
    """Where to go after signing in: a path on this site, else ``/submit``.

    Only ``/path`` is taken: ``//host``, ``/\\host`` and ``scheme:`` would leave
    the site (an open redirect a phishing link could use).
    """
    if (
        isinstance(target, str)
        and target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and all(c.isprintable() and not c.isspace() for c in target)
        and len(target) <= 512
    ):
        return target
    return "/submit"


def _login_form(
    request: Request, status: int = 200, error: str | None = None, back: str = "/submit"
) -> HTMLResponse:
    state = app_state(request)
    token = new_secret()
    response = render(request, "login.html", status, login_csrf=token, error=error, back=back)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, max_age=3600, path="/login", **_cookie_args(state)
    )
    return response


@router.post("/login", response_class=HTMLResponse)
async def login_post(request: Request) -> Response:
    state = app_state(request)
    form = await request.form(max_files=0, max_fields=4)
    back = local_path(form.get("next"))
    given = form.get("csrf")
    if not same_secret(
        given if isinstance(given, str) else None, request.cookies.get(LOGIN_CSRF_COOKIE)
    ):
        return _login_form(
            request, 403, "the form expired or came from another site; sign in again", back
        )
    if not state.login_limiter.allow(client_key(request)):
        return _login_form(request, 429, "too many sign-in attempts; wait a minute", back)
    token = form.get("token")
    user = None
    if isinstance(token, str):
        user = await run_in_threadpool(user_by_token, state.engine, token.strip())
    if user is None:
        return _login_form(request, 401, "that token is unknown or revoked", back)
    key, _csrf = await run_in_threadpool(
        open_session, state.engine, user.id, days=state.settings.session_days
    )
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(
        COOKIE,
        key,
        max_age=int(state.settings.session_days * 86400),
        path="/",
        **_cookie_args(state),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout_post(request: Request) -> Response:
    state = app_state(request)
    session = await run_in_threadpool(signed_in, request)
    form = await request.form(max_files=0, max_fields=4)
    given = form.get("csrf")
    if session is not None:
        if not same_secret(given if isinstance(given, str) else None, session.csrf):
            return error_page(request, 403, "the form expired or came from another site")
        await run_in_threadpool(close_session, state.engine, request.cookies.get(COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response

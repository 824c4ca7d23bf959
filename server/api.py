"""The JSON API (docs/server.md lists every call with curl)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from arena.catalogue import env_catalogue
from arena.errors import ArenaError
from server.access import app_state, client_key, require_bearer, viewer
from server.cache import cached_leaderboard
from server.draw_cache import Busy
from server.events import Cursor, events_since, start_cursor
from server.guards import RowId, SlotStream
from server.queries import match_list
from server.sessions import same_secret
from server.settings import MAX_TOURNAMENT_BYTES
from server.submissions import (
    Refused,
    SubmissionView,
    create_submission,
    get_submission,
    retry_after,
)
from server.tournament_queue import get_request, queue_tournament, requests, shown_to
from server.uploads import UploadError, discard, receive_package
from server.users import UserInfo
from server.views import (
    Forbidden,
    NotFound,
    agent_detail,
    agents_list,
    frame_png,
    match_detail,
    match_logs,
)

router = APIRouter(prefix="/api")
HEARTBEAT_S = 15.0
#: Retry-After of a stream refused over the cap, seconds.
STREAM_RETRY_S = 30


@router.get("/envs")
def envs() -> list[dict[str, Any]]:
    """Every env agents can play (``arena envs --json``)."""
    return env_catalogue()


@router.get("/leaderboard")
def leaderboard_rows(
    request: Request,
    env: str | None = None,
    tournament: str | None = None,
    role: str | None = None,
) -> list[dict[str, Any]]:
    """The rows of ``arena leaderboard --json`` (the same library function, kept while
    no match is recorded: server/cache.py)."""
    try:
        rows = cached_leaderboard(
            app_state(request).engine, env_id=env, tournament=tournament, role=role
        )
    except ArenaError as exc:
        raise HTTPException(400, str(exc)) from None
    return [r.to_dict() for r in rows]


async def store_upload(
    request: Request, user: UserInfo, *, csrf: str | None = None
) -> tuple[SubmissionView, int]:
    """Rate-limit and stream an upload of ``user``; store it as a submission.

    ``csrf``: the session's token, which a form post must carry (field ``csrf``).

    Returns:
        The submission and the HTTP status to answer with: 202, or 403 when the
        manifest names an agent that is not the user's.

    Raises:
        HTTPException: 429 over the rate limit (stored uploads, or attempts).
        UploadError: the upload itself is refused (size, name, form, CSRF).
    """
    state = app_state(request)
    wait = await run_in_threadpool(retry_after, state.engine, user, state.settings.uploads_per_hour)
    if wait is not None:
        raise HTTPException(
            429,
            f"at most {state.settings.uploads_per_hour} uploads an hour; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    # Refused uploads store nothing, so the count above never sees them.
    if not user.organiser and not state.upload_attempts.allow(str(user.id)):
        attempts = state.upload_attempts.count
        raise HTTPException(
            429,
            f"at most {attempts} upload attempts an hour, refused ones included; try again later",
            headers={"Retry-After": "3600"},
        )
    received = await receive_package(
        request.headers.get("content-type", ""),
        request.headers.get("content-length"),
        request.stream(),
        state.settings.uploads,
        limit=state.settings.max_upload_bytes,
    )
    if csrf is not None and not same_secret(received.fields.get("csrf"), csrf):
        discard(received)
        raise UploadError(403, "the form expired or came from another site; reload it")
    try:
        view = await run_in_threadpool(
            create_submission, state.engine, state.settings, user, received
        )
    except Refused as refused:
        return refused.submission, 403
    return view, 202


@router.post("/agents", status_code=202)
async def post_agent(request: Request) -> JSONResponse:
    """Upload a package (multipart field ``package``); the worker checks it."""
    user = await run_in_threadpool(require_bearer, request)
    try:
        view, status = await store_upload(request, user)
    except UploadError as exc:
        raise HTTPException(exc.status, exc.message) from None
    body: dict[str, Any] = {"submission": view.id, "status": view.status}
    if status == 403:
        body["detail"] = view.reason
    return JSONResponse(body, status_code=status)


@router.get("/submissions/{submission_id}")
def submission(request: Request, submission_id: RowId) -> dict[str, Any]:
    """A submission's status: for its uploader and the organisers (404 for anyone else)."""
    user = viewer(request)
    if user is None:
        raise HTTPException(401, "sign in: 'Authorization: Bearer TOKEN'")
    view = get_submission(app_state(request).engine, submission_id)
    if view is None or (view.user_id != user.id and not user.organiser):
        raise HTTPException(404, f"no submission {submission_id} of yours")
    return view.to_dict()


@router.get("/agents")
def agents(request: Request) -> list[dict[str, Any]]:
    return agents_list(app_state(request).engine)


@router.get("/agents/{name:path}")  # a name may hold "/" (stored by hand)
def agent(request: Request, name: str) -> dict[str, Any]:
    try:
        return agent_detail(app_state(request).engine, name)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/matches")
def matches(
    request: Request,
    env: str | None = None,
    agent: str | None = None,
    tournament: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """The newest matches first."""
    found = match_list(
        app_state(request).engine, env_id=env, agent=agent, tournament=tournament, limit=limit
    )
    return [x.to_dict() for x in found]


@router.get("/matches/{match_id}")
def match(request: Request, match_id: RowId) -> dict[str, Any]:
    try:
        return match_detail(app_state(request).engine, match_id, viewer(request))
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except Busy as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from None


@router.get("/matches/{match_id}/frames/{number}.png")
def match_frame(request: Request, match_id: RowId, number: RowId) -> Response:
    """The image of an MPE or Atari match after step ``number`` (0: the start)."""
    try:
        png = frame_png(app_state(request).engine, match_id, number)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except Busy as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from None
    # A stored match never changes: the browser may keep its frames.
    return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=86400"})


@router.get("/matches/{match_id}/logs")
def logs(request: Request, match_id: RowId, agent: str | None = None) -> dict[str, Any]:
    """What the viewer's own agents printed in the match (organisers: every agent's)."""
    user = viewer(request)
    if user is None:
        raise HTTPException(401, "sign in: 'Authorization: Bearer TOKEN'")
    try:
        return match_logs(app_state(request).engine, match_id, user, agent)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except Forbidden as exc:
        raise HTTPException(403, str(exc)) from None


@router.post("/tournaments", status_code=202)
async def post_tournament(request: Request) -> dict[str, Any]:
    """Queue a tournament file (the body, TOML); organisers only."""
    state = app_state(request)
    user = await run_in_threadpool(require_bearer, request)
    if not user.organiser:
        raise HTTPException(403, "only organisers may queue tournaments")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_TOURNAMENT_BYTES:
            raise HTTPException(413, f"tournament.toml: over {MAX_TOURNAMENT_BYTES // 1024} KiB")
    try:
        view = await run_in_threadpool(
            queue_tournament, state.engine, state.settings, user, bytes(body)
        )
    except ArenaError as exc:
        raise HTTPException(400, str(exc)) from None
    return view.to_dict()


@router.get("/tournaments")
def tournaments(request: Request) -> list[dict[str, Any]]:
    """Queued and run tournament requests, newest first."""
    user = viewer(request)
    return [shown_to(r, user).to_dict() for r in requests(app_state(request).engine)]


@router.get("/tournaments/{request_id}")
def tournament(request: Request, request_id: RowId) -> dict[str, Any]:
    view = get_request(app_state(request).engine, request_id)
    if view is None:
        raise HTTPException(404, f"no tournament request {request_id}")
    return shown_to(view, viewer(request)).to_dict()


@router.get("/events")
async def events(request: Request, follow: bool = True) -> StreamingResponse:
    """Server-Sent Events: ``match``, ``submission``, ``tournament``.

    A reconnecting client sends ``Last-Event-ID`` and misses nothing;
    ``?follow=false`` sends what happened since then and ends (for scripts).
    """
    state = app_state(request)
    cursor = Cursor.parse(request.headers.get("last-event-id"))
    if cursor is None:
        cursor = await run_in_threadpool(start_cursor, state.engine)
    # Each stream polls the database: a cap per client address and in all.
    key = client_key(request)
    refused = state.streams.refusal(key)
    if refused is not None:
        raise HTTPException(503, refused, headers={"Retry-After": str(STREAM_RETRY_S)})

    async def stream(cursor: Cursor) -> AsyncIterator[str]:
        yield f"retry: {int(state.settings.poll_s * 1000) + 1000}\n\n"
        quiet = 0.0
        while True:
            found, cursor = await run_in_threadpool(events_since, state.engine, cursor)
            for event in found:
                yield event.frame(cursor)
            if not follow:
                return
            if state.stopping.is_set() or await request.is_disconnected():
                return
            quiet = 0.0 if found else quiet + state.settings.poll_s
            if quiet >= HEARTBEAT_S:
                quiet = 0.0
                yield ": still here\n\n"
            await asyncio.sleep(state.settings.poll_s)

    return SlotStream(
        stream(cursor),
        state.streams,
        key,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )

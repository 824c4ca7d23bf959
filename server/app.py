"""The FastAPI app: the JSON API, the pages, the static files and the security headers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from arena.storage import connect
from server.access import AppState, RateLimiter
from server.guards import RequestGuard, StreamSlots
from server.settings import UPLOAD_ATTEMPTS_PER_UPLOAD, Settings
from server.worker import Worker

STATIC = Path(__file__).parent / "static"

#: Scripts and styles from this server only (no inline script can run, so an
#: escaping bug is not an XSS); no framing; no referrer leaves the site.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    worker: bool = False,
) -> FastAPI:
    """The web app on the database of ``settings`` (created and upgraded if needed).

    ``worker``: also run the background worker in a thread while the app runs
    (``arena serve``); tests call :meth:`Worker.step` themselves.
    """
    settings = settings or Settings()
    engine = engine or connect(settings.db_url)
    state = AppState(
        engine,
        settings,
        RateLimiter(settings.logins_per_minute, 60.0),
        StreamSlots(settings.streams_per_client, settings.streams_total),
        RateLimiter(settings.uploads_per_hour * UPLOAD_ATTEMPTS_PER_UPLOAD, 3600.0),
    )
    background = Worker(engine, settings) if worker else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if background is not None:
            background.start()
        try:
            yield
        finally:
            state.stopping.set()
            if background is not None:
                background.stop()

    app = FastAPI(
        title="arena",
        lifespan=lifespan,
        docs_url=None,  # the interactive docs load scripts from a CDN; docs/server.md instead
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.arena = state
    app.state.worker = background

    from server.api import router as api_router
    from server.pages import error_page
    from server.pages import router as page_router
    from server.play_api import router as play_router
    from server.tournament_pages import router as tournament_router

    app.include_router(api_router)
    app.include_router(play_router)
    app.include_router(tournament_router)
    app.include_router(page_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Added before the headers' middleware, so it runs inside it: a 413 has the headers too.
    app.add_middleware(RequestGuard)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        return await run_in_threadpool(error_page, request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        )
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": problems}, status_code=422)
        return await run_in_threadpool(error_page, request, 422, problems)

    return app

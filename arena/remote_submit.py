"""Uploading a package to an ``arena serve`` from the command line (stdlib only).

``submit_remote`` is what ``arena agent submit --server URL --token TOKEN PATH``
calls. It packs a folder into a .tar.gz (an archive is sent as it is), posts it
to ``/api/agents`` and, with ``wait``, polls ``/api/submissions/ID`` until the
worker has checked it. It lives in ``arena/`` because the CLI may not import
``server/``, and it needs only the standard library, so a student's machine
needs no server extra.
"""

from __future__ import annotations

import io
import json
import secrets
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from arena.archives import is_archive
from arena.errors import ArenaError
from arena.package_folder import scan_folder

CHECKING = "checking"


def _pack(folder: Path) -> tuple[str, bytes]:
    """A folder as ``NAME.tar.gz`` bytes: the files a submission stores (no caches, no .git)."""
    entries = scan_folder(folder)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for entry in entries:
            info = tarfile.TarInfo(f"{folder.name}/{entry.rel}")
            info.mtime = int(time.time())
            if entry.kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif entry.kind == "file":
                data = entry.source.read_bytes()  # a linked file is sent as its target's bytes
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
            else:
                raise ArenaError(
                    f"{folder}: '{entry.rel}' is a linked folder; archives may not contain "
                    "links (copy it in, or send an archive you made)"
                )
    return f"{folder.name}.tar.gz", buffer.getvalue()


def _multipart(filename: str, data: bytes) -> tuple[str, bytes]:
    boundary = f"arena-{secrets.token_hex(16)}"
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="package"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return (
        f"multipart/form-data; boundary={boundary}",
        head + data + f"\r\n--{boundary}--\r\n".encode(),
    )


def _call(request: urllib.request.Request, timeout: float) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        return exc.code, body if isinstance(body, dict) else {}
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ArenaError(f"{request.full_url}: cannot reach the server: {reason}") from None


def submit_remote(
    server: str,
    token: str,
    path: Path,
    *,
    wait: bool = True,
    timeout_s: float = 600.0,
    poll_s: float = 2.0,
    on_poll: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Upload a package folder or archive; return the submission's state.

    With ``wait``, polls until the status is ``accepted`` or ``refused`` (or
    ``timeout_s`` passes, leaving it ``checking``).

    Raises:
        ArenaError: not a folder or archive, the server cannot be reached, or it
            refuses the upload (the line carries its status and reason).
    """
    if path.is_dir():
        filename, data = _pack(path)
    elif path.is_file() and is_archive(path):
        filename, data = path.name, path.read_bytes()
    else:
        raise ArenaError(f"{path}: not a package folder or a .zip / .tar.gz / .tgz archive")
    base = server.rstrip("/")
    content_type, body = _multipart(filename, data)
    auth = {"Authorization": f"Bearer {token}"}
    post = urllib.request.Request(
        f"{base}/api/agents",
        data=body,
        method="POST",
        headers={**auth, "Content-Type": content_type},
    )
    status, answer = _call(post, timeout=120.0)
    if status not in (202, 403) or "submission" not in answer:
        raise ArenaError(f"{base}: upload refused ({status}): {answer.get('detail', answer)}")
    submission = int(answer["submission"])
    state: dict[str, Any] = {"submission": submission, "status": answer.get("status"), **answer}
    deadline = time.monotonic() + timeout_s
    while True:
        get = urllib.request.Request(f"{base}/api/submissions/{submission}", headers=auth)
        status, found = _call(get, timeout=30.0)
        if status != 200:
            raise ArenaError(f"{base}: submission {submission}: ({status}) {found.get('detail')}")
        state = found
        if on_poll is not None:
            on_poll(state)
        if not wait or state.get("status") != CHECKING or time.monotonic() > deadline:
            return state
        time.sleep(poll_s)


def remote_verdict(state: dict[str, Any]) -> str:
    """One line for a submission's state, as ``arena agent submit --server`` prints it."""
    what = f"{state.get('agent') or '?'} {state.get('version') or ''}".strip()
    number = state.get("submission", "?")
    status = state.get("status")
    if status == "accepted":
        return f"accepted: {what} (submission {number})"
    if status == "refused":
        return f"refused: {what} (submission {number}): {state.get('reason') or 'no reason given'}"
    return (
        f"checking: {what} (submission {number}); see it with "
        f"GET /api/submissions/{number} or on the server's /submit page"
    )

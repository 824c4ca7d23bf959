"""Receiving a package upload: multipart streamed to disk under a size limit.

Starlette's own form parser spools a whole file before the handler sees it;
this reader writes the ``package`` part to a file as it arrives and stops at the
limit, so an oversized upload costs at most the limit in disk and a chunk in
memory. A declared ``Content-Length`` over the limit is refused before reading
anything.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from arena.archives import is_archive

#: Room for the multipart framing and the small fields beside the file.
FRAMING_BYTES = 64 * 1024
FIELD_BYTES = 4096
MAX_FIELDS = 8
#: Parts of any kind (named or not, the file's included): a body of many tiny
#: parts would otherwise cost seconds to parse.
MAX_PARTS = MAX_FIELDS + 1
SAFE_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class UploadError(Exception):
    """An upload refused before its package is looked at: HTTP ``status`` and one line."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Received:
    """The uploaded file, written to ``path``, and the form's other fields."""

    path: Path
    filename: str
    size: int
    fields: dict[str, str] = field(default_factory=dict)


def _size_text(limit: int) -> str:
    mib = limit / (1024 * 1024)
    return f"{mib:g} MiB" if mib >= 1 else f"{limit} bytes"


def too_large(limit: int) -> UploadError:
    return UploadError(
        413,
        f"package: the upload exceeds the limit of {_size_text(limit)} "
        "(the server's ARENA_MAX_UPLOAD_MB)",
    )


def safe_filename(raw: str) -> str:
    """The upload's file name, checked: no folders, an archive suffix, plain characters.

    Raises:
        UploadError: 400 for any other name.
    """
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    if not SAFE_FILENAME.match(name) or not is_archive(Path(name)):
        raise UploadError(
            400,
            "package: name the file NAME.zip, NAME.tar.gz or NAME.tgz "
            "(letters, digits, '.', '_', '-')",
        )
    return name


class _Reader:
    """python-multipart's callbacks: the file part to a file, small fields to memory."""

    def __init__(self, file_field: str, folder: Path, limit: int) -> None:
        self.file_field, self.folder, self.limit = file_field, folder, limit
        self.dest: Path | None = None
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.size = 0
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._data = bytearray()
        self._out: IO[bytes] | None = None
        self._is_file = False
        self._parts = 0

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def discard(self) -> None:
        self.close()
        if self.dest is not None:
            self.dest.unlink(missing_ok=True)
        if self.folder.is_dir():
            self.folder.rmdir()

    def on_part_begin(self) -> None:
        self._disposition, self._data, self._is_file = b"", bytearray(), False
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise UploadError(400, f"too many form parts (at most {MAX_PARTS})")

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in options:
            if len(self.fields) >= MAX_FIELDS:
                raise UploadError(400, "too many form fields")
            return
        if self._name != self.file_field or self.filename is not None:
            raise UploadError(400, f"send one file, in the form field '{self.file_field}'")
        self.filename = safe_filename(options[b"filename"].decode("utf-8", "replace"))
        self._is_file = True
        self.folder.mkdir()
        self.dest = self.folder / self.filename
        self._out = self.dest.open("xb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if not self._is_file:
            if len(self._data) + len(chunk) > FIELD_BYTES:
                raise UploadError(400, f"form field '{self._name}' is too long")
            self._data.extend(chunk)
            return
        self.size += len(chunk)
        if self.size > self.limit:
            raise too_large(self.limit)
        assert self._out is not None
        self._out.write(chunk)

    def on_part_end(self) -> None:
        if self._is_file:
            self.close()
        else:
            self.fields[self._name] = self._data.decode("utf-8", "replace")


async def receive_package(
    content_type: str,
    content_length: str | None,
    stream: AsyncIterator[bytes],
    folder: Path,
    *,
    limit: int,
    file_field: str = "package",
) -> Received:
    """Stream a multipart body into a new file under ``folder``; the caller moves it on.

    The file is ``folder/.incoming-<random>/<its name>``: :func:`discard` removes both.

    Raises:
        UploadError: not multipart, no file, a bad file name, or over ``limit``
            (413), whether declared by ``Content-Length`` or counted while reading.
    """
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data" or b"boundary" not in params:
        raise UploadError(400, f"send multipart/form-data with the file in field '{file_field}'")
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            raise UploadError(400, "bad Content-Length") from None
        if declared > limit + FRAMING_BYTES:
            raise too_large(limit)
    folder.mkdir(parents=True, exist_ok=True)
    # A folder of its own, so that the file keeps the name it was sent under.
    reader = _Reader(file_field, folder / f".incoming-{secrets.token_hex(8)}", limit)
    parser = MultipartParser(
        params[b"boundary"],
        {
            "on_part_begin": reader.on_part_begin,
            "on_part_data": reader.on_part_data,
            "on_part_end": reader.on_part_end,
            "on_header_field": reader.on_header_field,
            "on_header_value": reader.on_header_value,
            "on_header_end": reader.on_header_end,
            "on_headers_finished": reader.on_headers_finished,
        },
    )
    total = 0
    try:
        async for chunk in stream:
            total += len(chunk)
            if total > limit + FRAMING_BYTES:
                raise too_large(limit)
            parser.write(chunk)
        parser.finalize()
    except FormParserError:
        reader.discard()
        raise UploadError(400, "the multipart body is malformed") from None
    except BaseException:
        reader.discard()
        raise
    reader.close()
    if reader.filename is None or reader.dest is None:
        reader.discard()
        raise UploadError(400, f"no file in form field '{file_field}'")
    return Received(reader.dest, reader.filename, reader.size, reader.fields)


def discard(received: Received) -> None:
    """Remove an upload that will not be kept, and its temporary folder."""
    received.path.unlink(missing_ok=True)
    if received.path.parent.name.startswith(".incoming-"):
        received.path.parent.rmdir()

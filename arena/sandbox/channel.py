"""The framed channel between the arena and a worker, and the action codec.

Frames are a 4-byte big-endian length and a payload. The arena sends pickles
(the worker trusts the arena); the worker answers in JSON, which the arena
parses with a size cap and never unpickles, so nothing a hostile agent sends can
run code in the arena. The channel is a socketpair of its own: what the agent
prints goes to its stdout, which is captured separately.
"""

from __future__ import annotations

import base64
import json
import math
import pickle
import re
import select
import socket
import struct
import time
from typing import Any

import numpy as np

from arena.textsafe import clean_text

HEADER = struct.Struct("!I")
MAX_REPLY = 4 * 1024 * 1024  # bytes: a worker's reply is small (an action or a traceback)
MAX_TRACEBACK = 20_000  # characters of an agent's traceback kept


class ChannelClosed(Exception):
    """The other end closed the channel (the worker died)."""


class ChannelTimeout(Exception):
    """No complete frame before the deadline."""


class ProtocolViolation(Exception):
    """The worker sent something that is not a valid frame."""


def send_frame(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(HEADER.pack(len(payload)) + payload)


def send_message_by(sock: socket.socket, message: dict[str, Any], deadline: float) -> None:
    """Arena → worker, with a deadline: a worker that stops reading cannot block the arena.

    Raises:
        ChannelTimeout: the frame was not fully sent by ``deadline``.
        ChannelClosed: the worker closed its end.
    """
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    data = memoryview(HEADER.pack(len(payload)) + payload)
    while data:
        try:
            sent = sock.send(data, socket.MSG_DONTWAIT)
        except BlockingIOError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChannelTimeout from None
            select.select([], [sock], [], remaining)
            continue
        except (BrokenPipeError, ConnectionResetError):
            raise ChannelClosed from None
        data = data[sent:]


def send_message(sock: socket.socket, message: dict[str, Any]) -> None:
    """Arena → worker: a pickled dict."""
    send_frame(sock, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _recv_exact(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    chunks = []
    while n:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChannelTimeout
            ready, _, _ = select.select([sock], [], [], remaining)
            if not ready:
                raise ChannelTimeout
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise ChannelClosed
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket, deadline: float | None, max_size: int) -> bytes:
    (size,) = HEADER.unpack(_recv_exact(sock, HEADER.size, deadline))
    if size > max_size:
        raise ProtocolViolation(f"frame of {size} bytes exceeds {max_size}")
    return _recv_exact(sock, size, deadline)


MAX_DEPTH = 32  # nesting a reply may have; ours use 4
MAX_NUMBER_CHARS = 40  # digits of a number in a reply; ours are pids and counts
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(rb"[\[\]{}]")


def _depth(payload: bytes) -> int:
    """How deeply a JSON text nests, counted before it is parsed (strings skipped)."""
    if payload.count(b"[") + payload.count(b"{") <= MAX_DEPTH:
        return 0  # cannot nest deeper than it has brackets
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', payload)):
        depth += 1 if match.group() in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest


def _number(text: str) -> int | float:
    if len(text) > MAX_NUMBER_CHARS:
        raise ProtocolViolation(f"a number of {len(text)} characters")
    value = float(text) if any(c in text for c in ".eE") else int(text)
    if not math.isfinite(value):
        raise ProtocolViolation(f"a number out of range: {text}")
    return value


def _no_constant(name: str) -> None:
    raise ProtocolViolation(f"{name} is not a number a reply may hold")


def parse_reply(payload: bytes) -> dict[str, Any]:
    """A worker's reply: a JSON object, or ProtocolViolation (never another exception).

    Everything is checked before or while parsing: the nesting depth (before,
    so no recursion limit is reached), the length of every number (a 5,000-digit
    integer is refused, not converted), finiteness (``1e999``, ``NaN`` and
    ``Infinity`` are refused: actions carry special floats as strings).
    """
    try:
        deepest = _depth(payload)
        if deepest > MAX_DEPTH:
            raise ProtocolViolation(f"reply nests {deepest} deep (at most {MAX_DEPTH})")
        message = json.loads(
            payload, parse_int=_number, parse_float=_number, parse_constant=_no_constant
        )
    except ProtocolViolation:
        raise
    except Exception as exc:  # any other failure to parse is the sender's fault
        raise ProtocolViolation(f"reply is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(message, dict):
        raise ProtocolViolation("reply is not an object")
    return message


def recv_reply(sock: socket.socket, deadline: float | None) -> dict[str, Any]:
    """Worker → arena: a JSON object, checked for shape."""
    return parse_reply(recv_frame(sock, deadline, MAX_REPLY))


def recv_message(sock: socket.socket) -> dict[str, Any]:
    """Worker side: the arena's next pickled message (blocking)."""
    message = pickle.loads(recv_frame(sock, None, 1 << 31))
    assert isinstance(message, dict)
    return message


def send_reply(sock: socket.socket, message: dict[str, Any]) -> None:
    send_frame(sock, json.dumps(message).encode())


# The common reply, an integer action (every Discrete game), as 9 bytes instead of
# JSON: b"I" and a big-endian int64. A JSON reply always starts with "{".
INT_REPLY = struct.Struct("!cq")


def send_action(sock: socket.socket, action: Any) -> None:
    """Worker → arena: an action, in the short binary form when it is a plain int."""
    if type(action) is int or (isinstance(action, np.integer) and not isinstance(action, bool)):
        value = int(action)
        if -INT_LIMIT <= value < INT_LIMIT:
            send_frame(sock, INT_REPLY.pack(b"I", value))
            return
    send_reply(sock, {"action": encode_action(action)})


def parse_frame(payload: bytes) -> dict[str, Any]:
    """A worker's reply frame, binary or JSON, as a reply object (or ProtocolViolation)."""
    if payload[:1] == b"I":
        if len(payload) != INT_REPLY.size:
            raise ProtocolViolation(f"a binary action frame of {len(payload)} bytes")
        return {"action": {"t": "int", "s": str(INT_REPLY.unpack(payload)[1])}}
    return parse_reply(payload)


INT_LIMIT = 2**63  # integer actions beyond int64 cross as "other" (always illegal)
MAX_ARRAY_BYTES = 1 << 20  # an action array larger than this crosses as "other"


def _other(action: Any, note: str = "") -> dict[str, Any]:
    try:
        text = repr(action)[:200]
    except Exception:  # a hostile __repr__
        text = "?"
    return {"t": "other", "type": (type(action).__name__ + note)[:80], "repr": text}


def encode_action(action: Any) -> dict[str, Any]:
    """Worker side: describe an action in JSON without losing what makes it illegal.

    Floats travel as their ``repr`` (so NaN and infinity arrive as what they
    were, to be judged illegal) and arrays as their raw bytes in base64, so no
    number in a reply needs parsing beyond a pid.
    """
    if isinstance(action, (bool, np.bool_)):
        return {"t": "bool", "v": bool(action)}
    if isinstance(action, (int, np.integer)):
        value = int(action)
        if -INT_LIMIT <= value < INT_LIMIT:
            return {"t": "int", "s": str(value)}
        # Not str(value): past 4,300 digits Python refuses to convert it.
        return _other(action, f" of about {int(value.bit_length() * 0.30103) + 1} digits")
    if isinstance(action, (float, np.floating)):
        return {"t": "float", "s": repr(float(action))}
    if isinstance(action, str):
        return {"t": "str", "v": action[:200]}
    if isinstance(action, (list, tuple)) and not isinstance(action, np.ndarray):
        try:
            arr = np.asarray(action)
        except Exception:  # ragged, deep or odd contents
            return _other(action)
        if arr.dtype.kind not in "biuf":
            return _other(action)
        return {**_encode_array(arr.astype(np.float64)), "t": "list"}
    if isinstance(action, np.ndarray) and action.dtype.kind in "biuf":
        return _encode_array(action)
    return _other(action)


def _encode_array(arr: np.ndarray) -> dict[str, Any]:
    if arr.nbytes > MAX_ARRAY_BYTES or arr.ndim > 8:
        return _other(arr, f" of shape {arr.shape}")
    return {
        "t": "array",
        "dtype": arr.dtype.str,
        "shape": list(arr.shape),
        "b64": base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode(),
    }


class Opaque:
    """Stands in for an action of a type that cannot cross the channel."""

    def __init__(self, type_name: str, text: str) -> None:
        self.type_name, self.text = type_name, text

    def __repr__(self) -> str:
        return self.text


def decode_action(data: Any) -> Any:
    """Arena side: rebuild an action from its JSON description, trusting nothing.

    Raises:
        ProtocolViolation: the description is malformed (and only that).
    """
    try:
        return _decode_action(data)
    except ProtocolViolation:
        raise
    except Exception as exc:
        raise ProtocolViolation(f"bad action ({type(exc).__name__})") from None


def _decode_action(data: Any) -> Any:
    if not isinstance(data, dict):
        raise ProtocolViolation("action is not an object")
    kind = data.get("t")
    if kind == "bool" and isinstance(data.get("v"), bool):
        return data["v"]
    text = data.get("s")
    if kind == "int" and isinstance(text, str) and len(text) <= 20:
        value = int(text)
        if not -INT_LIMIT <= value < INT_LIMIT:
            raise ProtocolViolation("integer action out of range")
        return value
    if kind == "float" and isinstance(text, str) and len(text) <= 40:
        return float(text)  # may be nan or inf: the runner judges that illegal
    if kind == "str" and isinstance(data.get("v"), str):
        return data["v"][:200]
    if kind in ("array", "list"):
        shape, b64 = data.get("shape"), data.get("b64")
        if not (
            isinstance(shape, list)
            and len(shape) <= 8
            and all(isinstance(n, int) and 0 <= n <= MAX_ARRAY_BYTES for n in shape)
            and isinstance(b64, str)
            and len(b64) <= 2 * MAX_ARRAY_BYTES
        ):
            raise ProtocolViolation("bad array shape")
        dtype = np.dtype(str(data.get("dtype"))[:8])
        if dtype.kind not in "biuf":
            raise ProtocolViolation("bad array dtype")
        raw = base64.b64decode(b64, validate=True)
        if len(raw) != dtype.itemsize * math.prod(shape):
            raise ProtocolViolation("array bytes do not match its shape")
        arr = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
        return arr.tolist() if kind == "list" else arr
    if kind == "other":
        return Opaque(clean_text(data.get("type", "object"), limit=80),
                      clean_text(data.get("repr", "?"), limit=200))
    raise ProtocolViolation(f"unknown action kind {clean_text(repr(kind), limit=40)}")

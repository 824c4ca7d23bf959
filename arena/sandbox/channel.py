"""The framed channel between the arena and a worker, and the action codec.

Frames are a 4-byte big-endian length and a payload. The arena sends pickles
(the worker trusts the arena); the worker answers in JSON, which the arena
parses with a size cap and never unpickles, so nothing a hostile agent sends can
run code in the arena. The channel is a socketpair of its own: what the agent
prints goes to its stdout, which is captured separately.
"""

from __future__ import annotations

import json
import pickle
import select
import socket
import struct
import time
from typing import Any

import numpy as np

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


def parse_reply(payload: bytes) -> dict[str, Any]:
    """A worker's reply: a JSON object, or ProtocolViolation."""
    try:
        message = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolViolation(f"reply is not JSON: {exc}") from None
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


def encode_action(action: Any) -> dict[str, Any]:
    """Worker side: describe an action in JSON without losing what makes it illegal."""
    if isinstance(action, (bool, np.bool_)):
        return {"t": "bool", "v": bool(action)}
    if isinstance(action, (int, np.integer)):
        return {"t": "int", "v": int(action)}
    if isinstance(action, (float, np.floating)):
        return {"t": "float", "v": float(action)}
    if isinstance(action, str):
        return {"t": "str", "v": action[:200]}
    if isinstance(action, np.ndarray) and action.dtype.kind in "biuf":
        return {
            "t": "array",
            "dtype": action.dtype.str,
            "shape": list(action.shape),
            "v": action.ravel().tolist(),
        }
    if isinstance(action, (list, tuple)):
        try:
            arr = np.asarray(action)
        except Exception:  # ragged or odd contents
            arr = None
        if arr is not None and arr.dtype.kind in "biuf":
            return {"t": "list", "shape": list(arr.shape), "v": arr.ravel().tolist()}
    return {"t": "other", "type": type(action).__name__[:80], "repr": repr(action)[:200]}


class Opaque:
    """Stands in for an action of a type that cannot cross the channel."""

    def __init__(self, type_name: str, text: str) -> None:
        self.type_name, self.text = type_name, text

    def __repr__(self) -> str:
        return self.text


def decode_action(data: Any) -> Any:
    """Arena side: rebuild an action from its JSON description, trusting nothing."""
    if not isinstance(data, dict):
        raise ProtocolViolation("action is not an object")
    kind, value = data.get("t"), data.get("v")
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "float" and isinstance(value, (int, float)):
        return float(value)
    if kind == "str" and isinstance(value, str):
        return value
    if kind in ("array", "list") and isinstance(value, list):
        shape = data.get("shape")
        if not (isinstance(shape, list) and all(isinstance(n, int) and n >= 0 for n in shape)):
            raise ProtocolViolation("bad array shape")
        if kind == "list":
            return np.asarray(value, dtype=np.float64).reshape(shape).tolist()
        dtype = np.dtype(str(data.get("dtype")))
        if dtype.kind not in "biuf":
            raise ProtocolViolation("bad array dtype")
        return np.asarray(value, dtype=dtype).reshape(shape)
    if kind == "other":
        return Opaque(str(data.get("type", "object")), str(data.get("repr", "?")))
    raise ProtocolViolation(f"unknown action kind {kind!r}")

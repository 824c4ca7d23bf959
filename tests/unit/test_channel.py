"""The sandbox channel's reply codec: what a hostile worker can send, what the arena reads."""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest

from arena.sandbox.channel import (
    HEADER,
    INT_REPLY,
    Opaque,
    ProtocolViolation,
    decode_action,
    parse_frame,
    send_action,
)


def _through(action: object) -> object:
    """Send ``action`` as the worker does and decode it as the arena does."""
    a, b = socket.socketpair()
    with a, b:
        send_action(a, action)
        (size,) = HEADER.unpack(b.recv(HEADER.size))
        reply = parse_frame(b.recv(size))
    return decode_action(reply["action"])


@pytest.mark.parametrize(
    ("action", "expected"),
    [(3, 3), (np.int64(-7), -7), (2**63 - 1, 2**63 - 1), (1.5, 1.5), ("x", "x")],
)
def test_actions_cross_as_what_they_were(action: object, expected: object) -> None:
    got = _through(action)
    assert got == expected and type(got) is type(expected)


def test_bools_and_nans_keep_what_makes_them_illegal() -> None:
    assert _through(True) is True  # not the integer 1
    assert _through(np.bool_(False)) is False
    nan = _through(float("nan"))
    assert isinstance(nan, float) and nan != nan
    arr = _through(np.array([1.0, np.inf], dtype=np.float32))
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float32 and np.isinf(arr[1])
    big = _through(10**5000)
    assert isinstance(big, Opaque) and big.type_name == "int of about 5001 digits"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"I" + b"\0" * 4, "a binary action frame of 5 bytes"),
        (b"[" * 5000 + b"]" * 5000, "reply nests 5000 deep"),
        (b'{"a": ' + b"9" * 5000 + b"}", "a number of 5000 characters"),
        (b'{"a": 1e999}', "a number out of range: 1e999"),
        (b'{"a": NaN}', "NaN is not a number a reply may hold"),
        (b"\xff", "reply is not valid JSON"),
        (b"[1]", "reply is not an object"),
    ],
)
def test_malformed_frames_are_protocol_violations(payload: bytes, message: str) -> None:
    with pytest.raises(ProtocolViolation, match=message.replace("[", r"\[")):
        parse_frame(payload)


@pytest.mark.parametrize(
    "action",
    [
        {"t": "int", "s": "9" * 30},
        {"t": "array", "dtype": "<f8", "shape": [3], "b64": "AAAA"},
        {"t": "array", "dtype": "|O", "shape": [1], "b64": ""},
        {"t": "array", "dtype": "<f8", "shape": [-1], "b64": ""},
        {"t": "nope"},
        [1, 2],
    ],
)
def test_malformed_actions_are_protocol_violations(action: object) -> None:
    with pytest.raises(ProtocolViolation):
        decode_action(json.loads(json.dumps(action)))


def test_binary_frame_layout() -> None:
    assert INT_REPLY.pack(b"I", 5) == b"I" + (5).to_bytes(8, "big")

"""A person plays an agent from the browser: the game API, its WebSocket, and /play/ENV."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()

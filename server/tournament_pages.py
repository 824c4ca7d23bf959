"""Tournament pages: /tournaments/NAME with live standings per format."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()

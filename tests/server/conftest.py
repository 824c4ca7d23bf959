"""The ``site`` fixture: an app on a fresh SQLite file with users ada, bob and prof."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.server_helpers import Site, make_site


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    made = make_site(tmp_path)
    yield made
    made.client.close()
    made.engine.dispose()

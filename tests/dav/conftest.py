"""Fixtures of the drive's tests: one real server per module (see :mod:`.dav_support`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .dav_support import DavServer, dav_server


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[DavServer]:
    """One server for a test module (tests work in folders of their own)."""
    with dav_server(tmp_path_factory.mktemp("dav")) as running:
        yield running

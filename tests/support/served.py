"""Fixtures for tests that talk to pytest-jupyter's server over real HTTP, as a laptop would:
its URL and its token. Imported into a folder's conftest.py to use them."""

from __future__ import annotations

import pytest


@pytest.fixture
def server_url(jp_serverapp, http_server_client, jp_http_port, jp_base_url):
    """The server's URL; ``http_server_client`` makes pytest-jupyter serve on ``jp_http_port``."""
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}"


@pytest.fixture
def token(jp_serverapp):
    return jp_serverapp.identity_provider.token

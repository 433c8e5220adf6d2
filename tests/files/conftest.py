"""Fixtures of the files, tree, batch and uploads tests."""

import pytest

from ..support.files_support import Api, connect


@pytest.fixture
def api(jp_serverapp, http_server_client, jp_http_port, jp_base_url) -> Api:
    """A raw-URL client for our API on the test server."""
    return connect(jp_serverapp, jp_http_port, jp_base_url)

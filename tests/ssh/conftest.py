"""Fixtures of the SSH tests: a real Jupyter server's URL and token, and a laptop with its own HOME
(helpers in ssh_support.py)."""

from __future__ import annotations

import pytest

from .ssh_support import Laptop, laptop_env


@pytest.fixture
def server_url(jp_serverapp, http_server_client, jp_http_port, jp_base_url):
    """The in-process server's URL (``http_server_client`` makes it serve on jp_http_port)."""
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}"


@pytest.fixture
def token(jp_serverapp):
    return jp_serverapp.identity_provider.token


@pytest.fixture
def laptop(tmp_path) -> Laptop:
    home = tmp_path / "laptop"
    home.mkdir()
    return Laptop(home, laptop_env(home))

"""Shared fixtures: a real Jupyter server with the extension (pytest-jupyter), and a raw-URL client
for its remote-dev API. Each tests/<area>/conftest.py adds its area's fixtures."""

import pytest

from .support.files_support import Api, connect

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def remote_dev_config():
    """Per-test RemoteDevExtension traits; override in a test module or with parametrize."""
    return {}


@pytest.fixture
def jp_server_config(remote_dev_config):
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_remote_dev": True},
            "allow_unauthenticated_access": False,
        },
        "RemoteDevExtension": remote_dev_config,
    }


@pytest.fixture
def remote_dev(jp_serverapp):
    """The running RemoteDevExtension."""
    return jp_serverapp.web_app.settings["remote_dev_config"]


@pytest.fixture
def api(jp_serverapp, http_server_client, jp_http_port, jp_base_url) -> Api:
    """A raw-URL client for our API on the test server (tests/exec/ has a streaming one)."""
    return connect(jp_serverapp, jp_http_port, jp_base_url)

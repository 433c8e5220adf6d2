"""Shared fixtures: a real Jupyter server with the extension (pytest-jupyter)."""

import pytest

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

"""Fixtures of the client tests: a laptop environment and the real server's URL and token."""

import os

import pytest

from ..support.ray_dashboard import standin  # noqa: F401 (fixture: a stand-in Ray dashboard)


@pytest.fixture
def server_url(jp_serverapp, http_server_client, jp_http_port, jp_base_url):
    """The server's URL; ``http_server_client`` makes pytest-jupyter serve on ``jp_http_port``."""
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}"


@pytest.fixture
def token(jp_serverapp):
    return jp_serverapp.identity_provider.token


@pytest.fixture
def laptop(tmp_path):
    """A user's environment: config and home in tmp, no Jupyter variables from the test run."""
    home = tmp_path / "laptop"
    (home / "project").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"), PYTHONUNBUFFERED="1")
    return {"env": env, "home": home, "project": home / "project"}

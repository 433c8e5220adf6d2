"""Fixtures of the client tests: a laptop environment and the real server's URL and token."""

import os

import pytest

from ..support.ray_dashboard import standin  # noqa: F401 (fixture: a stand-in Ray dashboard)
from ..support.served import server_url, token  # noqa: F401 (fixtures: the server's URL, token)


@pytest.fixture
def laptop(tmp_path):
    """A user's environment: config and home in tmp, no Jupyter variables from the test run."""
    home = tmp_path / "laptop"
    (home / "project").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"), PYTHONUNBUFFERED="1")
    return {"env": env, "home": home, "project": home / "project"}

"""Fixtures of the whole-stack tests: README's hub per module, and Alice's CLI environment."""

import os

import pytest

from ..support.local_hub_support import local_hub


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """README's hub (hub_config/local_config.py) on free loopback ports, without Ray; users alice
    and bob exist. Everything it started is stopped after the module."""
    with local_hub(tmp_path_factory.mktemp("hub"), ray=False) as running:
        for name in ("alice", "bob"):
            running.admin.post(f"users/{name}").raise_for_status()
        yield running


@pytest.fixture(scope="module")
def alice(hub, tmp_path_factory):
    """Alice's token, a CLI environment (JUPYTER_CONFIG_DIR and HOME in tmp) and her local tree."""
    home = tmp_path_factory.mktemp("alice-laptop")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_", "JPY_", "JUPYTERHUB"))
    }
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"), PYTHONUNBUFFERED="1")
    return {"token": hub.user_token("alice"), "env": env, "home": home}

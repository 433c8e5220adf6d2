"""Fixtures of the SSH tests: a real Jupyter server's URL and token, and a laptop with its own HOME
(helpers in ssh_support.py)."""

from __future__ import annotations

import pytest

from ..support.served import server_url, token  # noqa: F401 (fixtures: the server's URL, token)
from .ssh_support import Laptop, laptop_env


@pytest.fixture
def laptop(tmp_path) -> Laptop:
    home = tmp_path / "laptop"
    home.mkdir()
    return Laptop(home, laptop_env(home))

"""hub_config/local_config.py loaded as JupyterHub loads it, with its state in a temp folder."""

import os
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

CONFIG = Path(__file__).resolve().parents[2] / "hub_config" / "local_config.py"


def load(monkeypatch, tmp_path, **env):
    monkeypatch.setenv("JUPYTER_REMOTE_DEV_HUB_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("JUPYTER_REMOTE_DEV_DEMO_PASSWORD", "a-demo-password")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    umask = os.umask(0o022)  # the config sets the hub's umask: keep this process's own
    try:
        return PyFileConfigLoader(CONFIG.name, str(CONFIG.parent)).load_config()
    finally:
        os.umask(umask)


def spawner_env(c) -> dict:
    return c.Spawner.environment.get_value({})  # the config updates JupyterHub's default

"""What the embedded default's user servers start with: Lab settings, a short token cache."""

from __future__ import annotations

import json
from pathlib import Path

TOKEN_CACHE_SECONDS = 10
"""How long the demo's servers trust the hub's answer about a token (JupyterHub: 300 s)."""
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}}
"""JupyterLab settings defaults of the demo's servers: no news prompt over the sidebar."""


def lab_settings(folder: Path) -> Path:
    """``folder/lab-settings`` with an ``overrides.json`` of ``LAB_OVERRIDES``: JupyterLab's
    settings defaults, for the servers' ``--LabApp.app_settings_dir``."""
    settings = folder / "lab-settings"
    settings.mkdir(mode=0o700, exist_ok=True)
    (settings / "overrides.json").write_text(json.dumps(LAB_OVERRIDES, indent=2) + "\n")
    return settings


def server_args(folder: Path, as_root: bool) -> list[str]:
    """``c.Spawner.args``: Lab's settings defaults from ``folder`` (its news prompt would cover
    the sidebar), a revoked or expired token refused within ``TOKEN_CACHE_SECONDS``
    (hub_config/README.md), and ``--allow-root`` when the hub runs as root."""
    args = [
        f"--LabApp.app_settings_dir={lab_settings(folder)}",
        f"--HubOAuth.cache_max_age={TOKEN_CACHE_SECONDS}",
    ]
    return [*args, "--allow-root"] if as_root else args

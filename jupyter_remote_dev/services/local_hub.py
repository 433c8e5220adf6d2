"""Helpers of hub_config/local_config.py: the per-checkout state folder, ports, the banner.

Light on purpose (no JupyterHub or Kubernetes imports): the hub loads it with its config.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import stat
import sys
from pathlib import Path

READY_MESSAGE = "JupyterHub is now running at"
TOKEN_CACHE_SECONDS = 10
"""How long the demo's servers trust the hub's answer about a token (JupyterHub: 300 s)."""
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}}
"""JupyterLab settings defaults of the demo's servers: no news prompt over the sidebar."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_port(name: str, default: int | None = None) -> int:
    """The port in ``$name``; else ``default``; else a free one. A clear error if not a number."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default if default is not None else free_port()
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SystemExit(f"{name} must be a TCP port number, got {text!r}")
    return int(text)


def state_folder(checkout: Path) -> Path:
    """``$JUPYTER_REMOTE_DEV_HUB_DIR``, else ``.jupyter-remote-dev-hub/`` in the checkout, private
    to this account (see ``make_private``), also when it already existed."""
    configured = os.environ.get("JUPYTER_REMOTE_DEV_HUB_DIR", "").strip()
    folder = Path(configured).expanduser() if configured else checkout / ".jupyter-remote-dev-hub"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    make_private(folder)
    return folder.resolve()


def make_private(folder: Path) -> None:
    """Take the group's and others' permissions off ``folder`` and everything in it (folders
    0700, files 0600, the owner's execute bits kept); symbolic links are not followed."""
    paths = [str(folder)]
    for root, dirs, files in os.walk(folder):
        paths.extend(os.path.join(root, name) for name in dirs + files)
    for path in paths:
        mode = os.lstat(path).st_mode
        if not stat.S_ISLNK(mode) and mode & 0o077:
            os.chmod(path, stat.S_IMODE(mode) & 0o700)


def lab_settings(folder: Path) -> Path:
    """``folder/lab-settings`` with an ``overrides.json`` of ``LAB_OVERRIDES``: JupyterLab's
    settings defaults, for the servers' ``--LabApp.app_settings_dir``."""
    settings = folder / "lab-settings"
    settings.mkdir(mode=0o700, exist_ok=True)
    (settings / "overrides.json").write_text(json.dumps(LAB_OVERRIDES, indent=2) + "\n")
    return settings


def demo_password(folder: Path, env: str, length: int) -> str:
    """``$env``, else a password generated once and kept in ``folder/<env lower>`` (0600)."""
    given = os.environ.get(env, "")
    if given:
        return given
    kept = folder / env.lower()
    try:
        return kept.read_text().strip()
    except FileNotFoundError:
        pass
    password = secrets.token_urlsafe(length)[:length]
    fd = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    return password


class _AfterReady(logging.Filter):
    """Prints ``text`` right after JupyterHub logs that it is running (so it is the last word)."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith(READY_MESSAGE):
            asyncio.get_running_loop().call_soon(self._print)
        return True

    def _print(self) -> None:
        print(self.text, file=sys.stderr, flush=True)


def print_when_ready(text: str, logger: str = "JupyterHub") -> None:
    """Print ``text`` once the hub has logged that it runs (its start-up's last line)."""
    logging.getLogger(logger).addFilter(_AfterReady(text))


def quiet_service_polls(service: str) -> None:
    """Drop the hub's INFO access-log lines for ``service``'s successful API calls (its routine
    polls); warnings and errors of that service, and every other request, are still logged."""
    marker = f"({service}@"

    def keep(record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or marker not in record.getMessage()

    logging.getLogger("tornado.access").addFilter(keep)

"""The embedded default's state folder (per checkout, private) and its demo passwords."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path


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

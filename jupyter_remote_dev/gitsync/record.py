"""One settings source: the server records its effective sync settings for the other processes.

The server (the only process that sees its command line and config files) writes its settings,
which never hold a secret (the token comes from the environment or a file at run time), to
``.git/remote-dev/settings.json`` in the workspace, and names the workspace in
``<Jupyter runtime dir>/jupyter-remote-dev-git.json``. ``jupyter remote-dev git ...`` (the preStop
hook among them) looks there first, so it commits exactly what the server would; where no server
ever ran (the init container), it falls back to the ``JUPYTER_REMOTE_DEV_GIT_*`` variables.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
from pathlib import Path

from .config import SyncSettings
from .errors import GitSyncConfigError

RECORD = "remote-dev/settings.json"
POINTER = "jupyter-remote-dev-git.json"


def settings_json(settings: SyncSettings) -> dict:
    """The settings as JSON values (paths as strings, tuples as lists)."""
    values = dataclasses.asdict(settings)
    values["workspace"] = str(settings.workspace)
    return {key: list(v) if isinstance(v, tuple) else v for key, v in values.items()}


def settings_from_json(values: dict) -> SyncSettings:
    """:class:`SyncSettings` from :func:`settings_json` output, validated."""
    fields = {f.name for f in dataclasses.fields(SyncSettings)}
    if not isinstance(values, dict) or not {"repo", "workspace", "sync_branch"} <= set(values):
        raise GitSyncConfigError("the recorded sync settings are incomplete")
    known = {key: value for key, value in values.items() if key in fields}
    for key in ("include", "exclude"):
        if key in known:
            known[key] = tuple(known[key])
    known["workspace"] = Path(known["workspace"])
    try:
        return SyncSettings(**known).validated()
    except TypeError as error:
        raise GitSyncConfigError(f"the recorded sync settings are malformed: {error}") from None


def record_settings(settings: SyncSettings, runtime_dir: str | os.PathLike | None) -> None:
    """Write the record into the workspace's ``.git`` (if it is a clone) and the pointer."""
    git_dir = Path(settings.workspace) / ".git"
    if git_dir.is_dir():
        _write_json(git_dir / RECORD, settings_json(settings))
    if runtime_dir is not None:
        _write_json(Path(runtime_dir) / POINTER, {"workspace": str(settings.workspace)})


def forget_pointer(runtime_dir: str | os.PathLike, workspace: Path) -> None:
    """Remove the pointer at server shutdown, if it still names ``workspace``."""
    if recorded_workspace(runtime_dir) == Path(workspace):
        with contextlib.suppress(OSError):  # shutting down: nothing more to do about it
            Path(runtime_dir, POINTER).unlink()


def recorded_workspace(runtime_dir: str | os.PathLike) -> Path | None:
    """The workspace a server on this machine syncs, if one said so."""
    try:
        data = json.loads(Path(runtime_dir, POINTER).read_text("utf-8"))
        return Path(data["workspace"])
    except (OSError, ValueError, TypeError, KeyError):
        return None


def load_recorded(workspace: Path) -> SyncSettings | None:
    """The settings a server recorded in ``workspace``; None if none did.

    :class:`GitSyncConfigError` if a record is there but unusable (hand-edited, truncated).
    """
    path = Path(workspace) / ".git" / RECORD
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise GitSyncConfigError(f"cannot read {path}: {error.strerror}") from None
    try:
        values = json.loads(text)
    except ValueError as error:
        raise GitSyncConfigError(f"{path} is not valid JSON: {error}") from None
    try:
        return settings_from_json(values)
    except GitSyncConfigError as error:
        raise GitSyncConfigError(f"{path}: {error.message}") from None


def _write_json(target: Path, data: dict) -> None:
    """Write ``data`` atomically, and only when it changed."""
    text = json.dumps(data, indent=1, sort_keys=True)
    try:
        if target.read_text("utf-8") == text:
            return
    except OSError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".settings-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise

"""Binding a project folder to a server folder, like git's repository root.

``init`` (or a first ``sync``/``push``/``pull``, confirmed) writes
``.jupyter-remote-dev/state.json`` into the project folder; every later command finds it by walking
up from where it runs, and reads, sends and writes nothing outside it. These checks run before
anything is sent or written: a folder that must never be bound (``/``, the home folder or a folder
above it, system folders, a folder holding the client's own profiles and tokens), a path argument
outside the project, and a ``--remote`` that is absolute or climbs out of the server root.
"""

from __future__ import annotations

import posixpath
import sys
from pathlib import Path

from jupyter_core.paths import jupyter_config_dir

from ..profiles import profiles_path
from .state import STATE_DIR, StateError

SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/sbin",
                "/sys", "/usr", "/System", "/Library", "/private/etc")  # fmt: skip
"""System folders refused together with everything below them."""
SYSTEM_FOLDERS = ("/home", "/media", "/mnt", "/opt", "/root", "/run", "/srv", "/var",
                  "/Applications", "/Users", "/Volumes", "/private", "/private/tmp",
                  "/tmp")  # fmt: skip  # noqa: S108 (a folder refused, not a temp file)
"""Folders that hold other people's or the system's folders: refused themselves only."""


class BindingError(StateError):
    """A folder that cannot be bound, or a path or ``--remote`` outside what is allowed."""


def _contains(folder: Path, path: Path) -> bool:
    return path == folder or folder in path.parents


def check_bindable(folder: Path) -> None:
    """Raise BindingError if ``folder`` must not become a project folder."""
    folder = folder.resolve()
    if folder == Path(folder.anchor):
        raise BindingError(f"refusing to bind {folder}: the file system root is not a project")
    home = Path.home().resolve()
    if _contains(folder, home):
        raise BindingError(
            f"refusing to bind {folder}: it is (or holds) your home folder; bind a project folder"
        )
    text = folder.as_posix()
    if any(text == top or text.startswith(top + "/") for top in SYSTEM_TREES) or (
        text in SYSTEM_FOLDERS
    ):
        raise BindingError(f"refusing to bind {folder}: a system folder is not a project")
    for own in (profiles_path(), Path(jupyter_config_dir())):
        if _contains(folder, own.resolve()):
            raise BindingError(
                f"refusing to bind {folder}: it holds this client's profiles and tokens ({own})"
            )


def parse_remote(value: str) -> str:
    """A ``--remote`` value as a server-relative folder ("" for ``.``, the whole server root)."""
    text = value.strip()
    if not text:
        raise BindingError(
            "--remote is empty: name a server folder, or give `--remote .` for the server root"
        )
    if "\0" in text:
        raise BindingError("--remote must not contain NUL bytes")
    if text.startswith(("/", "~")) or (len(text) > 1 and text[1] == ":"):
        raise BindingError(
            f"--remote {value!r} is not relative to the server root (write e.g. `--remote "
            f"{text.lstrip('/~') or '.'}`)"
        )
    cleaned = posixpath.normpath(text)
    if cleaned == ".." or cleaned.startswith("../"):
        raise BindingError(f"--remote {value!r} leaves the server root")
    return "" if cleaned == "." else cleaned


def default_remote(folder: Path) -> str:
    """The server folder a project is bound to by default: one named like the local folder."""
    return folder.resolve().name


def project_relative(root: Path, argument: str, cwd: Path) -> str:
    """``argument`` (relative to ``cwd``) as a POSIX path inside the project ("" for its root).

    Symlinks in the argument are resolved first, so a link that points out is outside too."""
    path = Path(cwd, argument).resolve()
    if not _contains(root, path):
        raise BindingError(f"{argument} is outside the project folder {root}; nothing was sent")
    relative = path.relative_to(root).as_posix()
    relative = "" if relative == "." else relative
    if relative.split("/")[0] == STATE_DIR:
        raise BindingError(f"{argument} is this client's own state folder; it never syncs")
    return relative


def ask(question: str) -> bool:
    """Ask on the terminal (the question on stderr, so stdout stays clean); True for yes."""
    print(question, end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def confirm_binding(folder: Path, remote: str, profile: str, yes: bool) -> None:
    """Ask (in a terminal) before binding ``folder``; without a terminal require ``--yes``."""
    where = f"{remote}/" if remote else "/ (the whole server root)"
    if yes:
        return
    if not is_interactive():
        raise BindingError(
            f"{folder} is not bound to a server folder yet: run `jupyter remote-dev init` there "
            f"first, or add --yes to bind it to {where} (profile {profile!r})"
        )
    if not ask(f"Bind {folder} to the server folder {where} (profile {profile!r})? [y/N] "):
        raise BindingError("not bound; nothing was sent")


def is_interactive() -> bool:
    """Whether the user can be asked: stdin and stderr are a terminal."""
    return sys.stdin.isatty() and sys.stderr.isatty()

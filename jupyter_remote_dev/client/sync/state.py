"""``.jupyter-remote-dev/state.json``: a folder's binding, last-synced manifest and hash cache.

The last-synced manifest is the base of the three-way plan; the hash cache (``manifest.HashCache``,
keyed by inode, size and mtime) means an unchanged file is neither read nor sent again. A folder is
bound to one profile and one remote folder: planning against another remote with this base would
delete files, so that is refused with a clear message. The server's ignore patterns (``GET info``)
are stored with the state, so both sides of a sync leave out the same files; the project's own
``.gitignore`` rules come from :mod:`.ignores`. Conflicts are remembered here, each with the name
of its local copy of the server's version, until ``resolve`` settles them.

Several processes may work on one project (``sync --watch`` in one terminal, ``sync`` in another):
each holds the project's lock (:mod:`.lock`) while it reads, changes and writes the state, and a
long-running one reloads the state each time it takes the lock.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from posixpath import normpath
from typing import NamedTuple

from ...files.manifest import DEFAULT_IGNORE_PATTERNS, HashCache, IgnoreRules
from .gcpause import gc_paused
from .ignores import ProjectIgnores
from .local_tree import LocalTree, scan
from .plan import Entry, conflict_copy_name

STATE_DIR = ".jupyter-remote-dev"
STATE_FILE = "state.json"
STATE_VERSION = 1


class StateError(Exception):
    """A state file that is unreadable or bound to another server folder."""


class Conflict(NamedTuple):
    """An unresolved conflict: the hashes seen when it was reported and the local copy's name."""

    local: str | None
    remote: str | None
    copy: str


def normalise_remote_dir(remote_dir: str) -> str:
    """A server-relative folder without leading/trailing slashes ("" is the server root)."""
    cleaned = normpath("/" + remote_dir.strip()).strip("/")
    return "" if cleaned == "." else cleaned


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding a state file, or None."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / STATE_DIR / STATE_FILE).is_file():
            return folder
    return None


class SyncState:
    """The sync state of one local folder (its ``root``)."""

    def __init__(
        self,
        root: Path,
        profile: str,
        remote_dir: str,
        ignore: tuple[str, ...] = (),
        server_ignore: tuple[str, ...] = DEFAULT_IGNORE_PATTERNS,
    ):
        self.root = root.resolve()
        self.profile = profile
        self.remote_dir = normalise_remote_dir(remote_dir)
        self.extra_ignore = tuple(ignore)
        self.hides_dotfiles = False
        """The server refuses dot-files (``RemoteDevExtension.allow_hidden_files`` is off there)."""
        self.project_ignores = ProjectIgnores(self.root)
        self.use_server_ignore(server_ignore)
        self.base: dict[str, Entry] = {}
        self.conflicts: dict[str, Conflict] = {}
        self.cache = HashCache()

    @property
    def path(self) -> Path:
        return self.root / STATE_DIR / STATE_FILE

    @classmethod
    @gc_paused
    def load(
        cls, root: Path, profile: str | None = None, remote_dir: str | None = None
    ) -> SyncState:
        """The state of ``root``; a new one when there is none. Refuses a different binding."""
        path = root / STATE_DIR / STATE_FILE
        try:
            raw = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            if profile is None:
                raise StateError(
                    f"{root} is not bound to a server folder; run `jupyter remote-dev init` there"
                ) from None
            return cls(root, profile, remote_dir or "")
        except (OSError, ValueError) as e:
            raise StateError(f"cannot read {path}: {e}; delete it to start afresh") from e
        if raw.get("version") != STATE_VERSION:
            raise StateError(f"{path} has an unknown format; delete it to start afresh")
        state = cls(
            root,
            raw["profile"],
            raw["remote_dir"],
            tuple(raw.get("ignore", ())),
            tuple(raw.get("server_ignore", DEFAULT_IGNORE_PATTERNS)),
        )
        remote = state.remote_dir if remote_dir is None else remote_dir
        wanted = (profile or state.profile, normalise_remote_dir(remote))
        if wanted != (state.profile, state.remote_dir):
            raise StateError(
                f"{root} is synced with profile {state.profile!r}, remote folder "
                f"{state.remote_dir or '/'!r}; to bind it elsewhere delete {path.parent} first "
                "(the next sync then treats every file as new on both sides)"
            )
        state._take(raw)
        return state

    def _take(self, raw: dict) -> None:
        """The synced entries, conflicts and hash cache of a state file's content."""
        self.base = {p: Entry(*fields) for p, fields in raw.get("base", {}).items()}
        self.conflicts = {
            p: Conflict(f[0], f[1], f[2] if len(f) > 2 else conflict_copy_name(p, f[1] or ""))
            for p, f in raw.get("conflicts", {}).items()
        }
        self.cache = HashCache(raw.get("hash_cache", {}))

    @gc_paused
    def reload(self) -> None:
        """Take what another process saved meanwhile (call it holding the project's lock)."""
        try:
            raw = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as e:
            raise StateError(f"cannot read {self.path}: {e}; delete it to start afresh") from e
        self._take(raw)

    @gc_paused
    def save(self) -> None:
        """Write the state atomically (temp file + rename)."""
        folder = self.path.parent
        folder.mkdir(exist_ok=True)
        body = {
            "version": STATE_VERSION,
            "profile": self.profile,
            "remote_dir": self.remote_dir,
            "ignore": list(self.extra_ignore),
            "server_ignore": list(self.server_ignore),
            "base": {p: [e.sha256, e.size, e.mode] for p, e in sorted(self.base.items())},
            "conflicts": {p: list(c) for p, c in sorted(self.conflicts.items())},
            "hash_cache": self.cache.entries(),
        }
        fd, tmp = tempfile.mkstemp(prefix=".~state.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(json.dumps(body, separators=(",", ":")))  # dumps: the fast C encoder
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def local_tree(self) -> LocalTree:
        """Every local file and empty folder that syncs (hashed via the cache), and the skipped."""
        self.project_ignores = ProjectIgnores(self.root)  # pick up edited ignore files
        copies = self.conflict_copies
        return scan(
            self.root,
            self.cache,
            lambda relative, is_dir: relative in copies or self.ignores_entry(relative, is_dir),
        )

    def local_manifest(self) -> dict[str, Entry]:
        """Every local file and empty folder that syncs, by relative path."""
        return self.local_tree().entries

    def local_entry(self, relative: str) -> Entry | None:
        """The current entry of one local file, or None if it is absent (or not a regular file)."""
        path = self.root / relative
        try:
            st = path.stat(follow_symlinks=False)
        except FileNotFoundError:
            return None
        if not path.is_file() or path.is_symlink():
            return None
        return Entry(self.cache.sha256(path, st), st.st_size, st.st_mode & 0o777)

    def remote_path(self, relative: str) -> str:
        """The server-relative path of a file of this folder."""
        return f"{self.remote_dir}/{relative}" if self.remote_dir else relative

    def relative(self, local_path: Path) -> str:
        """``local_path`` as a POSIX path relative to the root; StateError if it is outside."""
        try:
            return local_path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            raise StateError(f"{local_path} is outside the synced folder {self.root}") from None

    def use_server_ignore(self, patterns: tuple[str, ...]) -> None:
        """Leave out what the server's ``ignore_patterns`` leave out (and always the state dir)."""
        self.server_ignore = tuple(patterns)
        self.ignore = IgnoreRules([STATE_DIR, *self.server_ignore, *self.extra_ignore])

    def ignores(self, relative: str, is_dir: bool = False) -> bool:
        """True for paths the sync leaves out: the server's patterns, the project's ignore files,
        ``.git/``, this state folder and the local copies of unresolved conflicts."""
        if self.ignore.ignores(relative) or relative in self.conflict_copies:
            return True
        return self.project_ignores.ignores(relative, is_dir)

    def ignores_entry(self, relative: str, is_dir: bool) -> bool:
        """:meth:`ignores` (but conflict copies) for a walker that has checked the folders above."""
        if self.ignore.name_matcher(relative.rpartition("/")[2]):
            return True
        path_matcher = self.ignore.path_matcher
        if path_matcher is not None and path_matcher(relative):
            return True
        return self.project_ignores.ignores_entry(relative, is_dir)

    def hidden_on_server(self, relative: str) -> bool:
        """True for a dot-path that a server hiding dot-files refuses."""
        return self.hides_dotfiles and any(p.startswith(".") for p in relative.split("/"))

    @property
    def conflict_copies(self) -> set[str]:
        return {c.copy for c in self.conflicts.values()}

    def record(self, relative: str, entry: Entry | None) -> None:
        """Both sides now hold ``entry`` (None: neither has the file); any conflict is over."""
        conflict = self.conflicts.pop(relative, None)
        if conflict is not None:
            self.remove_copy(conflict)
        if entry is None:
            self.base.pop(relative, None)
        else:
            self.base[relative] = entry

    def remove_copy(self, conflict: Conflict) -> None:
        """Delete a settled conflict's local copy, unless it was edited since it was made."""
        copy = self.root / conflict.copy
        try:
            if self.cache.sha256(copy) == conflict.remote:
                copy.unlink()
        except (FileNotFoundError, IsADirectoryError):
            pass

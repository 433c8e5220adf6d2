"""What a project leaves out of a sync, as git does: ``.gitignore`` files at every level,
``.git/info/exclude`` and ``.remotedevignore`` (same syntax), matched by pathspec's gitignore
implementation (nesting, negation, anchoring, ``dir/`` patterns).

Precedence follows git: ``.git/info/exclude`` lowest, then the ignore files from the project root
down to the path's own folder, the deeper file winning; within a file the last matching line wins.
As in git, a file inside an ignored folder cannot be re-included. The server's own
``ignore_patterns`` (fnmatch, ``GET info``) are applied on top, and ``.git/`` never syncs.
"""

from __future__ import annotations

import functools
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

IGNORE_FILES = (".gitignore", ".remotedevignore")
"""Ignore files read in every folder of the project (``.remotedevignore`` wins over ``.gitignore``
in the same folder)."""
GIT_EXCLUDE = Path(".git", "info", "exclude")
NEVER_SYNCED = (".git",)
"""Folder names left out at any depth, whatever the ignore files say."""


def _compile(lines: list[str]) -> GitIgnoreSpec:
    """A gitignore matcher; pathspec is imported on first use (a project without ignore files,
    and commands that scan nothing, never pay for it)."""
    from pathspec import GitIgnoreSpec

    return GitIgnoreSpec.from_lines(lines)


def _read_lines(path: Path) -> list[str] | None:
    try:
        return path.read_text("utf-8", errors="replace").splitlines()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError):
        return None


class ProjectIgnores:
    """The gitignore rules of one project folder; ignore files are read lazily, once each."""

    def __init__(self, root: Path):
        self.root = root
        self._chains: dict[str, list[tuple[str, GitIgnoreSpec]]] = {}
        self._folders: dict[str, bool] = {"": False}

    @functools.cached_property
    def _exclude(self) -> GitIgnoreSpec | None:
        """``.git/info/exclude``, the lowest-precedence rules."""
        lines = _read_lines(self.root / GIT_EXCLUDE)
        return _compile(lines) if lines else None

    def _folder_specs(self, folder: str) -> list[GitIgnoreSpec]:
        """The compiled ignore files of ``folder`` ("" for the root), in precedence order."""
        specs = []
        for name in IGNORE_FILES:
            lines = _read_lines(self.root / folder / name)
            if lines:
                specs.append(_compile(lines))
        return specs

    def _chain(self, folder: str) -> list[tuple[str, GitIgnoreSpec]]:
        """(folder, spec) of every ignore file that applies inside ``folder``, lowest first."""
        chain = self._chains.get(folder)
        if chain is None:
            above = self._chain(posixpath.dirname(folder)) if folder else []
            chain = above + [(folder, spec) for spec in self._folder_specs(folder)]
            self._chains[folder] = chain
        return chain

    def _decision(self, relative: str, is_dir: bool) -> bool:
        """Whether ``relative`` itself matches (its folders above are not consulted)."""
        ignored = False
        suffix = "/" if is_dir else ""
        if self._exclude is not None:
            result = self._exclude.check_file(relative + suffix)
            if result.include is not None:
                ignored = result.include
        for folder, spec in self._chain(relative.rpartition("/")[0]):
            inner = relative[len(folder) + 1 :] if folder else relative
            result = spec.check_file(inner + suffix)
            if result.include is not None:
                ignored = result.include
        return ignored

    def ignores(self, relative: str, is_dir: bool = False) -> bool:
        """True when ``relative`` (POSIX, from the root) or a folder above it is ignored."""
        return self._folder_ignored(relative.rpartition("/")[0]) or self.ignores_entry(
            relative, is_dir
        )

    def _folder_ignored(self, folder: str) -> bool:
        """Whether ``folder`` or one above it is ignored, remembered per folder (a tree listing
        asks about each folder once per file in it)."""
        ignored = self._folders.get(folder)
        if ignored is None:
            above = folder.rpartition("/")[0]
            ignored = self._folder_ignored(above) or self.ignores_entry(folder, True)
            self._folders[folder] = ignored
        return ignored

    def ignores_entry(self, relative: str, is_dir: bool) -> bool:
        """Like :meth:`ignores` for a walker that has already checked every folder above."""
        if relative.rpartition("/")[2] in NEVER_SYNCED:
            return True
        return self._decision(relative, is_dir)

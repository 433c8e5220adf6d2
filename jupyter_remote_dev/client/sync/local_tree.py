"""The local side of a sync: every file and empty folder of the project, and what is skipped.

Dot-files are listed like any other file; what the ignore rules leave out is not (an ignored
folder is not even entered). Symlinks are neither followed nor sent: the server writes only
regular files and folders, and follows links only while they stay inside its root, so a link
cannot be recreated there faithfully; each one is named in the summary as skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ...files.manifest import HashCache
from .plan import FOLDER, Entry

SYMLINK_REASON = "symlink: not synced (the server keeps only links that stay inside its root)"


@dataclass
class LocalTree:
    """Files and empty folders by relative path, and (path, reason) of what was skipped."""

    entries: dict[str, Entry] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def file_count(self) -> int:
        return sum(1 for e in self.entries.values() if e.sha256 != FOLDER)


def scan(
    root: os.PathLike | str,
    cache: HashCache,
    ignores: Callable[[str, bool], bool],
) -> LocalTree:
    """Walk ``root``; ``ignores(relative, is_dir)`` is asked once per entry, folders first."""
    tree = LocalTree()
    stack = [(os.fspath(root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as listing:
                found = list(listing)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in found:
            relative = prefix + entry.name
            try:
                is_link = entry.is_symlink()
                is_dir = not is_link and entry.is_dir(follow_symlinks=False)
                if ignores(relative, is_dir):
                    continue
                if is_link:
                    tree.skipped.append((relative, SYMLINK_REASON))
                elif is_dir:
                    stack.append((entry.path, relative + "/"))
                elif entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    digest = cache.lookup(entry.path, st) or cache.sha256(entry.path, st)
                    tree.entries[relative] = Entry(digest, st.st_size, st.st_mode & 0o777)
                else:
                    tree.skipped.append((relative, "not a regular file"))
            except FileNotFoundError:  # removed while we walked
                continue
        if prefix and not found:  # truly empty: a folder of ignored files is not created
            tree.entries[prefix.rstrip("/")] = Entry(FOLDER, 0, 0o755)
    tree.skipped.sort()
    return tree

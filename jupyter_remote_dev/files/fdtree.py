"""GET tree/'s manifest walked on descriptors: no link followed, no long path handed to the OS.

The client builds its local manifest with :func:`.manifest.build_manifest` (paths, portable);
the server walks from an open descriptor of the listed folder with ``os.fwalk``, so a folder
swapped for a link mid-walk is never entered and paths longer than ``PATH_MAX`` still list.
Both share :class:`.manifest.IgnoreRules`, :class:`.manifest.HashCache` and the entry shape.
"""

from __future__ import annotations

import os
import stat

from .fdpath import OPEN_FILE, is_git_dir
from .manifest import HashCache, IgnoreRules, ManifestEntry


def build_manifest_fd(
    folder_fd: int,
    folder_real: str,
    cache: HashCache,
    ignore: IgnoreRules,
    include_hidden: bool,
    empty_folders: list[str] | None = None,
) -> list[ManifestEntry]:
    """Every regular file under the open folder ``folder_fd`` (real path ``folder_real``, used
    only as the cache key), sorted by path, like :func:`.manifest.build_manifest`; given a list,
    ``empty_folders`` receives every folder below it that is empty. ``.git`` is never listed."""
    name_ignored, path_ignored = ignore.name_matcher, ignore.path_matcher
    manifest = []
    for top, folders, names, dir_fd in os.fwalk(".", dir_fd=folder_fd, follow_symlinks=False):
        prefix = "" if top == "." else top.removeprefix("./") + "/"
        if empty_folders is not None and prefix and not folders and not names:
            empty_folders.append(prefix.rstrip("/"))

        def kept(name: str, prefix: str = prefix) -> bool:
            if (name[0] == "." and (not include_hidden or is_git_dir(name))) or name_ignored(name):
                return False
            return path_ignored is None or not path_ignored(prefix + name)

        folders[:] = [name for name in folders if kept(name)]
        for name in names:
            if not kept(name):
                continue
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                if not stat.S_ISREG(st.st_mode):
                    continue
                key = f"{folder_real}/{prefix}{name}"
                digest = cache.lookup(key, st)
                if digest is None:
                    fd = os.open(name, OPEN_FILE, dir_fd=dir_fd)
                    try:
                        digest = cache.sha256_fd(key, fd, os.fstat(fd))
                    finally:
                        os.close(fd)
            except OSError:  # deleted, replaced or unreadable while we walked
                continue
            manifest.append(
                ManifestEntry(
                    prefix + name, st.st_size, st.st_mtime_ns / 1e9, digest, st.st_mode & 0o777
                )
            )
    manifest.sort()
    return manifest

"""A batch's folder walks, done once per folder instead of once per member.

:class:`FolderWalks` walks a member's folder from the root by :func:`.fdpath.locate`'s rules the
first time a batch names it and keeps the folder's descriptor (at most 128, least
recently used closed first); the members after it start from that descriptor. Every member's
path is still checked in full, a member whose own name is a link still gets the full walk, and
the caller re-checks that the folder is in place before each rename
(:meth:`.fdpath.Location.check_in_place`), so a folder moved during the batch is still caught.
"""

from __future__ import annotations

import os
import stat
from collections import OrderedDict

from ..errors import ConflictError
from .fdpath import OPEN_DIR, Location, locate, open_physical, real_root, split_path


class FolderWalks:
    """Folder descriptors of one batch pass, by request folder and by real folder path."""

    SIZE = 128

    def __init__(self, root: str, allow_hidden: bool, root_fd: int):
        self.root = real_root(os.fspath(root))
        self.allow_hidden = allow_hidden
        self.root_fd = root_fd
        self._walks: OrderedDict[str, Location] = OrderedDict()
        self._physical: OrderedDict[str, int] = OrderedDict()

    def locate(self, path: str) -> Location:
        """Like ``locate(root, path, may_be_missing=True)``; the caller closes the result."""
        parts = split_path(path, self.allow_hidden)  # every member is checked in full
        parent, name = "/".join(parts[:-1]), parts[-1]
        folder = self._walks.get(parent)
        if folder is None:
            folder = self._walk(parent)
            self._keep(self._walks, parent, folder, Location.close)
        self._walks.move_to_end(parent)
        if not folder.missing:
            try:
                st = os.stat(name, dir_fd=folder.fd, follow_symlinks=False)
            except FileNotFoundError:
                st = None
            if st is not None and stat.S_ISLNK(st.st_mode):  # links: the full walk's rules
                return self._full(path)
        missing = list(folder.missing)
        physical = list(folder.physical)
        return Location(path, self.root, os.dup(folder.fd), physical, name, missing, self.root_fd)

    def learn(self, path: str, target: Location) -> None:
        """Remember ``target``'s folder for ``path``'s folder once an install created it."""
        parent = path.rpartition("/")[0]
        known = self._walks.get(parent)
        if known is not None and known.missing and not target.missing and target.fd >= 0:
            folder = Location(parent, self.root, os.dup(target.fd), list(target.physical), "")
            self._keep(self._walks, parent, folder, Location.close)

    def open_physical(self, relative: str) -> int:
        """A descriptor of the real folder ``relative`` (opened once per batch pass; the caller
        closes the copy it gets)."""
        fd = self._physical.get(relative)
        if fd is None:
            fd = open_physical(self.root_fd, relative)
            self._keep(self._physical, relative, fd, os.close)
        self._physical.move_to_end(relative)
        return os.dup(fd)

    def close(self) -> None:
        for folder in self._walks.values():
            folder.close()
        for fd in self._physical.values():
            os.close(fd)
        self._walks.clear()
        self._physical.clear()

    def _keep(self, table: OrderedDict, key: str, value, close) -> None:
        old = table.pop(key, None)
        if old is not None:
            close(old)
        table[key] = value
        while len(table) > self.SIZE:
            close(table.popitem(last=False)[1])

    def _full(self, path: str) -> Location:
        return locate(self.root, path, allow_hidden=self.allow_hidden, may_be_missing=True,
                      root_fd=self.root_fd)  # fmt: skip

    def _walk(self, parent: str) -> Location:
        """The folder ``parent`` as a Location with an empty name: its fd and real path, or its
        nearest existing ancestor and the folders still missing."""
        if not parent:
            return Location("", self.root, os.dup(self.root_fd), [], "", [], self.root_fd)
        at = self._full(parent)
        try:
            if not at.missing:
                try:
                    child = os.open(at.name, OPEN_DIR, dir_fd=at.fd)
                except FileNotFoundError:
                    at.missing.append(at.name)
                except NotADirectoryError:  # a file there, or a link swapped in just now
                    raise ConflictError(f"{parent!r} is not a folder") from None
                else:
                    os.close(at.fd)
                    at.fd = child
                    at.physical.append(at.name)
            else:
                at.missing.append(at.name)
            at.name = ""
            return at
        except BaseException:
            at.close()
            raise

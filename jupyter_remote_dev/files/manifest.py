"""Tree manifests: sha256 of every file, with a stat-keyed cache and ignore patterns.

Shared by the server (``GET tree/``) and the client (local side of a sync), so both agree on
hashing and ignores. Imports nothing from tornado or jupyter_server.
"""

from __future__ import annotations

import fnmatch
import hashlib
import itertools
import json
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import NamedTuple

HASH_CHUNK = 1024 * 1024
TIMESTAMP_SLACK_NS = 20_000_000
"""A cached hash is trusted only for files whose mtime is this much older than the hashing.

A file rewritten in place within one timestamp tick of being hashed could keep its
(inode, size, mtime_ns); like git's "racy" check, such entries are hashed again next time.
"""
TEMP_PATTERNS = (".~*.tmp", ".~*.part")
"""Names of our own in-flight files (atomic writes, resumable uploads); never listed."""
DEFAULT_IGNORE_PATTERNS = (".git", ".ipynb_checkpoints", "__pycache__", ".jupyter-remote-dev")
"""The default of ``RemoteDevExtension.ignore_patterns``; a client uses it only when the server
does not report its own (``GET info`` of a server older than ``ignore_patterns`` there)."""


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's contents, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as file:
        while chunk := file.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    """What identifies a file version cheaply: (device, inode, size, mtime_ns)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class HashCache:
    """sha256 by path, valid while the file's (device, inode, size, mtime_ns) is unchanged.

    Thread-safe. ``hashed`` counts files actually read, so callers (and tests) can see that a
    repeat over an unchanged tree reads nothing. With a ``limit``, past that many entries the
    quarter stored longest ago is dropped (those files are hashed again when next listed), so a
    long-running server's memory stays bounded however many files it has seen.
    """

    def __init__(self, entries: dict[str, list] | None = None, limit: int | None = None):
        self._entries: dict[str, tuple[tuple[int, ...], str, int]] = {}
        for path, (key, digest, hashed_at) in (entries or {}).items():
            self._entries[path] = (tuple(key), digest, hashed_at)
        self._lock = threading.Lock()
        self.limit = limit
        self.hashed = 0

    def lookup(self, path: str, st: os.stat_result) -> str | None:
        """The cached hash of ``path`` if ``st`` still matches it, else None."""
        entry = self._entries.get(path)
        if entry is None or entry[0] != stat_key(st):
            return None
        if entry[2] - st.st_mtime_ns < TIMESTAMP_SLACK_NS:
            return None
        return entry[1]

    def store(self, path: str, st: os.stat_result, digest: str, trusted: bool = False) -> None:
        """Remember ``digest`` for ``path`` at ``st``; ``trusted`` when we wrote the file."""
        hashed_at = st.st_mtime_ns + TIMESTAMP_SLACK_NS if trusted else time.time_ns()
        with self._lock:
            self._entries.pop(path, None)  # the newest last: evicted last
            self._entries[path] = (stat_key(st), digest, hashed_at)
            if self.limit is not None and len(self._entries) > self.limit:
                for oldest in list(itertools.islice(self._entries, len(self._entries) // 4)):
                    del self._entries[oldest]

    def sha256(self, path: str | os.PathLike, st: os.stat_result | None = None) -> str:
        """The file's sha256, from the cache when its stat key is unchanged."""
        path = os.fspath(path)
        st = st or os.stat(path)
        digest = self.lookup(path, st)
        if digest is None:
            digest = sha256_file(path)
            after = os.stat(path)
            with self._lock:
                self.hashed += 1
            if stat_key(after) == stat_key(st):
                self.store(path, st, digest)
        return digest

    def sha256_fd(self, path: str, fd: int, st: os.stat_result) -> str:
        """The sha256 of the open file ``fd`` (whose stat is ``st``), cached under ``path``.

        Read with ``pread``, so the descriptor's offset is untouched; stored only if the file's
        stat key did not change while it was read.
        """
        digest = self.lookup(path, st)
        if digest is None:
            hasher, offset = hashlib.sha256(), 0
            while chunk := os.pread(fd, HASH_CHUNK, offset):
                hasher.update(chunk)
                offset += len(chunk)
            digest = hasher.hexdigest()
            with self._lock:
                self.hashed += 1
            if stat_key(os.fstat(fd)) == stat_key(st):
                self.store(path, st, digest)
        return digest

    def forget(self, path: str | os.PathLike) -> None:
        """Drop the entry of ``path`` (after deleting it)."""
        with self._lock:
            self._entries.pop(os.fspath(path), None)

    def entries(self) -> dict[str, list]:
        """A JSON-serialisable copy, for a client that keeps its cache between runs."""
        with self._lock:
            return {path: [list(k), d, t] for path, (k, d, t) in self._entries.items()}


class IgnoreRules:
    """fnmatch patterns: a pattern without ``/`` matches any path component (``__pycache__``,
    ``*.pyc``); one with ``/`` matches the whole relative path (``data/raw/*``)."""

    def __init__(self, patterns: Iterable[str] = ()):
        self.patterns = [*TEMP_PATTERNS, *patterns]
        names = [p for p in self.patterns if "/" not in p]
        paths = [p.strip("/") for p in self.patterns if "/" in p]
        self.name_matcher = re.compile("|".join(map(fnmatch.translate, names)) or r"(?!)").match
        """Matches a single name that is ignored wherever it appears."""
        self.path_matcher = (
            re.compile("|".join(map(fnmatch.translate, paths))).match if paths else None
        )
        """Matches a whole relative path that is ignored (None without such patterns)."""

    def ignores(self, relative_path: str) -> bool:
        """True when a POSIX path relative to the tree root, or any folder above it, is ignored."""
        if self.path_matcher is not None and self.path_matcher(relative_path):
            return True
        return any(self.name_matcher(part) for part in relative_path.split("/"))


class ManifestEntry(NamedTuple):
    """One regular file of a tree."""

    path: str
    """POSIX path relative to the tree root."""
    size: int
    mtime: float
    sha256: str
    mode: int
    """Permission bits (``st_mode & 0o777``)."""


def walk_files(
    root: str | os.PathLike,
    ignore: IgnoreRules,
    include_hidden: bool = False,
    empty_folders: list[str] | None = None,
):
    """Yield (relative POSIX path, absolute path, stat) of regular files under ``root``.

    Symlinks are not followed and not listed; ignored and (unless ``include_hidden``) dot-named
    entries are skipped with everything below them. Order is unspecified. Folders cost no stat
    call (the entry type comes with the listing); each file costs one ``lstat``. Given a list,
    ``empty_folders`` receives every folder below ``root`` that is empty.
    """
    name_ignored, path_ignored = ignore.name_matcher, ignore.path_matcher
    stack = [(os.fspath(root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as scan:
                entries = list(scan)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in entries:
            name = entry.name
            if (name[0] == "." and not include_hidden) or name_ignored(name):
                continue
            relative = prefix + name
            if path_ignored is not None and path_ignored(relative):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, relative + "/"))
                elif entry.is_file(follow_symlinks=False):
                    yield relative, entry.path, entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # deleted while we walked
                continue
        if empty_folders is not None and prefix and not entries:
            empty_folders.append(prefix.rstrip("/"))


def build_manifest(
    root: str | os.PathLike,
    cache: HashCache,
    ignore: IgnoreRules | None = None,
    include_hidden: bool = False,
    empty_folders: list[str] | None = None,
) -> list[ManifestEntry]:
    """Every regular file under ``root``, sorted by path, with size, mtime, mode and sha256 (from
    ``cache`` while the file's stat key is unchanged); ``empty_folders``: see :func:`walk_files`."""
    lookup, manifest = cache.lookup, []
    walk = walk_files(root, ignore or IgnoreRules(), include_hidden, empty_folders)
    for relative, absolute, st in walk:
        digest = lookup(absolute, st)
        if digest is None:
            try:
                digest = cache.sha256(absolute, st)
            except FileNotFoundError:
                continue
        manifest.append(
            ManifestEntry(relative, st.st_size, st.st_mtime_ns / 1e9, digest, st.st_mode & 0o777)
        )
    manifest.sort()
    return manifest


def manifest_json(entries: Iterable[ManifestEntry]) -> list[dict]:
    """Entries as plain dicts, the shape of ``GET tree/``'s ``files``."""
    return [entry._asdict() for entry in entries]


class ManifestBodies:
    """The last JSON answers (and their ETags) per listed folder: an unchanged tree is answered
    without re-encoding, so a repeat costs the walk and its stat calls only."""

    def __init__(self, size: int = 4):
        self._bodies: OrderedDict[tuple, tuple[list, str, str]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def body(self, key: tuple, root: str, entries: list, folders: list) -> tuple[str, str]:
        """(JSON body, ETag) for ``entries`` and the empty ``folders``."""
        listed = (entries, folders)
        with self._lock:
            cached = self._bodies.get(key)
        if cached is not None and cached[0] == listed:
            return cached[1], cached[2]
        body = json.dumps({"root": root, "files": manifest_json(entries), "folders": folders})
        etag = hashlib.sha256(body.encode()).hexdigest()
        with self._lock:
            self._bodies[key] = (listed, body, etag)
            self._bodies.move_to_end(key)
            while len(self._bodies) > self._size:
                self._bodies.popitem(last=False)
        return body, etag

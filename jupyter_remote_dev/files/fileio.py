"""Atomic streamed writes, one-descriptor reads and link-safe deletes under the server root.

Every access goes through directory descriptors (:mod:`.fdpath`): a temp file is created in the
target's folder (or its nearest existing ancestor), fsynced, checked and renamed into place with
``os.replace(..., src_dir_fd=, dst_dir_fd=)``, and the folder fsynced. Nothing here knows about
tornado: handlers translate HTTP into these calls and
:class:`~jupyter_remote_dev.errors.RemoteDevError` subclasses back into status codes.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import shutil
import stat
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import (
    ConflictError,
    NotFoundError,
    PathError,
    PreconditionFailedError,
    RemoteDevError,
)
from .fdpath import OPEN_DIR, OPEN_FILE, Location, is_git_dir, locate, open_folder
from .headers import parse_etags
from .manifest import HashCache, stat_key

TEMP_PREFIX = ".~remote-dev-"
"""Temp files start with this and end in ``.tmp`` (or ``.part``); manifests never list them."""
PATH_MAX = os.pathconf("/", "PC_PATH_MAX") if hasattr(os, "pathconf") else 4096
REPLACE_LOCK = threading.Lock()
"""Held while a precondition is checked and the file replaced, so the pair is atomic. Held only
for a few system calls (never while hashing or fsyncing), so taking it on the event loop is fine."""
HASH_APART = 256 * 1024
"""Chunks of at least this size are hashed in a thread beside the write, smaller ones inline."""
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _default_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


DEFAULT_FILE_MODE = _default_mode()


def temp_name(suffix: str = ".tmp") -> str:
    return f"{TEMP_PREFIX}{secrets.token_hex(8)}{suffix}"


def create_temp(folder_fd: int, suffix: str = ".tmp") -> tuple[int, str]:
    """A new, empty temp file in the folder ``folder_fd``: (write fd, name)."""
    while True:
        name = temp_name(suffix)
        try:
            return os.open(name, _CREATE, 0o600, dir_fd=folder_fd), name
        except FileExistsError:
            continue


def resolve_folder(root: str | os.PathLike, path: str, allow_hidden: bool = False) -> Path:
    """The real path of an existing folder under ``root`` (``""``, ``.`` and ``./`` name the root;
    a trailing ``/`` is allowed), walked by :func:`.fdpath.locate`'s rules; NotFoundError if it is
    missing or not a folder, PathError if its real path is too long for the system to use."""
    relative = "" if path in (".", "./") else path if path.startswith("/") else path.rstrip("/")
    fd, real = open_folder(root, relative, allow_hidden=allow_hidden)
    os.close(fd)
    if len(os.fsencode(real)) >= PATH_MAX:
        raise PathError(f"{path!r} is longer than the system's PATH_MAX with the server root")
    return Path(real)


def _current_sha256(where: Location, cache: HashCache) -> tuple[tuple, str]:
    """(stat key, sha256) of the file at ``where``, hashed through a fresh descriptor (no lock
    held; may be slow)."""
    fd = os.open(where.name, OPEN_FILE, dir_fd=where.fd)
    try:
        st = os.fstat(fd)
        return stat_key(st), cache.sha256_fd(where.real, fd, st)
    finally:
        os.close(fd)


def check_preconditions(
    where: Location,
    cache: HashCache,
    if_match: str | None,
    if_none_match: str | None,
    known: dict | None = None,
) -> os.stat_result | None:
    """Raise 412 if ``If-Match``/``If-None-Match`` fail for the entry at ``where`` and return its
    lstat (None if absent); a folder or link there is a 409. Take :data:`REPLACE_LOCK` around
    this and the change it guards; the hash, if needed, must be known first (``known``, by stat
    key, from :func:`prepare_preconditions`, or the cache), so nothing is hashed under the lock."""
    st = where.lstat()
    if st is not None and not stat.S_ISREG(st.st_mode):
        kind = "a link" if stat.S_ISLNK(st.st_mode) else "a folder"
        raise ConflictError(f"{where.api_path!r} is {kind}")
    match, none_match = parse_etags(if_match), parse_etags(if_none_match)
    if match is None and none_match is None:
        return st
    current = None
    if st is not None:
        current = cache.lookup(where.real, st) or (known or {}).get(stat_key(st))
        if current is None:  # changed since it was hashed: hash again, outside the lock
            raise _Rehash
    if match is not None and (current is None or ("*" not in match and current not in match)):
        raise PreconditionFailedError(
            "If-Match failed: the file "
            + ("does not exist" if current is None else f"has sha256 {current}")
        )
    if (
        none_match is not None
        and current is not None
        and ("*" in none_match or current in none_match)
    ):
        raise PreconditionFailedError("If-None-Match failed: the file already exists")
    return st


class _Rehash(Exception):
    """The file changed between hashing and the locked check: hash it again."""


def prepare_preconditions(where: Location, cache: HashCache, *headers: str | None) -> dict:
    """{stat key: sha256} of the current file if ``If-Match``/``If-None-Match`` will need it
    and the cache does not know it (blocking for big files: call in a worker thread). A file
    written just now is hashed but not trusted by the cache (its "racy" rule), so the locked
    check takes the hash from here."""
    if any(h is not None for h in headers):
        st = where.lstat()
        if st is not None and stat.S_ISREG(st.st_mode) and cache.lookup(where.real, st) is None:
            try:
                return dict([_current_sha256(where, cache)])
            except FileNotFoundError:
                pass
    return {}


def locked(where: Location, cache: HashCache, if_match, if_none_match, change):
    """Run ``change(lstat)`` under :data:`REPLACE_LOCK` once the preconditions hold; a file
    changed meanwhile is hashed again outside the lock (at most a few rounds, then 409)."""
    for _ in range(5):
        known = prepare_preconditions(where, cache, if_match, if_none_match)
        try:
            with REPLACE_LOCK:
                current = check_preconditions(where, cache, if_match, if_none_match, known)
                return change(current)
        except _Rehash:
            continue
    raise ConflictError(f"{where.api_path!r} keeps changing; try again")


def precheck(where: Location, cache: HashCache, if_match, if_none_match) -> None:
    """412/409 now if the preconditions already fail (they are checked again at the change)."""
    locked(where, cache, if_match, if_none_match, lambda _: None)


def fsync_folder(fd: int) -> None:
    """Make a rename or mkdir in the folder ``fd`` durable."""
    os.fsync(fd)


@dataclass(frozen=True)
class WriteResult:
    """What a completed write produced (the JSON body of PUT files/)."""

    path: str
    size: int
    sha256: str
    created: bool

    def json(self) -> dict:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


def install(
    temp_fd: int, temp_folder: int, temp: str, target: Location, digest: str, *, cache: HashCache,
    mode: int | None = None, if_match: str | None = None, if_none_match: str | None = None,
    sync_folder: bool = True, recheck: bool = True,
) -> WriteResult:  # fmt: skip
    """Atomically make the fsynced temp file (open as ``temp_fd``, named ``temp`` in the folder
    ``temp_folder``) the target: create missing folders (and make them durable), check the
    preconditions, set the mode, rename on descriptors, fsync the folder. Only the check and the
    rename run under :data:`REPLACE_LOCK`, with the hash cache entry of the temp file's own inode
    recorded there too. The temp file is removed if it was not installed. ``recheck=False``
    only for a target walked just now (the walk is then the check; see
    :meth:`.fdpath.Location.check_in_place`)."""
    st = os.fstat(temp_fd)

    def replace(current: os.stat_result | None) -> bool:
        created = current is None
        os.fchmod(
            temp_fd,
            mode if mode is not None else DEFAULT_FILE_MODE if created else current.st_mode & 0o777,
        )
        if recheck:
            target.check_in_place()
        os.replace(temp, target.name, src_dir_fd=temp_folder, dst_dir_fd=target.fd)
        cache.store(target.real, st, digest, trusted=True)
        return created

    try:
        if target.missing:
            if parse_etags(if_match) is not None:  # nothing there to match: no folder made
                raise PreconditionFailedError("If-Match failed: the file does not exist")
            target.open_folders(sync=sync_folder)
        created = locked(target, cache, if_match, if_none_match, replace)
    except BaseException:
        try:
            os.unlink(temp, dir_fd=temp_folder)
        except FileNotFoundError:
            pass
        raise
    if sync_folder:
        fsync_folder(target.fd)
    return WriteResult(target.api_path, st.st_size, digest, created)


class AtomicWriter:
    """Streams a body into a temp file beside the target, hashing as it goes.

    The temp file lives in the target's folder (or its nearest existing ancestor, so nothing is
    created before the body is complete), created on that folder's descriptor. ``write`` per
    chunk, then ``sync`` and ``install``; or ``discard``. Over ``limit`` bytes, ``write`` raises
    413. The writer owns ``target`` (closed by ``install`` and ``discard``).
    """

    def __init__(self, target: Location, limit: int):
        self.target = target
        self.limit = limit
        self.size = 0
        self.mode: int | None = None
        self._digest = hashlib.sha256()
        self._hasher: ThreadPoolExecutor | None = None
        self._hashing: Future | None = None
        self._folder = os.dup(target.fd)  # the temp file's folder, even once ``target`` moves on
        self._fd, self.temp = create_temp(self._folder)
        self._synced = False

    def write(self, chunk: bytes) -> None:
        """Write ``chunk`` and hash it: a big chunk is hashed in the writer's own thread while
        it is written here (both release the GIL), the hash of one chunk at most in flight."""
        if self.size + len(chunk) > self.limit:
            raise RemoteDevError(f"body exceeds max_upload_size ({self.limit} bytes)", status=413)
        self._wait_hash()
        if len(chunk) >= HASH_APART:
            if self._hasher is None:
                self._hasher = ThreadPoolExecutor(1, thread_name_prefix="remote-dev-sha256")
            self._hashing = self._hasher.submit(self._digest.update, chunk)
        else:
            self._digest.update(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(self._fd, view) :]
        self.size += len(chunk)

    def _wait_hash(self) -> None:
        if self._hashing is not None:
            hashing, self._hashing = self._hashing, None
            hashing.result()

    @property
    def sha256(self) -> str:
        self._wait_hash()
        return self._digest.hexdigest()

    def sync(self) -> None:
        """fsync the temp file (may block; run off the event loop for big files)."""
        if not self._synced:
            os.fsync(self._fd)
            self._synced = True

    def install(
        self, cache: HashCache, expected_sha256: str | None = None, *, fsync: bool = True, **options
    ) -> WriteResult:
        """Check the body's hash against ``expected_sha256`` (400), then :func:`install`
        (``fsync=False`` when the caller made the temp file durable another way)."""
        try:
            if expected_sha256 is not None and expected_sha256 != self.sha256:
                raise RemoteDevError(
                    f"body sha256 {self.sha256} does not match the expected {expected_sha256}; "
                    "nothing was written"
                )
            if fsync:
                self.sync()
            return install(
                self._fd, self._folder, self.temp, self.target, self.sha256, cache=cache,
                **options,
            )  # fmt: skip
        finally:
            self.discard()

    def discard(self) -> None:
        """Drop the temp file if it is still there, and close everything (idempotent)."""
        if self._hasher is not None:
            self._hasher.shutdown(wait=True)
            self._hasher = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
            try:
                os.unlink(self.temp, dir_fd=self._folder)
            except FileNotFoundError:  # installed
                pass
            os.close(self._folder)
        self.target.close()


def open_for_read(root, api_path: str, allow_hidden: bool) -> tuple[int, os.stat_result, str]:
    """(fd, fstat, real path) of the regular file ``api_path``, links followed by the walk's
    rules; 404 missing, 400 a folder (naming ``tree/``). Stat, hash and body all come from this
    one descriptor, so they describe one version of the file."""
    for _ in range(3):
        with locate(root, api_path, allow_hidden=allow_hidden) as where:
            try:
                fd = os.open(where.name, OPEN_FILE, dir_fd=where.fd)
            except FileNotFoundError:
                raise NotFoundError(f"{api_path!r} does not exist") from None
            except OSError as error:
                if error.errno == errno.ELOOP:  # a link swapped in after the walk: walk again
                    continue
                raise
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                os.close(fd)
                if stat.S_ISDIR(st.st_mode):
                    raise RemoteDevError(f"{api_path!r} is a folder; list it with tree/{api_path}")
                raise RemoteDevError(f"{api_path!r} is not a regular file")
            return fd, st, where.real
    raise NotFoundError(f"{api_path!r} keeps being replaced by a link; try again")


def _refuse_git_inside(where: Location) -> None:
    """409 if the folder ``where`` holds a ``.git`` at any depth: a recursive delete would
    write into a repository's internals, which the file API never does."""
    fd = os.open(where.name, OPEN_DIR, dir_fd=where.fd)
    try:
        for top, folders, names, _ in os.fwalk(".", dir_fd=fd, follow_symlinks=False):
            found = next((n for n in (*folders, *names) if is_git_dir(n)), None)
            if found is not None:
                inside = os.path.normpath(os.path.join(top, found))
                raise ConflictError(
                    f"{where.api_path!r} holds a Git repository ({inside!r}); the file API never "
                    "deletes .git internals: remove it from a terminal"
                )
    finally:
        os.close(fd)


def delete(
    root, api_path: str, allow_hidden: bool, cache: HashCache, recursive: bool, if_match: str | None
) -> None:
    """Delete a file (``If-Match`` honoured), a link (the link itself, never its target), an empty
    folder or, with ``recursive``, a folder and everything in it without following any link
    (like ``rm -r``)."""
    with locate(root, api_path, allow_hidden=allow_hidden, follow_last=False) as where:
        st = where.lstat()
        if st is None:
            raise NotFoundError(f"{api_path!r} does not exist")
        if stat.S_ISDIR(st.st_mode):
            where.check_in_place()
            if recursive:
                _refuse_git_inside(where)
                shutil.rmtree(where.name, dir_fd=where.fd)  # on descriptors, following no link
            else:
                try:  # an empty folder goes without ?recursive=1, like rmdir
                    os.rmdir(where.name, dir_fd=where.fd)
                except OSError:
                    raise ConflictError(
                        f"{api_path!r} is a folder that is not empty; add ?recursive=1"
                    ) from None
        elif stat.S_ISLNK(st.st_mode):
            if if_match is not None:
                raise PreconditionFailedError(f"If-Match failed: {api_path!r} is a link")
            where.check_in_place()
            os.unlink(where.name, dir_fd=where.fd)
        else:

            def unlink(_):
                where.check_in_place()
                os.unlink(where.name, dir_fd=where.fd)

            locked(where, cache, if_match, None, unlink)
        cache.forget(where.real)
        fsync_folder(where.fd)

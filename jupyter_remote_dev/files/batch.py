"""Unpacking a POST batch tar: every member written, then all made durable, then each installed.

Three passes, so the fsyncs overlap instead of running one after another, and a batch that
fails as a whole (a broken stream, a cap passed) leaves nothing behind, not even a folder:

1. each file member is streamed to a temp file in its target folder (or the nearest existing
   ancestor), on that folder's descriptor;
2. the temp files are fsynced in bursts, each burst of up to 256 written first and then synced
   together by a pool of threads (:class:`Flusher`), so the batch holds at most that many
   descriptors however many members it has;
3. each member is walked again from the root, checked (``If-Match``, sha256) and renamed into
   place, folders created on descriptors as needed; the folders that changed are fsynced
   together at the end, which makes the renames durable.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from dataclasses import dataclass

from ..errors import ConflictError, NotFoundError, RemoteDevError
from .fdcache import FolderWalks
from .fdpath import OPEN_FILE, Location, explain_hidden, locate, open_physical, open_root
from .fileio import create_temp, install
from .headers import parse_sha256
from .manifest import HashCache

PAX_PREFIX = "REMOTE_DEV."
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class BatchLimits:
    """Caps of one batch: bytes per file, members, and bytes unpacked in total (413 past them)."""

    file_size: int
    members: int
    expanded_size: int


@dataclass
class Pending:
    """A file member written to its temp file, waiting for pass 3."""

    index: int
    path: str
    folder: str
    """Real path of the temp file's folder relative to the root."""
    temp: str
    digest: str
    mode: int
    pax: dict


def _failure(path: str, error: Exception) -> dict:
    error = explain_hidden(error)
    status = getattr(error, "status", 400 if isinstance(error, ValueError) else 500)
    return {"path": path, "status": status, "message": getattr(error, "message", str(error))}


class Flusher:
    """fsyncs many files and folders together: a pool of threads, so the file system can group
    them into few journal commits, and only our own files wait (a ``syncfs`` would also wait
    for every other writer's dirty data on a shared disk).

    Descriptors handed in are held, at most ``HELD`` at a time, and fsynced in one burst when
    that many are held or at :meth:`wait`: files created while other threads fsync wait for each
    journal commit, so writing a burst and then syncing it is faster than syncing beside the
    writes (benchmarks/RESULTS.md, "Speed round")."""

    THREADS = 16
    HELD = 256

    def __init__(self):
        self._pool = ThreadPoolExecutor(self.THREADS, thread_name_prefix="remote-dev-fsync")
        self._held: list[int] = []

    def sync_and_close(self, fd: int) -> None:
        """fsync then close ``fd`` with the next burst (it is the flusher's from now on)."""
        self._held.append(fd)
        if len(self._held) >= self.HELD:
            self.wait()

    def sync_folders(self, root_fd: int, folders: set[str]) -> None:
        """fsync the folders (real paths relative to the root); one gone meanwhile is skipped."""
        for folder in folders:
            try:
                fd = open_physical(root_fd, folder)
            except NotFoundError:
                continue
            self.sync_and_close(fd)

    def wait(self) -> None:
        """fsync and close every descriptor held; re-raise the first failure."""
        held, self._held = self._held, []
        futures = [self._pool.submit(os.fsync, fd) for fd in held]
        wait_all(futures)
        for fd in held:
            os.close(fd)
        for future in futures:
            future.result()

    def close(self) -> None:
        """Close what is still held without syncing it, and stop the threads."""
        held, self._held = self._held, []
        for fd in held:
            os.close(fd)
        self._pool.shutdown(wait=True)


def unpack(
    spool, root: str, base: str, allow_hidden: bool, cache: HashCache, limits: BatchLimits
) -> list[dict]:
    """Write every member of the tar in ``spool`` under ``root``/``base``; one result per member.
    413 (nothing kept) past ``limits``; 400 (nothing kept) for a stream that is not a tar."""
    root_fd = open_root(root)
    pending: list[Pending] = []
    flusher = Flusher()
    walks = FolderWalks(root, allow_hidden, root_fd)
    try:
        try:
            results, folders = _write_members(spool, base, limits, pending, walks, flusher)
            flusher.wait()
        except BaseException:
            flusher.close()
            for item in pending:  # no temp file of a member stays behind
                _drop_temp(root_fd, item)
            raise
        walks.close()  # pass 3 walks again: the folders may have moved meanwhile
        touched: set[str] = set()
        for index, path in folders:
            results[index] = _make_folder(root, path, allow_hidden, root_fd, touched)
        for item in pending:
            results[item.index] = _install(cache, walks, item, touched)
        flusher.sync_folders(root_fd, touched)
        flusher.wait()
    finally:
        walks.close()
        flusher.close()
        os.close(root_fd)
    return results


def _touch(touched: set[str], physical: list[str], created_from: int | None) -> None:
    """Remember the folder that got a new entry, and the parents of folders created from the
    depth ``created_from`` on (each got a new entry too)."""
    touched.add("/".join(physical))
    if created_from is not None:
        for depth in range(created_from, len(physical)):
            touched.add("/".join(physical[:depth]))


def _write_members(spool, base, limits, pending, walks: FolderWalks, flusher):
    """Pass 1: (results with None for members still to install, folder members to create)."""
    results: list[dict | None] = []
    folders: list[tuple[int, str]] = []
    expanded = 0
    try:
        with tarfile.open(fileobj=spool, mode="r:*") as archive:
            for member in archive:
                name = member.name.removeprefix("./").rstrip("/")
                if name in ("", "."):
                    continue
                if len(results) >= limits.members:
                    raise RemoteDevError(
                        f"the batch has more than {limits.members} members "
                        "(batch_max_files); nothing was written",
                        status=413,
                    )
                expanded += member.size if member.isfile() else 0
                if expanded > limits.expanded_size:
                    raise RemoteDevError(
                        f"the batch unpacks to more than {limits.expanded_size} bytes "
                        "(batch_max_expanded_size); nothing was written",
                        status=413,
                    )
                results.append(None)
                path = f"{base}/{name}" if base else name
                try:
                    if member.isdir():
                        folders.append((len(results) - 1, path))
                    elif not member.isfile():
                        raise RemoteDevError("only regular files and folders are accepted")
                    else:
                        index = len(results) - 1
                        pending.append(
                            _write_member(archive, member, path, limits, index, walks, flusher)
                        )
                except (RemoteDevError, OSError, ValueError) as error:
                    results[-1] = _failure(name, error)
    except (tarfile.TarError, EOFError, zlib.error) as error:  # e.g. a truncated gzip
        raise RemoteDevError(f"the body is not a readable tar stream: {error}") from None
    return results, folders


def _write_member(archive, member, path, limits, index, walks: FolderWalks, flusher) -> Pending:
    if member.size > limits.file_size:
        raise RemoteDevError(f"larger than max_upload_size ({limits.file_size} bytes)", 413)
    with walks.locate(path) as at:
        fd, temp = create_temp(at.fd)
        digest = hashlib.sha256()
        try:
            source = archive.extractfile(member)
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
        except BaseException:
            os.unlink(temp, dir_fd=at.fd)
            os.close(fd)
            raise
        flusher.sync_and_close(fd)
        folder = "/".join(at.physical)
    return Pending(index, path, folder, temp, digest.hexdigest(), member.mode & 0o777,
                   member.pax_headers)  # fmt: skip


def _drop_temp(root_fd: int, item: Pending) -> None:
    try:
        folder = open_physical(root_fd, item.folder)
    except NotFoundError:
        return
    try:
        os.unlink(item.temp, dir_fd=folder)
    except FileNotFoundError:
        pass
    finally:
        os.close(folder)


def _make_folder(root: str, path: str, allow_hidden: bool, root_fd: int, touched) -> dict:
    try:
        with locate(root, path, allow_hidden=allow_hidden, may_be_missing=True,
                    root_fd=root_fd) as at:  # fmt: skip
            st = at.lstat()
            existed = st is not None
            if not existed:
                created_from = len(at.physical)
                at.missing.append(at.name)
                at.open_folders(sync=False)
                _touch(touched, at.physical, created_from)
            elif not stat.S_ISDIR(st.st_mode):
                raise RemoteDevError(f"{path!r} is a file, not a folder", status=409)
    except (RemoteDevError, OSError) as error:
        return _failure(path, error)
    return {"path": path, "status": 200 if existed else 201, "folder": True}


def _install(cache, walks: FolderWalks, item: Pending, touched) -> dict:
    """Pass 3 for one file: checks, then the rename (the target's folder re-checked just
    before it: the walk may be the batch's earlier one); its result."""
    target: Location | None = None
    folder = temp_fd = -1
    try:
        try:
            folder = walks.open_physical(item.folder)
            temp_fd = os.open(item.temp, OPEN_FILE, dir_fd=folder)
        except (NotFoundError, FileNotFoundError):
            raise ConflictError(
                f"a folder of {item.path!r} was moved or replaced during the request; "
                "nothing was changed"
            ) from None
        expected = parse_sha256(item.pax.get(f"{PAX_PREFIX}sha256"), f"{PAX_PREFIX}sha256")
        if expected is not None and expected != item.digest:
            raise RemoteDevError(
                f"body sha256 {item.digest} does not match the expected {expected}; "
                "nothing was written"
            )
        target = walks.locate(item.path)
        created_from = len(target.physical) if target.missing else None
        if_match = item.pax.get(f"{PAX_PREFIX}if_match")
        if_none_match = item.pax.get(f"{PAX_PREFIX}if_none_match")
        result = install(
            temp_fd, folder, item.temp, target, item.digest, cache=cache, mode=item.mode,
            if_match=if_match, if_none_match=if_none_match, sync_folder=False, recheck=True,
        )  # fmt: skip
        walks.learn(item.path, target)
        _touch(touched, target.physical, created_from)
        return {**result.json(), "status": 201 if result.created else 200}
    except (RemoteDevError, OSError) as error:
        _drop_temp(walks.root_fd, item)
        return _failure(item.path, error)
    finally:
        for fd in (temp_fd, folder):
            if fd >= 0:
                os.close(fd)
        if target is not None:
            target.close()

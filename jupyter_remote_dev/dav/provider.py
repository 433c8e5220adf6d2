"""wsgidav's resources on the files/ layer: every access walks descriptors from the root.

wsgidav runs the protocol (PROPFIND, PROPPATCH, LOCK, ``If`` headers, COPY/MOVE with ``Depth``
and ``Overwrite``); what it does to files goes through :mod:`..files.fdpath` and
:mod:`..files.fileio`, so the drive keeps the file API's promises: atomic writes (temp, fsync,
rename), the sha256 as ETag, links followed only while they stay inside the root, the dot-file
policy, and ``.git/`` internals never written. Nothing here knows about tornado.
"""

from __future__ import annotations

import errno
import fnmatch
import functools
import os
import stat
import weakref
from contextlib import contextmanager

from wsgidav import util
from wsgidav.dav_error import HTTP_FORBIDDEN, DAVError
from wsgidav.dav_provider import DAVCollection, DAVNonCollection, DAVProvider

from ..errors import NotFoundError, RemoteDevError
from ..files.fdpath import OPEN_DIR, is_git_dir, locate, open_folder, real_root
from ..files.fileio import AtomicWriter, delete, fsync_folder, open_for_read
from ..files.manifest import TEMP_PATTERNS, HashCache

COPY_CHUNK = 1024 * 1024
OS_STATUS = {
    errno.EACCES: 403,
    errno.EPERM: 403,
    errno.ENOENT: 409,
    errno.ENOTDIR: 409,
    errno.EISDIR: 409,
    errno.EEXIST: 405,
    errno.ENOTEMPTY: 409,
    errno.ENAMETOOLONG: 400,
    errno.ELOOP: 400,
    errno.EXDEV: 502,
}
"""File system refusals that are about the request, answered as client errors."""


@contextmanager
def dav_errors():
    """Our domain errors and refused system calls as wsgidav's ``DAVError`` (status kept)."""
    try:
        yield
    except RemoteDevError as error:
        raise DAVError(error.status, context_info=error.message) from error
    except OSError as error:
        status = OS_STATUS.get(error.errno)
        if status is None:
            raise
        raise DAVError(status, context_info=error.strerror) from error


def check_writable(api_path: str) -> None:
    """403 for anything under (or being) a ``.git`` folder: its internals are never written."""
    if ".git" in api_path.split("/"):
        raise DAVError(HTTP_FORBIDDEN, context_info=f"{api_path!r}: .git internals are read-only")


@functools.lru_cache(maxsize=1024)
def mime_type(suffixes: str) -> str:
    """wsgidav's content type for a name ending in ``suffixes`` (the last two: ``.tar.gz``)."""
    return util.guess_mime_type("x" + suffixes, {"default_charset": "utf-8"})


def is_temp(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in TEMP_PATTERNS)


class RootProvider(DAVProvider):
    """The server root as one WebDAV share."""

    def __init__(self, root: str, *, cache: HashCache, allow_hidden: bool, max_size: int):
        super().__init__()
        self.root = real_root(os.fspath(root))
        self.cache = cache
        self.allow_hidden = allow_hidden
        self.max_size = max_size

    def __repr__(self):
        return f"RootProvider({self.root!r})"

    def get_resource_inst(self, path: str, environ: dict):
        api = path.strip("/")
        if not api:
            return Folder("/", environ, "", self.root, os.stat(self.root))
        with dav_errors():
            try:
                where = locate(self.root, api, allow_hidden=self.allow_hidden)
            except NotFoundError:
                return None
            with where:
                try:
                    st = os.stat(where.name, dir_fd=where.fd, follow_symlinks=False)
                except FileNotFoundError:
                    return None
            return self.resource(path, environ, api, where.real, st)

    def resource(self, path: str, environ: dict, api: str, real: str, st: os.stat_result):
        """The resource for an entry already walked to (None for anything but files and
        folders); a GET or HEAD of a file holds one descriptor for stat, hash and body."""
        if stat.S_ISDIR(st.st_mode):
            return Folder(path, environ, api, real, st)
        if not stat.S_ISREG(st.st_mode):
            return None
        target = environ.get("PATH_INFO", "").strip("/") == api
        if target and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            with dav_errors():
                fd, st, real = open_for_read(self.root, api, self.allow_hidden)
            return File(path, environ, api, real, st, fd)
        return File(path, environ, api, real, st)

    def writer(self, api: str, **options) -> AtomicWriter:
        """An atomic writer for the file ``api`` (its folder must exist)."""
        check_writable(api)
        with dav_errors():
            target = locate(self.root, api, allow_hidden=self.allow_hidden, may_be_missing=True)
            if target.missing:
                target.close()
                raise DAVError(409, context_info=f"the folder of {api!r} does not exist")
            try:
                return AtomicWriter(target, self.max_size)
            except BaseException:
                target.close()
                raise


class Resource:
    """What files and folders share: the request-relative ``api`` path and the entry's stat."""

    def __init__(self, path: str, environ: dict, api: str, real: str, st: os.stat_result | None):
        super().__init__(path, environ)
        self.api = api
        self.real = real
        self.st = st
        self.name = api.rsplit("/", 1)[-1]

    def get_creation_date(self):
        return self.st.st_ctime

    def get_last_modified(self):
        return self.st.st_mtime

    def get_display_name(self):
        return self.name

    def delete(self):
        check_writable(self.api)
        provider = self.provider
        with dav_errors():
            delete(provider.root, self.api, provider.allow_hidden, provider.cache,
                   self.is_collection, None)  # fmt: skip
        self.remove_all_properties(recursive=True)
        self.remove_all_locks(recursive=True)

    def support_recursive_move(self, dest_path):
        return True

    def move_recursive(self, dest_path):
        """A rename on descriptors (a link is moved as a link); nothing is copied."""
        dest = dest_path.strip("/")
        check_writable(self.api)
        check_writable(dest)
        provider = self.provider
        options = {"allow_hidden": provider.allow_hidden, "follow_last": False}
        with dav_errors():
            with locate(provider.root, self.api, **options) as source:
                with locate(provider.root, dest, may_be_missing=True, **options) as target:
                    if target.missing:
                        raise DAVError(409, context_info=f"the folder of {dest!r} does not exist")
                    source.check_in_place()
                    target.check_in_place()
                    os.rename(source.name, target.name, src_dir_fd=source.fd,
                              dst_dir_fd=target.fd)  # fmt: skip
                    provider.cache.forget(source.real)
                    fsync_folder(source.fd)
                    fsync_folder(target.fd)
        self._move_properties(dest_path, with_children=True)

    def _move_properties(self, dest_path: str, with_children: bool) -> None:
        manager = self.provider.prop_manager
        if manager:
            dest = self.provider.get_resource_inst(dest_path, self.environ)
            manager.move_properties(
                self.get_ref_url(), dest.get_ref_url(), with_children=with_children,
                environ=self.environ,
            )  # fmt: skip

    def _copy_properties(self, dest_path: str) -> None:
        manager = self.provider.prop_manager
        if manager:
            dest = self.provider.get_resource_inst(dest_path, self.environ)
            manager.copy_properties(self.get_ref_url(), dest.get_ref_url(), self.environ)


class File(Resource, DAVNonCollection):
    """A regular file; its ETag is the sha256 the file API reports."""

    def __init__(self, path, environ, api, real, st, fd: int | None = None):
        super().__init__(path, environ, api, real, st)
        self.fd = fd
        if fd is not None:
            weakref.finalize(self, os.close, fd)
        self.writer: AtomicWriter | None = None
        self._etag: str | None = None

    def get_content_length(self):
        return self.st.st_size

    def get_content_type(self):
        suffixes = self.name.lower().lstrip(".").split(".")[1:][-2:]  # "a.tar.gz": tar, gz
        return mime_type("".join("." + suffix for suffix in suffixes))

    def support_etag(self):
        return True

    def support_ranges(self):
        return True

    def get_etag(self):
        """From the cache while the stat key holds; else hashed from a descriptor (the one the
        body is sent from, for a GET)."""
        cache = self.provider.cache
        if self._etag is None and self.fd is not None:
            self._etag = cache.sha256_fd(self.real, self.fd, self.st)
        if self._etag is None:
            self._etag = cache.lookup(self.real, self.st)
        if self._etag is None:
            provider = self.provider
            with dav_errors():
                fd, st, self.real = open_for_read(provider.root, self.api, provider.allow_hidden)
            try:
                self.st, self._etag = st, cache.sha256_fd(self.real, fd, st)
            finally:
                os.close(fd)
        return self._etag

    def get_content(self):
        if self.fd is None:  # a COPY reads from a descriptor of its own
            with dav_errors():
                fd, self.st, _ = open_for_read(
                    self.provider.root, self.api, self.provider.allow_hidden
                )
            return open(fd, "rb", buffering=0)
        return open(os.dup(self.fd), "rb", buffering=0)

    def begin_write(self, *, content_type=None):
        self.writer = self.provider.writer(self.api)
        return WriteStream(self.writer)

    def end_write(self, *, with_errors):
        writer, self.writer = self.writer, None
        if writer is None:  # begin_write refused
            return
        if with_errors:
            writer.discard()
            return
        headers = self.environ
        with dav_errors():
            writer.sync()
            result = writer.install(
                self.provider.cache,
                if_match=headers.get("HTTP_IF_MATCH"),
                if_none_match=headers.get("HTTP_IF_NONE_MATCH"),
            )
        self._etag = result.sha256

    def copy_move_single(self, dest_path, *, is_move):
        """Copy the bytes into an atomic write of the destination (hashed on the way)."""
        writer = self.provider.writer(dest_path.strip("/"))
        try:
            with self.get_content() as source:
                while chunk := source.read(COPY_CHUNK):
                    writer.write(chunk)
            with dav_errors():
                writer.install(self.provider.cache)
        finally:
            writer.discard()
        if is_move:
            self._move_properties(dest_path, with_children=False)
        else:
            self._copy_properties(dest_path)


class WriteStream:
    """The file object wsgidav writes a PUT body to: chunks into an :class:`AtomicWriter`."""

    def __init__(self, writer: AtomicWriter):
        self.writer = writer

    def write(self, chunk: bytes) -> None:
        with dav_errors():
            self.writer.write(chunk)

    def close(self) -> None:
        """Nothing yet: ``end_write`` installs the file or discards it."""


class Folder(Resource, DAVCollection):
    """A folder; members are listed from one ``scandir`` of its descriptor."""

    def get_etag(self):
        return None

    def get_member_names(self):
        return [member.name for member in self.get_member_list()]

    def get_member(self, name):
        return self.provider.get_resource_inst(util.join_uri(self.path, name), self.environ)

    def get_member_list(self):
        """Files and folders, hidden names only if allowed, ``.git`` and our temp files never; a
        link only if it leads to a file or folder inside the root (by the walk's rules)."""
        provider, members = self.provider, []
        with dav_errors():
            fd, real = open_folder(provider.root, self.api, allow_hidden=provider.allow_hidden)
        try:
            with os.scandir(fd) as entries:
                listed = list(entries)
            for entry in listed:
                name = entry.name
                hidden = name.startswith(".") and not provider.allow_hidden
                if hidden or is_git_dir(name) or is_temp(name):
                    continue
                api = f"{self.api}/{name}" if self.api else name
                path = util.join_uri(self.path, name)
                try:
                    if entry.is_symlink():
                        member = provider.get_resource_inst(path, self.environ)
                    else:
                        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                        member = provider.resource(
                            path, self.environ, api, os.path.join(real, name), st
                        )
                except (DAVError, FileNotFoundError):  # a link out, or gone meanwhile
                    continue
                if member is not None:
                    members.append(member)
        finally:
            os.close(fd)
        return members

    def create_empty_resource(self, name):
        """A PUT's new file appears only once its body is complete (atomic rename); a LOCK of
        an unmapped URL makes an empty file now, the same atomic way."""
        api = f"{self.api}/{name}" if self.api else name
        path = util.join_uri(self.path, name)
        if self.environ.get("REQUEST_METHOD") == "PUT":
            check_writable(api)
            return File(path, self.environ, api, os.path.join(self.real, name), None)
        writer = self.provider.writer(api)
        with dav_errors():
            writer.install(self.provider.cache, if_none_match="*")
        return self.provider.get_resource_inst(path, self.environ)

    def create_collection(self, name):
        api = f"{self.api}/{name}" if self.api else name
        self._make_folder(api, exist_ok=False)

    def _make_folder(self, api: str, exist_ok: bool) -> None:
        """Create the folder ``api`` on descriptors, its parent checked still in place (409 if it
        is missing or moved; with ``exist_ok`` a folder already there is kept, anything else
        there is a 409) and make it durable."""
        check_writable(api)
        provider = self.provider
        with dav_errors():
            with locate(provider.root, api, allow_hidden=provider.allow_hidden,
                        may_be_missing=True, follow_last=False) as where:  # fmt: skip
                if where.missing:
                    raise DAVError(409, context_info=f"the folder of {api!r} does not exist")
                where.check_in_place()
                try:
                    os.mkdir(where.name, dir_fd=where.fd)
                except FileExistsError:
                    if not exist_ok:
                        raise
                    os.close(os.open(where.name, OPEN_DIR, dir_fd=where.fd))  # a folder, or 409
                fsync_folder(where.fd)

    def handle_copy(self, dest_path, *, depth_infinity):
        """COPY with ``Depth: 0``: the folder and its properties alone (wsgidav would copy the
        members too); ``infinity`` is left to wsgidav."""
        if depth_infinity:
            return False
        dest = self.provider.get_resource_inst(dest_path, self.environ)
        if dest is not None:  # Overwrite: T was checked by wsgidav
            dest.delete()
        self.copy_move_single(dest_path, is_move=False)
        return True

    def copy_move_single(self, dest_path, *, is_move):
        """The folder alone (wsgidav copies its members one by one)."""
        self._make_folder(dest_path.strip("/"), exist_ok=True)
        if is_move:
            self._move_properties(dest_path, with_children=False)
        else:
            self._copy_properties(dest_path)

"""Request paths under the server root, checked and then walked on directory descriptors.

Every component is opened with ``O_NOFOLLOW | O_DIRECTORY`` relative to the descriptor of the
folder above it, starting from a descriptor of the root, so a symlink swapped in anywhere along
the way can never lead a read, write or delete out of the root. Links that were there before
are followed one hop at a time, by the same walk, and only while every hop stays inside the root
(and out of hidden folders unless they are allowed, and always out of ``.git``); ``..`` in a
link target climbs the folders actually walked, never above the root. Nothing here knows about
tornado.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from dataclasses import dataclass, field
from urllib.parse import unquote

from ..errors import ConflictError, HiddenPathError, NotFoundError, PathError

MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096
MAX_LINK_HOPS = 40
"""Symlinks followed in one walk before it is called a loop (Linux's own limit)."""
OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_git_dir(name: str) -> bool:
    """``.git`` in any case (a repository's internals, or a worktree's gitfile)."""
    return name.casefold() == ".git"


def _refuse_name(part: str, allow_hidden: bool, api_path: str | None = None) -> None:
    """403 for ``.git`` always, and for any other dot-name unless ``allow_hidden``."""
    via = f"{api_path!r} resolves to " if api_path is not None else ""
    if is_git_dir(part):
        raise PathError(f"{via}{part!r}: .git internals are never reachable here", status=403)
    if part.startswith(".") and not allow_hidden:
        raise HiddenPathError(
            f"{via}a hidden file: {part!r}" if via else f"hidden files are not allowed: {part!r}"
        )


def _check_component(part: str, allow_hidden: bool) -> None:
    if part == "":
        raise PathError("empty path component (doubled or trailing '/')")
    if part in (".", ".."):
        raise PathError(f"'{part}' is not allowed in paths")
    if _DRIVE.match(part):
        raise PathError(f"Windows drive letters are not allowed: {part!r}")
    if _CONTROL.search(part):
        raise PathError(f"control characters are not allowed in names: {part!r}")
    if len(part.encode("utf-8")) > MAX_NAME_BYTES:
        raise PathError(f"name longer than {MAX_NAME_BYTES} bytes: {part[:40]!r}...")
    decoded = part
    for _ in range(3):  # a proxy or client that decodes again must not see a traversal
        decoded, previous = unquote(decoded), decoded
        if decoded == previous:
            break
        if decoded in (".", "..") or any(c in decoded for c in "/\\\x00"):
            raise PathError(f"percent-encoded traversal in {part!r}")
    _refuse_name(part, allow_hidden)


def split_path(api_path: str, allow_hidden: bool) -> list[str]:
    """The checked components of a request path (400 malformed, 403 hidden); ``[]`` for root."""
    if "\x00" in api_path:
        raise PathError("NUL byte in path")
    try:
        encoded = api_path.encode("utf-8")
    except UnicodeEncodeError:
        raise PathError("the path is not valid UTF-8 (lone surrogate)") from None
    if "\\" in api_path:
        raise PathError("backslashes are not allowed in paths; use '/'")
    if api_path.startswith("/"):
        raise PathError("absolute paths are not allowed; paths are relative to the server root")
    if len(encoded) > MAX_PATH_BYTES:
        raise PathError(f"path longer than {MAX_PATH_BYTES} bytes")
    if api_path == "":
        return []
    parts = api_path.split("/")
    for part in parts:
        _check_component(part, allow_hidden)
    return parts


@functools.lru_cache(maxsize=8)
def real_root(root: str) -> str:
    return os.path.realpath(root)


def open_root(root: str | os.PathLike) -> int:
    """A descriptor of the server root (the caller closes it)."""
    return os.open(real_root(os.fspath(root)), OPEN_DIR & ~os.O_NOFOLLOW)


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except FileNotFoundError:
        return False


@dataclass
class Location:
    """Where a request path lands: ``name`` inside the open folder ``fd``.

    ``missing`` are folders of the request path that do not exist yet, between ``fd`` and
    ``name`` (a write creates them, on descriptors, only when it installs). ``physical`` are the
    folders actually walked from the root to ``fd``. Close it (or use ``with``).
    """

    api_path: str
    root: str
    fd: int
    physical: list[str]
    name: str
    missing: list[str] = field(default_factory=list)
    root_fd: int = -1
    """A descriptor of the root lent by the caller (not closed here), or -1."""

    @property
    def folder_path(self) -> str:
        """The real path of ``fd`` (for messages, cache keys and exec's ``cwd``)."""
        return os.path.join(self.root, *self.physical)

    @property
    def real(self) -> str:
        """The real path this location names (``missing`` folders included)."""
        return os.path.join(self.root, *self.physical, *self.missing, self.name)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Location:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def lstat(self) -> os.stat_result | None:
        """The entry ``name`` itself (a link is not followed), or None if absent."""
        if self.missing:
            return None
        try:
            return os.stat(self.name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def check_in_place(self) -> None:
        """409 unless the folder ``fd`` is still where the walk found it (its real path, walked
        again from the root with no link followed, reaches the same folder): a folder moved out
        of the root, or replaced by a link, since the walk must not receive the change."""
        root = self.root_fd if self.root_fd >= 0 else open_root(self.root)
        try:
            again = open_physical(root, "/".join(self.physical))
        except NotFoundError:
            again = -1
        finally:
            if root != self.root_fd:
                os.close(root)
        try:
            here = os.fstat(self.fd)
            same = again >= 0 and _same_file(os.fstat(again), here)
        finally:
            if again >= 0:
                os.close(again)
        if not same:
            raise ConflictError(
                f"a folder of {self.api_path!r} was moved or replaced during the request; "
                "nothing was changed"
            )

    def open_folders(self, sync: bool = True) -> int:
        """Create the ``missing`` folders one by one on descriptors (each new entry fsynced when
        ``sync``); the fd of the last, owned by this location from now on. A folder another
        writer made meanwhile is used; a file or a link there is a 409."""
        for part in self.missing:
            try:
                os.mkdir(part, dir_fd=self.fd)
                if sync:
                    os.fsync(self.fd)
            except FileExistsError:
                pass
            try:
                child = os.open(part, OPEN_DIR, dir_fd=self.fd)
            except (NotADirectoryError, FileNotFoundError):  # a file, or a link swapped in
                raise ConflictError(f"{part!r} in {self.api_path!r} is not a folder") from None
            os.close(self.fd)
            self.fd = child
            self.physical.append(part)
        self.missing = []
        return self.fd


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _escape(api_path: str) -> PathError:
    return PathError(f"{api_path!r} resolves outside the server root", status=403)


def locate(
    root: str | os.PathLike,
    api_path: str,
    *,
    allow_hidden: bool = False,
    follow_last: bool = True,
    may_be_missing: bool = False,
    root_fd: int | None = None,
) -> Location:
    """Walk ``api_path`` (``""``: the root's own folder entry is not addressable, so callers
    use :func:`open_folder` for it) on descriptors from the root.

    Links are followed hop by hop while they stay inside the root; the last component only when
    ``follow_last``. A missing folder on the way is a 404 unless ``may_be_missing`` (a write that
    creates it). A file where a folder is needed is a 409. The path must be non-empty.
    """
    parts = split_path(api_path, allow_hidden)
    if not parts:
        raise PathError("a file path is required")
    root_real = real_root(os.fspath(root))
    fd = os.dup(root_fd) if root_fd is not None else open_root(root_real)
    stack: list[tuple[int, str]] = []  # (fd, name) of the folders walked below the root
    pending = list(reversed(parts))
    hops = 0

    def current() -> int:
        return stack[-1][0] if stack else fd

    def follow(name: str) -> None:
        nonlocal hops
        hops += 1
        if hops > MAX_LINK_HOPS:
            raise PathError(f"{api_path!r} goes through a symlink loop")
        target = os.readlink(name, dir_fd=current())
        if target.startswith("/"):
            inside = os.path.relpath(target, root_real)
            if target != root_real and not target.startswith(root_real.rstrip("/") + "/"):
                raise _escape(api_path)
            while stack:  # an absolute link inside the root walks again from the root
                os.close(stack.pop()[0])
            target = "" if inside == "." else inside
        pending.extend(reversed([p for p in target.split("/") if p not in ("", ".")]))

    try:
        while pending:
            part = pending.pop()
            if part == "..":
                if not stack:
                    raise _escape(api_path)
                os.close(stack.pop()[0])
                continue
            _refuse_name(part, allow_hidden, api_path)
            if not pending:  # the last component
                try:
                    st = os.stat(part, dir_fd=current(), follow_symlinks=False)
                except FileNotFoundError:
                    st = None
                if st is not None and stat.S_ISLNK(st.st_mode) and follow_last:
                    follow(part)
                    continue
                return _located(api_path, root_real, fd, stack, part, [], root_fd)
            try:
                stack.append((os.open(part, OPEN_DIR, dir_fd=current()), part))
            except FileNotFoundError:
                if not may_be_missing:
                    raise NotFoundError(f"{api_path!r}: folder {part!r} does not exist") from None
                missing = [part, *reversed(pending[1:])]
                if any(
                    p == ".." or is_git_dir(p) or (p.startswith(".") and not allow_hidden)
                    for p in pending
                ):
                    raise PathError(
                        f"{api_path!r} goes through a link into a folder that does not exist",
                        status=403,
                    ) from None
                return _located(api_path, root_real, fd, stack, pending[0], missing, root_fd)
            except NotADirectoryError:  # O_NOFOLLOW | O_DIRECTORY on a link: ENOTDIR too
                if not _is_link(part, current()):
                    error = ConflictError if may_be_missing else NotFoundError  # write or read
                    raise error(f"{api_path!r}: {part!r} is a file, not a folder") from None
                follow(part)
        # only links and '..' were left: the path names a folder reached through them
        if not stack:
            raise PathError(f"{api_path!r} is the server root, not a file")
        top, name = stack.pop()
        os.close(top)
        return _located(api_path, root_real, fd, stack, name, [], root_fd)
    except BaseException:
        for folder, _ in stack:
            os.close(folder)
        os.close(fd)
        raise


def _located(api_path, root_real, root_fd, stack, name, missing, lent_root) -> Location:
    """The Location owning the innermost folder's fd; every other fd is closed."""
    physical = [folder_name for _, folder_name in stack]
    folder = stack.pop()[0] if stack else root_fd
    for other, _ in stack:
        os.close(other)
    if folder != root_fd:
        os.close(root_fd)
    stack.clear()
    lent = -1 if lent_root is None else lent_root
    return Location(api_path, root_real, folder, physical, name, missing, lent)


def open_folder(
    root: str | os.PathLike, api_path: str, *, allow_hidden: bool = False
) -> tuple[int, str]:
    """(fd, real path) of the existing folder ``api_path`` (``""``: the root), links followed by
    :func:`locate`'s rules; 404 if it is missing or not a folder. The caller closes the fd."""
    if not split_path(api_path, allow_hidden):
        root_real = real_root(os.fspath(root))
        return open_root(root_real), root_real
    with locate(root, api_path, allow_hidden=allow_hidden) as where:
        try:
            return os.open(where.name, OPEN_DIR, dir_fd=where.fd), where.real
        except (FileNotFoundError, NotADirectoryError):  # a link here was swapped in just now
            raise NotFoundError(f"{api_path!r} is not a folder under the server root") from None


def open_physical(root_fd: int, relative: str) -> int:
    """The folder at the real path ``relative`` under the root (as recorded by an earlier walk),
    opened with no link followed at all; 404 if any component is missing, a file or a link."""
    fd = os.dup(root_fd)
    for part in [p for p in relative.split("/") if p]:
        try:
            child = os.open(part, OPEN_DIR, dir_fd=fd)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFoundError(f"folder {relative!r} is gone or was replaced") from None
        finally:
            os.close(fd)
        fd = child
    return fd

"""Safe paths under the server root, atomic streamed writes, conditional requests and ranges.

Nothing here knows about tornado: handlers translate HTTP into these calls and
:class:`~jupyter_remote_dev.errors.RemoteDevError` subclasses back into status codes.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import re
import shutil
import stat
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from ..errors import (
    ConflictError,
    NotFoundError,
    PathError,
    PreconditionFailedError,
    RemoteDevError,
)
from .manifest import HashCache

MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096
TEMP_PREFIX = ".~remote-dev-"
"""Temp files start with this and end in ``.tmp`` (or ``.part``); manifests never list them."""
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
REPLACE_LOCK = threading.Lock()
"""Held while a precondition is checked and the file replaced, so the pair is atomic."""


def _default_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


DEFAULT_FILE_MODE = _default_mode()


@dataclass(frozen=True)
class ResolvedPath:
    """A request path checked to stay inside the root."""

    api_path: str
    """Normalised POSIX path relative to the root (``""`` for the root itself)."""
    real: Path
    """Absolute path with symlinks resolved; inside the root."""


def _check_component(part: str, allow_hidden: bool) -> None:
    if part == "":
        raise PathError("empty path component (doubled or trailing '/')")
    if part in (".", ".."):
        raise PathError(f"'{part}' is not allowed in paths")
    if _DRIVE.match(part):
        raise PathError(f"Windows drive letters are not allowed: {part!r}")
    if _CONTROL.search(part):
        raise PathError(f"control characters are not allowed in names: {part!r}")
    if len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        raise PathError(f"name longer than {MAX_NAME_BYTES} bytes: {part[:40]!r}...")
    decoded = part
    for _ in range(3):  # a proxy or client that decodes again must not see a traversal
        decoded, previous = unquote(decoded), decoded
        if decoded == previous:
            break
        if decoded in (".", "..") or any(c in decoded for c in "/\\\x00"):
            raise PathError(f"percent-encoded traversal in {part!r}")
    if part.startswith(".") and not allow_hidden:
        raise PathError(f"hidden files are not allowed: {part!r}", status=403)


@functools.lru_cache(maxsize=8)
def _real_root(root: str) -> str:
    return os.path.realpath(root)


def _checked(root_real: str, real: str, api_path: str, through_links: bool) -> str:
    """``real`` if it lies inside the root and (when it came through symlinks) hits no loop."""
    if real != root_real and not real.startswith(root_real.rstrip("/") + "/"):
        raise PathError(f"{api_path!r} resolves outside the server root", status=403)
    path = real
    while through_links and len(path) > len(root_real):
        if os.path.islink(path):  # realpath leaves a link it cannot resolve: a loop
            raise PathError(f"{api_path!r} goes through a symlink loop")
        path = os.path.dirname(path)
    return real


def resolve(
    root: str | os.PathLike,
    api_path: str,
    allow_hidden: bool = False,
    allow_root: bool = False,
    folders: dict[str, str] | None = None,
) -> ResolvedPath:
    """Resolve ``api_path`` under ``root`` or raise :class:`PathError` (400 malformed, 403 outside
    the root or hidden). Nothing on disk is changed.

    ``folders`` (an empty dict at first) remembers resolved parent folders across the calls of
    one request, so a batch of files in a few folders costs one ``lstat`` per file.
    """
    if "\x00" in api_path:
        raise PathError("NUL byte in path")
    if "\\" in api_path:
        raise PathError("backslashes are not allowed in paths; use '/'")
    if api_path.startswith("/"):
        raise PathError("absolute paths are not allowed; paths are relative to the server root")
    if len(api_path.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        raise PathError(f"path longer than {MAX_PATH_BYTES} bytes")
    root_real = _real_root(os.fspath(root))
    if api_path == "":
        if not allow_root:
            raise PathError("a file path is required")
        return ResolvedPath("", Path(root_real))
    parts = api_path.split("/")
    for part in parts:
        _check_component(part, allow_hidden)
    parent_key = "/".join(parts[:-1])
    real_parent = folders.get(parent_key) if folders is not None else None
    if real_parent is None:
        joined = os.path.realpath(os.path.join(root_real, *parts[:-1]))
        real_parent = _checked(root_real, joined, api_path, through_links=True)
        if folders is not None:
            folders[parent_key] = real_parent
    candidate = os.path.join(real_parent, parts[-1])
    if os.path.islink(candidate):
        real = _checked(root_real, os.path.realpath(candidate), api_path, through_links=True)
    else:
        real = _checked(root_real, candidate, api_path, through_links=False)
    relative = os.path.relpath(real, root_real)
    if not allow_hidden and relative != "." and any(p.startswith(".") for p in relative.split("/")):
        raise PathError(f"{api_path!r} resolves to a hidden file", status=403)
    if real == root_real and not allow_root:
        raise PathError(f"{api_path!r} is the server root, not a file")
    return ResolvedPath("/".join(parts), Path(real))


def resolve_folder(root: str | os.PathLike, path: str, allow_hidden: bool = False) -> Path:
    """An existing folder under ``root`` by :func:`resolve`'s rules (``""``, ``.`` and ``./`` name
    the root; a trailing ``/`` is allowed); NotFoundError if it is missing or not a folder."""
    relative = "" if path in (".", "./") else path if path.startswith("/") else path.rstrip("/")
    real = resolve(root, relative, allow_hidden=allow_hidden, allow_root=True).real
    if not real.is_dir():
        raise NotFoundError(f"{path!r} is not a folder under the server root")
    return real


def nearest_existing_folder(path: Path) -> Path:
    """``path`` or its closest ancestor that exists (where a temp file can go without mkdir)."""
    while not path.is_dir():
        if path.exists():
            raise ConflictError(f"{path.name!r} is a file, not a folder")
        path = path.parent
    return path


def parse_etags(header: str | None) -> list[str] | None:
    """``If-Match``/``If-None-Match`` values without quotes and ``W/``; ``["*"]`` for ``*``."""
    if header is None:
        return None
    tags = [t.strip().removeprefix("W/").strip('"') for t in header.split(",")]
    return [t for t in tags if t]


def stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def check_preconditions(
    target: Path, cache: HashCache, if_match: str | None, if_none_match: str | None, st=False
) -> str | None:
    """Raise 412 if ``If-Match``/``If-None-Match`` fail for ``target``; return its current sha256
    (None if absent). A folder at ``target`` is a 409. ``st``: its stat result if known."""
    st = stat_or_none(target) if st is False else st
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise ConflictError(f"{target.name!r} is a folder")
    match, none_match = parse_etags(if_match), parse_etags(if_none_match)
    if match is None and none_match is None:
        return None
    current = cache.sha256(target, st) if st is not None else None
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
    return current


def parse_file_mode(value: str | None) -> int | None:
    """``X-File-Mode`` (octal permission bits, e.g. ``755``) as an int, or None."""
    if value is None:
        return None
    try:
        mode = int(value, 8)
    except ValueError:
        raise PathError(f"X-File-Mode must be octal permission bits, got {value!r}") from None
    if not 0 <= mode <= 0o777:
        raise PathError(f"X-File-Mode allows permission bits only (<= 777), got {value!r}")
    return mode


def parse_sha256(value: str | None, name: str = "X-Content-SHA256") -> str | None:
    """A lower-case hex sha256 or None; anything else is a 400."""
    if value is None:
        return None
    value = value.strip().lower()
    if not _SHA256.match(value):
        raise RemoteDevError(f"{name} must be 64 hex digits, got {value[:70]!r}")
    return value


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_filesystem(path: Path) -> None:
    """Flush every dirty page of the file system holding ``path`` (one syncfs(2) for many files)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if getattr(libc, "syncfs", None) is None or libc.syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


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
    temp: Path, target: ResolvedPath, size: int, digest: str, *, cache: HashCache,
    mode: int | None = None, if_match: str | None = None, if_none_match: str | None = None,
    sync_folder: bool = True,
) -> WriteResult:  # fmt: skip
    """Atomically make the (already fsynced) ``temp`` file the target: check preconditions, create
    missing parent folders, set the mode, ``os.replace``, fsync the folder. ``temp`` is removed
    whatever happens."""
    try:
        with REPLACE_LOCK:
            st = stat_or_none(target.real)
            check_preconditions(target.real, cache, if_match, if_none_match, st)
            created = st is None
            if mode is None:  # a replaced file keeps its mode
                mode = DEFAULT_FILE_MODE if created else st.st_mode & 0o777
            os.chmod(temp, mode)
            try:
                os.replace(temp, target.real)
            except FileNotFoundError:  # new parent folders: created only now
                try:
                    target.real.parent.mkdir(parents=True, exist_ok=True)
                except (FileExistsError, NotADirectoryError):
                    raise ConflictError(f"a parent of {target.api_path!r} is a file") from None
                os.replace(temp, target.real)
        if sync_folder:
            fsync_folder(target.real.parent)
        cache.store(os.fspath(target.real), target.real.stat(), digest, trusted=True)
        return WriteResult(target.api_path, size, digest, created)
    finally:
        temp.unlink(missing_ok=True)


class AtomicWriter:
    """Streams a body into a temp file beside the target, hashing as it goes.

    The temp file lives in the target's folder (or its nearest existing ancestor, so nothing is
    created before the body is complete). ``write`` per chunk, then ``sync`` and ``install``; or
    ``discard``. Over ``limit`` bytes, ``write`` raises 413.
    """

    def __init__(self, target: ResolvedPath, limit: int):
        self.target = target
        self.limit = limit
        self.size = 0
        self.mode: int | None = None
        self._digest = hashlib.sha256()
        folder = nearest_existing_folder(target.real.parent)
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=folder)
        self.temp = Path(name)
        self._file = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        if self.size + len(chunk) > self.limit:
            raise RemoteDevError(f"body exceeds max_upload_size ({self.limit} bytes)", status=413)
        self._file.write(chunk)
        self._digest.update(chunk)
        self.size += len(chunk)

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def close(self, fsync: bool = False) -> None:
        """Flush and close the temp file, with an fsync if asked (idempotent)."""
        if self._file.closed:
            return
        self._file.flush()
        if fsync:
            os.fsync(self._file.fileno())
        self._file.close()

    def sync(self) -> None:
        """Flush and fsync the temp file (may block; run off the event loop for big files)."""
        self.close(fsync=True)

    def install(
        self, cache: HashCache, expected_sha256: str | None = None, **options
    ) -> WriteResult:
        """Check the body's hash against ``expected_sha256`` (400), then :func:`install`."""
        if not self._file.closed:
            self.sync()
        if expected_sha256 is not None and expected_sha256 != self.sha256:
            self.discard()
            raise RemoteDevError(
                f"body sha256 {self.sha256} does not match the expected {expected_sha256}; "
                "nothing was written"
            )
        return install(self.temp, self.target, self.size, self.sha256, cache=cache, **options)

    def discard(self) -> None:
        """Drop the temp file (idempotent)."""
        if not self._file.closed:
            self._file.close()
        self.temp.unlink(missing_ok=True)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``Range: bytes=a-b`` as (start, stop) with stop exclusive; None for the whole file.

    Several ranges are answered with the whole file (allowed by RFC 9110); an unsatisfiable
    range raises 416.
    """
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes=") :].strip().partition("-")
    try:
        if first == "":
            start, stop = max(size - int(last), 0), size
        else:
            start = int(first)
            stop = min(int(last) + 1, size) if last else size
    except ValueError:
        return None
    if start >= size or stop <= start:
        raise RemoteDevError(f"range {header!r} is outside the file's {size} bytes", status=416)
    return start, stop


def parse_content_range(header: str | None) -> tuple[int, int, int]:
    """``Content-Range: bytes a-b/total`` as (start, stop exclusive, total); else 400."""
    found = _CONTENT_RANGE.match((header or "").strip())
    if not found:
        raise RemoteDevError("Content-Range 'bytes <first>-<last>/<total>' is required")
    first, last, total = map(int, found.groups())
    if last < first or last >= total:
        raise RemoteDevError(f"invalid Content-Range {header!r}")
    return first, last + 1, total


def delete(target: ResolvedPath, cache: HashCache, recursive: bool, if_match: str | None) -> None:
    """Delete a file (``If-Match`` honoured), an empty folder, or with ``recursive`` a folder and
    its contents."""
    path = target.real
    if not path.exists():
        raise NotFoundError(f"{target.api_path!r} does not exist")
    if path.is_dir():
        if recursive:
            shutil.rmtree(path)
        else:
            try:
                path.rmdir()  # an empty folder goes without ?recursive=1, like rmdir
            except OSError:
                raise ConflictError(
                    f"{target.api_path!r} is a folder that is not empty; add ?recursive=1"
                ) from None
    else:
        with REPLACE_LOCK:
            check_preconditions(path, cache, if_match, None)
            path.unlink()
    cache.forget(path)
    fsync_folder(path.parent)

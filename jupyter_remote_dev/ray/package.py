"""A folder zipped for a Ray job's working dir: safe resolution, ignores, a content-hash name.

Shared by the server (a folder under its root) and the CLI (a local folder it uploads). Ray
unpacks ``gcs://`` packages with the files at the top level of the zip.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from fnmatch import fnmatch
from pathlib import Path

from ..errors import ConflictError, NotFoundError, PathError
from ..files.fileio import resolve_folder


def resolve_inside(root: Path, relative: str, allow_hidden: bool = True) -> Path:
    """The folder ``relative`` under ``root``, by the files API's rules (:func:`files.resolve`).

    PathError if malformed or absolute (400), or if it climbs with ``..``, leaves the root through
    a symlink or is hidden while hidden files are not allowed (403); NotFoundError if it is no
    folder. Messages name ``working_dir``.
    """
    if not isinstance(relative, str):
        raise PathError(f"working_dir must be a path string, got {type(relative).__name__}")
    if ".." in relative.split("/"):
        raise PathError(
            f"working_dir {relative!r} climbs out with '..': give a folder under the server root",
            403,
        )
    try:
        return resolve_folder(root, relative, allow_hidden)
    except (PathError, NotFoundError) as error:
        raise type(error)(f"working_dir {relative!r}: {error.message}", error.status) from error


def _ignored(relative: str, patterns: list[str]) -> bool:
    return any(
        fnmatch(relative, p) or any(fnmatch(part, p) for part in relative.split("/"))
        for p in patterns
    )


def package_working_dir(
    root: Path, folder: Path, ignore: list[str], max_size: int
) -> tuple[Path, str]:
    """Zip ``folder`` (files at the zip's top level) into a temp file; (zip path, gcs URI).

    Ignored patterns and symlinks that leave ``root`` are left out. The URI names the content
    hash, so an unchanged folder is uploaded once. ConflictError if the files exceed ``max_size``.
    """
    root = root.resolve()
    files: list[tuple[str, Path]] = []
    total = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        base = Path(dirpath)
        prefix = "" if base == folder else f"{base.relative_to(folder).as_posix()}/"
        dirnames[:] = sorted(
            d for d in dirnames if not (base / d).is_symlink() and not _ignored(prefix + d, ignore)
        )
        for name in sorted(filenames):
            relative = prefix + name
            path = base / name
            real = path.resolve()
            if _ignored(relative, ignore) or not real.is_file():
                continue
            if real != root and root not in real.parents:
                continue
            total += real.stat().st_size
            if total > max_size:
                raise ConflictError(
                    f"working_dir is larger than {max_size} bytes "
                    "(RemoteDevExtension.ray_max_working_dir_size): upload big data elsewhere"
                )
            files.append((relative, real))
    digest = hashlib.sha256()
    fd, name = tempfile.mkstemp(prefix="remote-dev-ray-", suffix=".zip")
    os.close(fd)
    try:
        with zipfile.ZipFile(name, "w", zipfile.ZIP_DEFLATED) as archive:
            for relative, real in files:
                archive.write(real, relative)
                digest.update(relative.encode() + b"\0")
                with open(real, "rb") as f:
                    while chunk := f.read(1 << 20):
                        digest.update(chunk)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name), f"gcs://_ray_pkg_{digest.hexdigest()[:32]}.zip"

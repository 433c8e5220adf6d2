"""``dags sync``: mirror every live branch into ``DIR/<slug>/`` beside the DAG processor.

Per branch: every file that differs is downloaded into a staging folder first and checked against
the manifest's sha256; only when the whole branch has arrived are the files renamed into place (each
rename atomic), stale files removed, and the manifest copy written last. A publish racing the
download shows up as a hash mismatch or a missing object; the branch is then retried from a fresh
manifest a bounded number of times, and on failure the last good copy stays as it was. The parser
never reads a half-written file: staged files never end in ``.py`` and move in by rename.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from botocore.exceptions import BotoCoreError, ClientError

from .publish import LOCAL_MANIFEST, RESERVED, STAGING, file_sha256
from .slug import is_slug
from .store import BranchStore

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
DOWNLOAD_WORKERS = 8
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BranchChangedError(Exception):
    """The branch changed (or vanished) while we were downloading it."""


class ManifestError(ValueError):
    """A manifest we refuse to apply (bad paths, wrong slug)."""


def safe_relpath(path: str) -> str:
    """Return ``path`` if it is a plain relative POSIX path that stays inside its folder."""
    if not isinstance(path, str) or not path:
        raise ManifestError(f"unsafe path in manifest: {path!r}")
    parts = PurePosixPath(path).parts
    if (
        "\x00" in path
        or "\\" in path
        or path.startswith("/")
        or any(part in {"", ".", ".."} for part in parts)
        or "/".join(parts) != path
        or parts[0] in RESERVED
    ):
        raise ManifestError(f"unsafe path in manifest: {path!r}")
    return path


def read_local_manifest(branch_dir: Path) -> dict | None:
    """The manifest last applied to ``branch_dir``, or None."""
    try:
        return json.loads((branch_dir / LOCAL_MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def _write_atomic(target: Path, data: bytes) -> None:
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)


def _matches(path: Path, info: dict) -> bool:
    try:
        return (
            path.is_file()
            and path.stat().st_size == info["size"]
            and (file_sha256(path) == info["sha256"])
        )
    except OSError:
        return False


def _download(store: BranchStore, slug: str, rel: str, info: dict, staged: Path) -> None:
    digest = hashlib.sha256()
    try:
        body = store.open_file(slug, rel)
    except FileNotFoundError as error:
        raise BranchChangedError(f"{rel} vanished") from error
    with body, open(staged, "wb") as f:
        for chunk in body.iter_chunks(_CHUNK):
            digest.update(chunk)
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    if digest.hexdigest() != info["sha256"]:
        raise BranchChangedError(f"{rel} does not match the manifest (a publish is under way)")


def _place(staged: Path, target: Path, branch_dir: Path) -> None:
    if not os.path.realpath(target).startswith(os.path.realpath(branch_dir) + os.sep):
        raise ManifestError(f"{target} leads out of {branch_dir}")  # e.g. a foreign symlink
    for parent in reversed(target.relative_to(branch_dir).parents[:-1]):
        if (branch_dir / parent).is_file():  # a file became a folder
            (branch_dir / parent).unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():  # a folder became a file
        shutil.rmtree(target)
    os.replace(staged, target)


def _remove_stale(branch_dir: Path, keep: set[str]) -> None:
    for dirpath, _dirnames, filenames in os.walk(branch_dir, topdown=False):
        here = Path(dirpath)
        for name in filenames:
            rel = (here / name).relative_to(branch_dir).as_posix()
            if rel not in keep and rel != LOCAL_MANIFEST and "__pycache__" not in here.parts:
                (here / name).unlink()
        if here != branch_dir and here.name != "__pycache__" and not any(here.iterdir()):
            here.rmdir()


def apply_manifest(store: BranchStore, slug: str, root: Path, manifest: dict) -> bool:
    """Bring ``root/slug`` to ``manifest``; return True if anything changed on disk."""
    if manifest.get("slug") != slug or not isinstance(manifest.get("files"), dict):
        raise ManifestError(f"manifest of {slug} names another branch or has no file list")
    files = {safe_relpath(rel): info for rel, info in manifest["files"].items()}
    for rel, info in files.items():
        if not (
            isinstance(info, dict)
            and isinstance(info.get("sha256"), str)
            and _SHA256.match(info["sha256"])
            and isinstance(info.get("size"), int)
        ):
            raise ManifestError(f"manifest entry for {rel} has no valid sha256 and size")
    branch_dir = root / slug
    if read_local_manifest(branch_dir) == manifest and all(
        (branch_dir / rel).is_file() and (branch_dir / rel).stat().st_size == info["size"]
        for rel, info in files.items()
    ):
        return False
    needed = [rel for rel, info in files.items() if not _matches(branch_dir / rel, info)]
    staging = root / STAGING / f"{slug}.{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    try:
        staged = {rel: staging / f"{i}.part" for i, rel in enumerate(needed)}
        with ThreadPoolExecutor(max_workers=DOWNLOAD_WORKERS) as pool:
            list(pool.map(lambda rel: _download(store, slug, rel, files[rel], staged[rel]), needed))
        branch_dir.mkdir(parents=True, exist_ok=True)
        for rel in needed:
            _place(staged[rel], branch_dir / rel, branch_dir)
        _remove_stale(branch_dir, set(files))
        _write_atomic(branch_dir / LOCAL_MANIFEST, json.dumps(manifest, sort_keys=True).encode())
    finally:
        _drop_staging(staging)
    log.info("branch %s: %d files updated", slug, len(needed))
    return True


def mirror_branch(
    store: BranchStore, slug: str, root: Path, manifest: dict | None = None, retries: int = 3
) -> bool | None:
    """Mirror one branch with bounded retries; None if it is not published (any more)."""
    for attempt in range(retries + 1):
        if manifest is None:
            manifest = store.get_manifest(slug)
            if manifest is None:
                return None
        try:
            return apply_manifest(store, slug, root, manifest)
        except BranchChangedError as error:
            log.info("branch %s changed while syncing (%s); retry %d", slug, error, attempt + 1)
            manifest = None
            time.sleep(min(0.2 * 2**attempt, 5))
    raise BranchChangedError(f"branch {slug} kept changing over {retries + 1} attempts")


def remove_branch_dir(root: Path, slug: str) -> None:
    """Move a branch folder out of the parser's sight in one rename, then delete it."""
    trash = root / STAGING / f"{slug}.{uuid.uuid4().hex}.gone"
    trash.parent.mkdir(parents=True, exist_ok=True)
    os.replace(root / slug, trash)
    _drop_staging(trash)


def _drop_staging(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    try:
        path.parent.rmdir()  # the staging folder itself, once nothing else is staged there
    except OSError:
        pass


@dataclass
class SyncReport:
    """What one sync pass did."""

    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def sync_once(store: BranchStore, root: str | os.PathLike, retries: int = 3) -> SyncReport:
    """One pass: mirror every live branch, remove local branches that are no longer live."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    report = SyncReport()
    live = set()
    for slug in store.list_slugs():
        if not is_slug(slug):
            log.warning("ignoring folder %r in the bucket: not a branch slug", slug)
            continue
        try:
            changed = mirror_branch(store, slug, root, retries=retries)
        except (BranchChangedError, ValueError, OSError, ClientError, BotoCoreError) as error:
            report.failed[slug] = str(error)
            live.add(slug)  # keep the last good copy
            log.error("branch %s not synced: %s", slug, error)
            continue
        if changed is not None:
            live.add(slug)
        if changed:
            report.updated.append(slug)
    for entry in sorted(root.iterdir()):
        if is_slug(entry.name) and entry.name not in live and (entry / LOCAL_MANIFEST).exists():
            remove_branch_dir(root, entry.name)
            report.removed.append(entry.name)
    return report


def run_sync(
    store: BranchStore,
    root: str | os.PathLike,
    interval: float = 30.0,
    retries: int = 3,
    stop: threading.Event | None = None,
) -> None:
    """Sync every ``interval`` seconds until ``stop`` is set; a failed pass is logged, retried."""
    stop = stop or threading.Event()
    shutil.rmtree(Path(root) / STAGING, ignore_errors=True)
    while not stop.is_set():
        try:
            report = sync_once(store, root, retries=retries)
            if report.updated or report.removed or report.failed:
                log.info("sync: updated %s, removed %s, failed %s", *vars(report).values())
        except Exception:
            log.exception("sync pass failed; trying again in %.0f s", interval)
        stop.wait(interval)

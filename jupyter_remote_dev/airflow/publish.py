"""``dags publish``: push a branch's DAG folder to the bucket, uploading only what changed.

A file counts as unchanged when the last manifest has the same sha256 and the object is still there
with the same size; modification times play no part (a fresh CI clone resets them). Changed
files are uploaded first, then the new ``manifest.json``, then removed files are deleted. A reader
that takes the new manifest therefore finds every file it names; a reader still on the old one
sees a hash mismatch or a missing file and retries (see :mod:`.sync`).
"""

from __future__ import annotations

import hashlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .dag_ids import file_dag_ids
from .slug import branch_slug, normalize_branch
from .store import FILES, BranchStore

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1
#: Folders and suffixes never published: VCS data and Python caches.
SKIP_DIRS = {".git", "__pycache__", ".hg", ".svn", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
SKIP_SUFFIXES = (".pyc", ".pyo")
#: The manifest copy sync keeps in each branch folder, and sync's staging folder; a DAG repo may not
#: ship files of these names at its top level.
LOCAL_MANIFEST = ".jupyter-remote-dev-branch.json"
STAGING = ".jupyter-remote-dev-staging"
RESERVED = {LOCAL_MANIFEST, STAGING}
_CHUNK = 1 << 20


def file_sha256(path: str | os.PathLike) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def scan_tree(src: str | os.PathLike) -> dict[str, dict]:
    """Map each publishable file under ``src`` (POSIX relative path) to its sha256 and size."""
    root = Path(src)
    if not root.is_dir():
        raise NotADirectoryError(f"not a folder: {src}")
    real_root = root.resolve()
    files = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            full = Path(dirpath, name)
            if name.endswith(SKIP_SUFFIXES) or not full.is_file():
                continue
            if not full.resolve().is_relative_to(real_root):
                log.warning("skipping %s: a link out of the folder", full)
                continue
            rel = full.relative_to(root).as_posix()
            if rel.split("/")[0] in RESERVED:
                raise ValueError(f"{rel}: the names {sorted(RESERVED)} are reserved")
            files[rel] = {"sha256": file_sha256(full), "size": full.stat().st_size}
    return files


def add_dag_ids(src: str | os.PathLike, files: dict[str, dict], previous: dict) -> list[str]:
    """Record each Python file's literal DAG IDs (:mod:`.dag_ids`) in ``files`` (reusing
    ``previous`` entries of the same hash, so an unchanged file is not parsed again) and return
    all of them: the policy rewrites references to exactly these."""
    ids: set[str] = set()
    for rel, info in files.items():
        if not rel.endswith(".py"):
            continue
        before = previous.get(rel, {})
        if before.get("sha256") == info["sha256"] and isinstance(before.get("dag_ids"), list):
            info["dag_ids"] = before["dag_ids"]
        else:
            info["dag_ids"] = file_dag_ids(Path(src, rel))
        ids.update(info["dag_ids"])
    return sorted(ids)


@dataclass
class PublishResult:
    """What one publish did."""

    slug: str
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0


def publish(store: BranchStore, branch: str, src: str | os.PathLike, workers: int = 8):
    """Publish ``src`` as ``branch``; return a :class:`PublishResult`."""
    branch = normalize_branch(branch)
    slug = branch_slug(branch)
    files = scan_tree(src)
    previous = (store.get_manifest(slug) or {}).get("files", {})
    files_prefix = store.branch_prefix(slug) + FILES
    remote_sizes = {
        item["Key"][len(files_prefix) :]: item["Size"] for item in store.list_objects(files_prefix)
    }
    result = PublishResult(slug=slug)
    for rel, info in files.items():
        same_hash = previous.get(rel, {}).get("sha256") == info["sha256"]
        if same_hash and remote_sizes.get(rel) == info["size"]:
            result.unchanged += 1
        else:
            result.uploaded.append(rel)

    def upload(rel: str) -> None:
        store.upload_file(slug, rel, os.fspath(Path(src, rel)), files[rel]["sha256"])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(upload, result.uploaded))
    manifest = {
        "version": MANIFEST_VERSION,
        "branch": branch,
        "slug": slug,
        "dag_ids": add_dag_ids(src, files, previous),
        "files": files,
    }
    store.put_manifest(slug, manifest)
    result.deleted = sorted(set(remote_sizes) - set(files))
    store.delete_keys(store.file_key(slug, rel) for rel in result.deleted)
    log.info(
        "published %s as %s: %d uploaded, %d unchanged, %d deleted",
        branch,
        slug,
        len(result.uploaded),
        result.unchanged,
        len(result.deleted),
    )
    return result

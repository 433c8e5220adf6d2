"""Commit the workspace's local changes, leaving out (and reporting) files over the size limit."""

from __future__ import annotations

import logging
import os

from .gitcmd import GitRunner


def commit_local(git: GitRunner, purpose: str, log: logging.Logger) -> list[dict]:
    """Stage and commit every change except oversized files; return the skipped ones.

    ``.gitignore`` is respected by git itself; the settings' include/exclude globs become
    pathspecs, and each oversized file an ``:(exclude,literal)`` pathspec, so it is never hashed
    into the object store either.
    """
    settings = git.settings
    records = git(
        "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames",
        "--ignore-submodules=all",
    ).text.split("\0")  # fmt: skip
    skipped, staged_big, changed = [], [], 0
    limit = settings.max_file_size
    for record in filter(None, records):
        code, path = record[:2], record[3:]
        changed += 1
        if "D" in code:
            continue
        try:
            size = os.lstat(git.workdir / path).st_size
        except OSError:
            continue
        if size > limit:
            reason = f"larger than the {limit}-byte limit for automatic commits"
            skipped.append({"path": path, "size": size, "reason": reason})
            if code[0] not in " ?":  # staged by someone else: unstage it
                staged_big.append(f":(literal){path}")
    if not changed:
        return skipped
    specs = [f":(glob){p}" for p in settings.include] or ["."]
    specs += [f":(exclude,glob){p}" for p in settings.exclude]
    specs += [f":(exclude,glob)**/{p}/**" for p in settings.exclude if "/" not in p]
    specs += [f":(exclude,literal){item['path']}" for item in skipped]
    stdin = b"".join(os.fsencode(spec) + b"\0" for spec in specs)
    git("add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul", stdin=stdin)
    if staged_big:
        git("reset", "-q", "--", *staged_big)
    if not git.ok("diff", "--cached", "--quiet"):
        git("commit", "-q", "--no-verify", "-m", f"remote-dev: {purpose}")
    for item in skipped:
        log.warning("git sync left out %s (%d bytes)", item["path"], item["size"])
    return skipped

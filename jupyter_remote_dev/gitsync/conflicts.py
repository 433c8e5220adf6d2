"""Conflict handling: the server's version stays in place, the other side's is kept beside it.

Two situations lose data in naive pulls (nbgitpuller's stuck cases among them) and are handled here:

* an **unmerged path** after ``git merge``: the server's blob (stage 2) is written back to the path,
  the other side's blob (stage 3) goes to ``name.<label>-<sha>.ext`` beside it; when one side
  deleted the file, the side that changed it wins, so no content is ever dropped;
* a **local file that is not committed** (untracked, ignored or over the size limit) where the
  incoming commit adds a file: it is *held* under ``.git/remote-dev/hold`` during the merge, then
  put back, and the incoming version moves to the conflict-copy name.

Held files survive a crash: :meth:`Holder.recover` puts them back at the start of the next cycle.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from .errors import GitSyncError
from .gitcmd import GitRunner

HOLD_DIR = "remote-dev/hold"


@dataclass(frozen=True)
class Conflict:
    """One path where both sides disagreed; ``kept_at`` is where the other side's version is."""

    path: str
    kept_at: str | None
    kind: str

    def to_json(self) -> dict:
        return asdict(self)


def copy_name(path: str, label: str, sha: str, root: Path) -> str:
    """``dir/name.<label>-<sha8>.ext`` for ``dir/name.ext``, with a counter if taken in ``root``."""
    pure = PurePosixPath(path)
    stem, dot, ext = pure.name.rpartition(".")
    if not stem:  # no extension, or a dotfile such as .bashrc
        stem, ext, dot = pure.name, "", ""
    base = f"{stem}.{label}-{sha[:8]}"
    for counter in range(1000):
        suffix = f"-{counter}" if counter else ""
        candidate = str(pure.with_name(f"{base}{suffix}{dot}{ext}"))
        if not os.path.lexists(root / candidate):
            return candidate
    raise RuntimeError(f"no free conflict-copy name for {path}")


def write_blob(git: GitRunner, sha: str, mode: str, target: Path) -> None:
    """Write blob ``sha`` to ``target`` with git's file ``mode`` (regular, executable, symlink).

    Refuses a target whose folder resolves outside the workspace (a symlinked parent).
    """
    root = os.path.realpath(git.workdir)
    if os.path.commonpath([root, os.path.realpath(target.parent)]) != root:
        raise GitSyncError(f"refusing to write {target.name}: its folder leaves the workspace")
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_path(target)
    if mode == "120000":
        os.symlink(os.fsdecode(git("cat-file", "blob", sha).stdout), target)
        return
    git.to_file(target, "cat-file", "blob", sha)
    target.chmod(0o755 if mode == "100755" else 0o644)


def remove_path(target: Path) -> None:
    """Remove a file, symlink or folder at ``target`` if present."""
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)


def unmerged_entries(git: GitRunner) -> dict[str, dict[int, tuple[str, str]]]:
    """``{path: {stage: (mode, sha)}}`` for every path the index holds as unmerged."""
    entries: dict[str, dict[int, tuple[str, str]]] = {}
    for record in git("ls-files", "-u", "-z").text.split("\0"):
        if not record:
            continue
        info, path = record.split("\t", 1)
        mode, sha, stage = info.split()
        entries.setdefault(path, {})[int(stage)] = (mode, sha)
    return entries


def resolve_unmerged(git: GitRunner, label: str, their_commit: str) -> list[Conflict]:
    """Resolve every unmerged path by the policy above and stage the result.

    Conflict copies are staged even where ``.gitignore`` matches them (``*.log`` matches
    ``run.remote-<sha8>.log``), so the other side's version stays on the branch.
    """
    root = git.workdir
    conflicts: list[Conflict] = []
    touched: list[str] = []
    copies: list[str] = []
    for path, stages in sorted(unmerged_entries(git).items()):
        ours, theirs = stages.get(2), stages.get(3)
        touched.append(path)
        displaced = _displaced_by_folder(path, stages, their_commit, root)
        if displaced:
            original, ours_moved = displaced
            kept = copy_name(original, label, their_commit, root)
            if ours_moved:  # our file at a path where their folder arrived: the folder moves
                os.rename(root / original, root / kept)
                git("rm", "-r", "--cached", "-q", "--", f":(literal){original}")
                write_blob(git, ours[1], ours[0], root / original)
                kind = f"file here, folder on {label}"
            else:  # their file at a path where our folder is
                write_blob(git, theirs[1], theirs[0], root / kept)
                kind = f"folder here, file on {label}"
            remove_path(root / path)
            touched.append(original)
            copies.append(kept)
            conflicts.append(Conflict(original, kept, kind))
        elif ours and theirs:
            write_blob(git, ours[1], ours[0], root / path)
            if ours[1] == theirs[1]:
                continue
            kept = copy_name(path, label, their_commit, root)
            write_blob(git, theirs[1], theirs[0], root / kept)
            copies.append(kept)
            conflicts.append(Conflict(path, kept, "both changed"))
        elif ours:
            write_blob(git, ours[1], ours[0], root / path)
            conflicts.append(Conflict(path, None, f"changed here, deleted on {label}"))
        elif theirs:
            write_blob(git, theirs[1], theirs[0], root / path)
            conflicts.append(Conflict(path, path, f"deleted here, changed on {label}"))
        else:
            remove_path(root / path)
    if touched:
        git("add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul", stdin=_literal(touched))
    stage_copies(git, copies)
    return conflicts


def stage_copies(git: GitRunner, copies: list[str]) -> None:
    """Stage conflict copies, ignored names included: the other side's version must stay."""
    if copies:
        git(
            "add",
            "-f",
            "-A",
            "--pathspec-from-file=-",
            "--pathspec-file-nul",
            stdin=_literal(copies),
        )


def _displaced_by_folder(
    path: str, stages: dict[int, tuple[str, str]], their_commit: str, root: Path
) -> tuple[str, bool] | None:
    """``(original path, True if it was our file)`` when git's merge moved a file aside to
    ``<path>~HEAD`` / ``<path>~<commit>`` because the other side has a folder there."""
    match = re.fullmatch(rf"(.+)~(HEAD|{their_commit})(?:_\d+)?", path, re.DOTALL)
    if not match or not (root / match[1]).is_dir() or (root / match[1]).is_symlink():
        return None
    ours_moved = match[2] == "HEAD"
    if (2 if ours_moved else 3) not in stages:
        return None
    return match[1], ours_moved


def _literal(paths: list[str]) -> bytes:
    return b"".join(os.fsencode(f":(literal){path}") + b"\0" for path in paths)


class Holder:
    """Moves uncommitted local files out of an incoming commit's way, and back afterwards."""

    def __init__(self, git: GitRunner, git_dir: Path):
        self.git = git
        self.root = git.workdir
        self.hold_dir = git_dir / HOLD_DIR
        self.held: list[str] = []

    def clashes(self, incoming_paths: list[str]) -> list[str]:
        """Uncommitted local paths (or parent files) that the incoming files would overwrite.

        Tracked paths are left to the merge: git knows both versions of those.
        """
        found: set[str] = set()
        for path in incoming_paths:
            parts = PurePosixPath(path).parts
            for depth in range(1, len(parts) + 1):
                prefix = "/".join(parts[:depth])
                local = self.root / prefix
                if depth < len(parts) and local.is_dir() and not local.is_symlink():
                    continue
                if os.path.lexists(local):
                    found.add(prefix)
                break
        tracked = self._tracked(found)
        return sorted(p for p in found if p not in tracked)

    def _tracked(self, paths: set[str]) -> set[str]:
        """Those of ``paths`` that the index holds, as a file or as a folder with files in it."""
        if not paths:
            return set()
        literal = [f":(literal){path}" for path in sorted(paths)]
        listing = self.git("ls-files", "-z", "--", *literal).text
        tracked = set()
        for name in filter(None, listing.split("\0")):
            parts = name.split("/")
            tracked.update("/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
        return tracked & paths

    def hold(self, paths: list[str]) -> None:
        for path in paths:
            target = self.hold_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(self.root / path, target)
            self.held.append(path)

    def restore(self, label: str, their_commit: str) -> list[Conflict]:
        """Put held files back; what the merge put in their place moves to a conflict copy."""
        conflicts = []
        for path in self.held:
            local = self.root / path
            if os.path.lexists(local):
                kept = copy_name(path, label, their_commit, self.root)
                os.rename(local, self.root / kept)
                # the held file was never meant to be committed (ignored, excluded, too big):
                # the path leaves the index, the incoming version stays on the branch as the copy
                self.git("rm", "-r", "-q", "--cached", "--ignore-unmatch", "--",
                         f":(literal){path}")  # fmt: skip
                stage_copies(self.git, [kept])
                conflicts.append(Conflict(path, kept, f"untracked here, added on {label}"))
            local.parent.mkdir(parents=True, exist_ok=True)
            os.rename(self.hold_dir / path, local)
        self.held.clear()
        shutil.rmtree(self.hold_dir, ignore_errors=True)
        return conflicts

    def recover(self) -> list[Conflict]:
        """After a crash mid-merge: put every held file back (beside, if its place is taken)."""
        conflicts = []
        if not self.hold_dir.is_dir():
            return conflicts
        stamp = time.strftime("%Y%m%d%H%M%S")
        for dirpath, dirnames, filenames in os.walk(self.hold_dir):
            for name in [*filenames, *[d for d in dirnames if os.path.islink(Path(dirpath, d))]]:
                held = Path(dirpath, name)
                path = held.relative_to(self.hold_dir).as_posix()
                target = path
                if os.path.lexists(self.root / path):
                    target = copy_name(path, "local", stamp, self.root)
                    conflicts.append(Conflict(path, target, "recovered after an interrupted sync"))
                (self.root / target).parent.mkdir(parents=True, exist_ok=True)
                os.rename(held, self.root / target)
        shutil.rmtree(self.hold_dir, ignore_errors=True)
        return conflicts

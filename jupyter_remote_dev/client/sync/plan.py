"""The three-way sync plan: what to do given the local, remote and last-synced manifests.

Pure (no I/O), in the manner of Unison: comparing each side with the state of the last
successful sync tells "deleted here" from "created there", so deletions propagate. A file changed
differently on both sides is a conflict: neither side is overwritten; the remote version is kept
beside the local file (never sent) and the conflict is remembered until ``resolve`` settles it
(or both sides come to hold the same file). A file deleted on one side and changed on the other is
restored rather than deleted, so no version is ever lost. Files compare by content and executable
bit; an empty folder is an entry of its own (``FOLDER``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from posixpath import split, splitext

PUSH = "push"
PULL = "pull"
DELETE_REMOTE = "delete-remote"
DELETE_LOCAL = "delete-local"
CONFLICT = "conflict"
FOLDER = "folder"
"""The ``sha256`` of an empty folder's entry."""


@dataclass(frozen=True)
class Entry:
    """One file in a manifest: content hash, size and permission bits."""

    sha256: str
    size: int = 0
    mode: int = 0o644


@dataclass(frozen=True)
class Action:
    """One step of a plan; ``local``/``remote``: the entries seen when planning (None: absent)."""

    kind: str
    path: str
    local: Entry | None
    remote: Entry | None
    reason: str = ""

    @property
    def is_folder(self) -> bool:
        return FOLDER in (sha_of(self.local), sha_of(self.remote))

    @property
    def size(self) -> int:
        """Bytes this step moves (0 for deletes and conflicts)."""
        if self.kind == PUSH and self.local:
            return self.local.size
        if self.kind == PULL and self.remote:
            return self.remote.size
        return 0


@dataclass
class Plan:
    """The actions to run and the paths already equal on both sides (to record as synced)."""

    actions: list[Action] = field(default_factory=list)
    in_sync: dict[str, Entry] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(path, reason) of what is left out on purpose (symlinks, dot-files a server hides)."""
    totals: tuple[int, int] | None = None
    """(local, remote) file counts of the whole folder, when the plan covers it (safety halt)."""

    def of_kind(self, *kinds: str) -> list[Action]:
        return [a for a in self.actions if a.kind in kinds]

    @property
    def conflicts(self) -> list[Action]:
        return self.of_kind(CONFLICT)

    def add(self, path: str, action: Action | None, local: Entry | None) -> None:
        """Record the action for ``path``; without one, the local entry (if any) is in sync."""
        if action is not None:
            self.actions.append(action)
        elif local is not None:
            self.in_sync[path] = local

    def summary(self) -> dict[str, int]:
        """How many actions of each kind, for the CLI's report."""
        counts = {k: 0 for k in (PUSH, PULL, DELETE_REMOTE, DELETE_LOCAL, CONFLICT)}
        for action in self.actions:
            counts[action.kind] += 1
        return counts


def sha_of(entry: Entry | None) -> str | None:
    """The entry's content hash, None for an absent file."""
    return entry.sha256 if entry else None


def signature(entry: Entry | None) -> tuple[str, bool] | None:
    """What must agree on both sides: content hash and executable bit (None: absent)."""
    return (entry.sha256, bool(entry.mode & 0o100)) if entry else None


def plan_path(
    path: str,
    local: Entry | None,
    remote: Entry | None,
    base: Entry | None,
    in_conflict: bool = False,
) -> Action | None:
    """The action for one path, or None when both sides hold the same file (or neither has it).

    ``in_conflict``: a conflict on this path was reported and not yet resolved; it stays a conflict
    whatever either side does next, until ``resolve`` or until both sides hold the same file.
    """
    ls, rs, bs = signature(local), signature(remote), signature(base)
    if ls == rs:
        return None
    if in_conflict:
        return Action(CONFLICT, path, local, remote, "still in conflict")
    local_changed, remote_changed = ls != bs, rs != bs
    if local_changed and not remote_changed:
        if local is None:
            return Action(DELETE_REMOTE, path, local, remote, "deleted here")
        return Action(PUSH, path, local, remote, "new here" if remote is None else "changed here")
    if remote_changed and not local_changed:
        if remote is None:
            return Action(DELETE_LOCAL, path, local, remote, "deleted on the server")
        return Action(
            PULL,
            path,
            local,
            remote,
            "new on the server" if local is None else "changed on the server",
        )
    if local is None:
        return Action(PULL, path, local, remote, "deleted here but changed on the server: restored")
    if remote is None:
        return Action(PUSH, path, local, remote, "deleted on the server but changed here: restored")
    if sha_of(local) == sha_of(remote):  # same content, both changed the executable bit
        return Action(PUSH, path, local, remote, "mode changed on both sides: keeping this one")
    return Action(CONFLICT, path, local, remote, "changed on both sides")


def plan(
    local: Mapping[str, Entry],
    remote: Mapping[str, Entry],
    base: Mapping[str, Entry],
    conflicts: Collection[str] = (),
) -> Plan:
    """The three-way plan over every path of the three manifests, in path order."""
    result = Plan()
    for path in sorted(set(local) | set(remote) | set(base) | set(conflicts)):
        l_entry = local.get(path)
        action = plan_path(path, l_entry, remote.get(path), base.get(path), path in conflicts)
        result.add(path, action, l_entry)
    return result


def conflict_copy_name(path: str, sha256: str) -> str:
    """Where the remote version of a conflicting ``path`` is kept: ``a/b.remote-<sha8>.py``."""
    folder, name = split(path)
    stem, ext = splitext(name)
    if not stem:  # dotfiles such as ".env"
        stem, ext = name, ""
    copy = f"{stem}.remote-{sha256[:8]}{ext}"
    return f"{folder}/{copy}" if folder else copy

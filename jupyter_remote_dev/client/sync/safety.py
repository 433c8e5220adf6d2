"""The safety halt, like Mutagen's: a sync that would delete all, or more than a set share, of
one side's files stops and asks (or, without a terminal, stops) unless ``--force``.

It guards against the common accidents behind mass deletions: a project folder emptied or moved
away locally, a server volume reset, a binding pointed at the wrong folder.
"""

from __future__ import annotations

from .plan import DELETE_LOCAL, DELETE_REMOTE, Plan

MIN_DELETIONS = 3
"""Below this many deletions only "all of them" halts (deleting 1 of 2 files is ordinary work)."""


def deletion_warning(plan: Plan, max_share: float) -> str | None:
    """Why ``plan`` must halt (one line), or None when it may go ahead."""
    if plan.totals is None:
        return None
    local_total, remote_total = plan.totals
    sides = (
        (DELETE_REMOTE, remote_total, "on the server"),
        (DELETE_LOCAL, local_total, "here"),
    )
    for kind, total, where in sides:
        count = sum(1 for a in plan.of_kind(kind) if not a.is_folder)
        if not total or not count:
            continue
        if count == total or (count >= MIN_DELETIONS and count > max_share * total):
            return f"this sync would delete {count} of the {total} files {where}"
    return None

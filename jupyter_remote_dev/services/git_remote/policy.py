"""The pre-receive hook: a push may only create or move the pusher's own sync branch, and only
within the size limits (:mod:`.quota`).

git runs it with the ref updates on stdin (``<old> <new> <ref>`` per line) and the environment of
``git http-backend``, where the service put the authenticated user in ``PUSHER_ENV``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

from ...gitsync.config import DEFAULT_SYNC_BRANCH, expand_sync_branch
from .quota import Limits, size_refusals

PUSHER_ENV = "JUPYTER_REMOTE_DEV_GIT_PUSHER"


def own_ref(user: str) -> str:
    """The one ref ``user`` may update: ``refs/heads/remote-dev/<name>`` (the sync branch)."""
    return "refs/heads/" + expand_sync_branch(DEFAULT_SYNC_BRANCH, user)


def refusals(user: str, updates: Iterable[str]) -> list[str]:
    """Why each refused update of ``updates`` (pre-receive lines) is refused; [] = all allowed."""
    if not user:
        return ["push refused: no authenticated user"]
    allowed, problems = own_ref(user), []
    for line in updates:
        parts = line.split()
        if len(parts) != 3:
            problems.append(f"push refused: malformed ref update {line!r}")
            continue
        _, new, ref = parts
        if ref != allowed:
            problems.append(f"push to {ref} refused: {user} may push only to {allowed}")
        elif set(new) == {"0"}:
            problems.append(f"deleting {ref} is refused")
    return problems


def main() -> int:
    updates = sys.stdin.read().splitlines()
    problems = refusals(os.environ.get(PUSHER_ENV, ""), updates)
    if not problems:
        quarantine = os.environ.get("GIT_QUARANTINE_PATH")  # the pushed objects, not yet stored
        problems = size_refusals(Limits.from_env(), updates, quarantine)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

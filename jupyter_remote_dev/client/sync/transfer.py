"""Moving files: running a whole sync plan, the conflict copies, and the report of what was done.

The moves themselves are the :mod:`.uploads` and :mod:`.downloads` halves; planning is
:mod:`.planner`. Small pushes go together in batches, the rest run several at once; Ctrl-C cancels
the requests in flight (:meth:`~.mover.Mover.cancel`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from ..errors import ClientError, PreconditionFailed
from .downloads import Downloads
from .plan import (
    CONFLICT,
    DELETE_LOCAL,
    DELETE_REMOTE,
    FOLDER,
    PULL,
    PUSH,
    Action,
    Plan,
    conflict_copy_name,
    sha_of,
)
from .planner import Planner
from .state import Conflict
from .uploads import SMALL_FILE, Uploads

WORKERS = 4


@dataclass
class SyncReport:
    """What a sync did: the plan, the actions done, failures, and conflict copies made."""

    plan: Plan
    done: list[Action] = field(default_factory=list)
    failed: list[tuple[Action, str]] = field(default_factory=list)
    conflict_copies: dict[str, str] = field(default_factory=dict)

    def json(self) -> dict:
        def describe(action: Action) -> dict:
            return {"kind": action.kind, "path": action.path, "reason": action.reason}

        return {
            "summary": self.plan.summary(),
            "done": [describe(a) for a in self.done if a.kind != CONFLICT],
            "conflicts": [
                {**describe(a), "remote_copy": self.conflict_copies.get(a.path)}
                for a in self.plan.conflicts
            ],
            "failed": [{**describe(a), "error": message} for a, message in self.failed],
        }


class Transfer(Uploads, Downloads, Planner):
    """File operations between one local synced folder and the server, updating its state."""

    def apply(self, action: Action) -> None:
        """Carry out one action and record its outcome in the state."""
        state = self.state
        if action.kind == PUSH:
            self.push(action.path, action.local, sha_of(action.remote))
        elif action.kind == PULL and action.remote.sha256 == FOLDER:
            (state.root / action.path).mkdir(parents=True, exist_ok=True)
            state.record(action.path, action.remote)
        elif action.kind == PULL:
            target = state.root / action.path
            entry = self.download(action.path, target, action.local, action.remote.mode)
            state.record(action.path, entry)
        elif action.kind == DELETE_REMOTE:
            self.delete_remote(action.path, action.remote.sha256)
            state.record(action.path, None)
        elif action.kind == DELETE_LOCAL:
            self.delete_local(action.path, action.local)
            state.record(action.path, None)
        elif action.kind == CONFLICT:
            self.keep_conflict(action)

    def keep_conflict(self, action: Action) -> None:
        """Save the server's version beside the local file (once per remote version) and remember
        the conflict; the copy stays local (the state ignores it) until ``resolve``."""
        if action.is_folder:
            raise ClientError("a folder on one side and a file on the other: rename one of them")
        known = self.state.conflicts.get(action.path)
        remote = sha_of(action.remote)
        if remote is None or (known is not None and known.remote == remote):
            if known is None:
                raise ClientError("deleted on the server and changed here: resolve by hand")
            return
        copy = conflict_copy_name(action.path, remote)
        if not (self.state.root / copy).exists():
            self.download(action.path, self.state.root / copy, None, action.remote.mode, False)
        if known is not None:  # the server's version changed again: its newer copy replaces it
            self.state.remove_copy(known)
        self.state.conflicts[action.path] = Conflict(sha_of(action.local), remote, copy)

    def run(self, the_plan: Plan, on_done: Callable[[Action], None] | None = None) -> SyncReport:
        """Apply every action of a plan: small pushes in batches, the rest several at once.

        Failures are collected in the report, not raised; the state is saved in any case."""
        report = SyncReport(the_plan)
        for path, entry in the_plan.in_sync.items():
            self.state.record(path, entry)

        def finish(action: Action, error: Exception | None) -> None:
            if error is None:
                report.done.append(action)
                if action.kind == PUSH:
                    self.state.record(action.path, action.local)
                if action.kind == CONFLICT:
                    report.conflict_copies[action.path] = self.state.conflicts[action.path].copy
            elif isinstance(error, PreconditionFailed):
                report.failed.append((action, "changed on the server during the sync; sync again"))
            else:
                message = error.message if isinstance(error, ClientError) else str(error)
                report.failed.append((action, message))
            if on_done:
                on_done(action)

        def one(action: Action) -> None:
            try:
                self.apply(action)
            except (ClientError, OSError, httpx.HTTPError) as e:
                finish(action, e)
            else:
                finish(action, None)

        small = [a for a in the_plan.of_kind(PUSH) if a.local.size <= SMALL_FILE]
        small.sort(key=lambda a: a.local.sha256 != FOLDER)  # folders first in the tar
        batched = small if len(small) > 1 else []
        try:
            for group, outcomes in self.push_batches(batched):
                for action, outcome in zip(group, outcomes, strict=True):
                    finish(action, outcome)
            batched_ids = {id(a) for a in batched}
            rest = [a for a in the_plan.actions if id(a) not in batched_ids]
            with ThreadPoolExecutor(WORKERS) as pool:
                futures = [pool.submit(one, a) for a in rest]
                try:
                    for future in futures:
                        future.result()
                except BaseException:  # Ctrl-C: stop the rest, end those in flight now
                    self.cancel()
                    for future in futures:
                        future.cancel()
                    raise
        finally:
            self.state.save()
        return report

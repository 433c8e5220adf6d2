"""The base of the commands that work on a bound project folder (sync, push, pull, init,
resolve, vscode): the binding, planning, running with progress, the safety halt and the summary
line."""

from __future__ import annotations

import time
from pathlib import Path

from traitlets import Bool, Float, Unicode

from .. import profiles
from ..sync.binding import (
    ask,
    check_bindable,
    confirm_binding,
    default_remote,
    is_interactive,
    parse_remote,
)
from ..sync.lock import ProjectLock
from ..sync.plan import CONFLICT, Plan
from ..sync.planner import HIDDEN_REASON
from ..sync.safety import deletion_warning
from ..sync.state import StateError, SyncState, find_root
from ..sync.summary import summary_line
from ..sync.transfer import Transfer
from .base import RemoteDevCommand
from .exitcodes import CONFLICTS, FAILED, HALTED, OK


class SafetyHalt(StateError):
    """The safety halt stopped a sync that would delete most of one side."""

    exit_code = HALTED


class TransferCommand(RemoteDevCommand):
    """Shared by sync, push, pull, init, resolve and vscode: the project binding, planning,
    running with progress, the safety halt and the summary line."""

    remote = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Server folder (relative to its root; `.` for the whole root) for a new binding. "
        "Default: a folder named like the local one.",
    )
    force = Bool(
        False,
        config=True,
        help="push/pull: also overwrite files changed on the other side; sync: go past the safety "
        "halt on mass deletion.",
    )
    max_delete_share = Float(
        0.5,
        config=True,
        help="The safety halt: a sync that would delete all of one side's files, or more than "
        "this share of them (and at least 3), stops and asks unless --force.",
    )
    # each command names the options it takes, from these
    remote_alias = {"remote": "TransferCommand.remote"}
    max_delete_alias = {"max-delete-share": "TransferCommand.max_delete_share"}
    yes_flag = {
        "yes": ({"JupyterApp": {"answer_yes": True}}, "Bind an unbound folder without asking.")
    }
    force_flag = {
        "force": ({"TransferCommand": {"force": True}}, "Overwrite / go past the safety halt.")
    }

    def open_project(self, start: Path, may_bind: bool = True) -> SyncState:
        """The project bound at or above ``start``; else ``start`` newly bound (not saved yet),
        after checking it may be bound and asking (``--yes`` without a terminal)."""
        self.started = time.perf_counter()  # the summary line's clock
        remote = None if self.remote is None else parse_remote(self.remote)
        root = find_root(start)
        if root is not None:
            self.hold_lock(root)
            return SyncState.load(root, self.profile or None, remote)
        if not may_bind:
            raise StateError(
                f"{start} is not inside a bound project; run `jupyter remote-dev init` first"
            )
        folder = start.resolve()
        check_bindable(folder)
        remote = default_remote(folder) if remote is None else remote
        profile = profiles.profile_name(self.profile)
        self.load_profile(profile)  # a missing profile is reported before asking
        confirm_binding(folder, remote, profile, self.answer_yes)
        if not getattr(self, "dry_run", False):  # a dry run leaves an unbound folder as it was
            self.hold_lock(folder)
        return SyncState(folder, profile, remote)

    project_lock: ProjectLock | None = None

    def hold_lock(self, root: Path) -> None:
        """Take the project's lock for the rest of the command (the process's end frees it)."""
        self.project_lock = ProjectLock(
            root,
            lambda: self.out.note(
                "waiting for another jupyter-remote-dev process working on this project "
                "(a sync, push, pull or sync --watch)"
            ),
        )
        self.project_lock.acquire()

    def check_deletions(self, plan: Plan) -> None:
        """The safety halt: ask in a terminal, else stop with HALTED; ``--force`` skips it."""
        warning = None if self.force else deletion_warning(plan, self.max_delete_share)
        if warning is None:
            return
        if is_interactive() and not self.json_output:
            if ask(f"{warning}. Go ahead? [y/N] "):
                return
        raise SafetyHalt(f"{warning}; stopped for safety (rerun with --force to go ahead)")

    started = 0.0

    def execute(self, client, state: SyncState, plan: Plan, kinds: tuple[str, ...]) -> int:
        chosen = Plan([a for a in plan.actions if a.kind in kinds], plan.in_sync)
        chosen.totals = plan.totals
        self.check_deletions(chosen)
        skipped = [(a.path, a.reason) for a in plan.actions if a.kind not in kinds]
        skipped += plan.skipped
        transfer = Transfer(client, state)
        size = sum(a.size for a in chosen.actions)
        with self.out.progress(len(chosen.actions), size) as (on_file, on_bytes):
            transfer.on_bytes = on_bytes
            report = transfer.run(chosen, on_file)
        for action in report.done:
            if action.kind == CONFLICT:
                copy = report.conflict_copies[action.path]
                self.out.line(
                    f"CONFLICT {action.path}: {action.reason}; the server's version is kept here "
                    f"as {copy} (settle it: jupyter remote-dev resolve --keep local|remote "
                    f"{action.path})"
                )
            else:
                self.out.line(f"{action.kind:13} {action.path}")
        for action, message in report.failed:
            self.out.line(f"FAILED   {action.path}: {message}")
        self.print_skipped(skipped)
        conflicts = [a for a in report.done if a.kind == CONFLICT]
        if not chosen.actions and not skipped:
            self.out.line("everything is in sync")
        line = summary_line(report.done, len(conflicts), time.perf_counter() - self.started)
        self.out.line(line)
        result = report.json()
        result["skipped"] = [{"path": p, "reason": r} for p, r in skipped]
        result["summary_line"] = line
        self.out.result(result)
        if report.failed:
            return FAILED
        return CONFLICTS if plan.conflicts else OK

    def print_skipped(self, skipped: list[tuple[str, str]], most: int = 5) -> None:
        """One line per skipped path, at most ``most`` per reason (then a count); dot-files a
        server turns off in one line, whatever their number."""
        by_reason: dict[str, list[str]] = {}
        for path, reason in skipped:
            by_reason.setdefault(reason, []).append(path)
        for reason, paths in by_reason.items():
            if reason == HIDDEN_REASON:
                self.out.line(f"skipped  {len(paths)} dot-file{'s' * (len(paths) > 1)}: {reason}")
                continue
            for path in paths[:most]:
                self.out.line(f"skipped  {path}: {reason}")
            if len(paths) > most:
                self.out.line(f"skipped  {len(paths) - most} more: {reason}")

"""sync, push, pull and vscode: the subcommands that move files of a bound project folder."""

from __future__ import annotations

import json
import signal
import time
from dataclasses import replace
from pathlib import Path

from traitlets import Bool, Float, Int, Unicode

from . import profiles
from .commands import (
    JSON_FLAG,
    START_FLAG,
    CommandLineError,
    RemoteDevCommand,
    describe_summary,
)
from .errors import ClientError
from .exitcodes import CONFLICTS, FAILED, HALTED, OK
from .sync.binding import (
    BindingError,
    ask,
    check_bindable,
    confirm_binding,
    default_remote,
    is_interactive,
    parse_remote,
    project_relative,
)
from .sync.plan import CONFLICT, DELETE_LOCAL, DELETE_REMOTE, PULL, PUSH, Plan
from .sync.planner import HIDDEN_REASON, IGNORED_REASON
from .sync.safety import deletion_warning
from .sync.state import ProjectLock, StateError, SyncState, find_root
from .sync.summary import summary_line
from .sync.transfer import Transfer
from .vscode import write_vscode


class SafetyHalt(StateError):
    """The safety halt stopped a sync that would delete most of one side."""

    exit_code = HALTED


class _TransferCommand(RemoteDevCommand):
    """Shared by sync, push, pull, init and resolve: the project binding, planning, running with
    progress, the safety halt and the summary line."""

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
    remote_alias = {"remote": "_TransferCommand.remote"}
    max_delete_alias = {"max-delete-share": "_TransferCommand.max_delete_share"}
    yes_flag = {
        "yes": ({"JupyterApp": {"answer_yes": True}}, "Bind an unbound folder without asking.")
    }
    force_flag = {
        "force": ({"_TransferCommand": {"force": True}}, "Overwrite / go past the safety halt.")
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


class SyncApp(_TransferCommand):
    """Three-way sync of the project folder with its server folder; --watch keeps syncing."""

    name = "jupyter-remote-dev-sync"
    description = __doc__
    synopsis = "[PROJECT_DIR] [--dry-run] [--watch] [--force] [--yes] [--remote DIR]"
    dry_run = Bool(False, config=True, help="Print the plan and change nothing.")
    watch = Bool(False, config=True, help="After syncing, push every saved file until Ctrl-C.")
    debounce = Int(50, config=True, help="Watch mode: ms of quiet that ends a burst of changes.")
    retry_max = Float(
        30.0, config=True, help="Watch mode: most seconds between retries while the server is away."
    )
    flags = {
        **_TransferCommand.flags,
        **JSON_FLAG,
        **START_FLAG,
        **_TransferCommand.yes_flag,
        **_TransferCommand.force_flag,
        "dry-run": ({"SyncApp": {"dry_run": True}}, "Show the plan, change nothing."),
        "watch": ({"SyncApp": {"watch": True}}, "Keep pushing saved files until Ctrl-C."),
    }
    aliases = {
        **_TransferCommand.aliases,
        **_TransferCommand.remote_alias,
        **_TransferCommand.max_delete_alias,
        "debounce": "SyncApp.debounce",
    }

    def run(self) -> int:
        if len(self.extra_args) > 1:
            raise CommandLineError(f"usage: {self.usage}")
        cwd = Path.cwd().resolve()
        start = Path(self.extra_args[0]).resolve() if self.extra_args else cwd
        if not start.is_dir():
            raise StateError(f"{start} is not a folder")
        if find_root(start) is None and start in cwd.parents:
            raise BindingError(
                f"{self.extra_args[0]} is outside the current folder {cwd}; to bind it, run "
                "`jupyter remote-dev init` in it"
            )
        state = self.open_project(start)
        profile = self.load_profile(state.profile)
        with self.connect(profile) as client:
            plan = self.with_server(profile, Transfer(client, state).plan)
            if self.dry_run:
                return self.show_plan(plan)
            all_kinds = (PUSH, PULL, DELETE_REMOTE, DELETE_LOCAL, CONFLICT)
            code = self.execute(client, state, plan, all_kinds)
            if self.watch:
                return self.watch_folder(client, state)
        return code

    def show_plan(self, plan: Plan) -> int:
        """``--dry-run``: the plan, and the exit status the sync would have."""
        for action in plan.actions:
            self.out.line(f"{action.kind:13} {action.path}  ({action.reason})")
        self.print_skipped(plan.skipped)
        self.out.line(describe_summary(plan.summary()))
        halt = None if self.force else deletion_warning(plan, self.max_delete_share)
        if halt:
            self.out.note(f"{halt}: sync would stop for safety (--force goes ahead)")
        self.out.result({"dry_run": True, "summary": plan.summary(), "actions": [
            {"kind": a.kind, "path": a.path, "reason": a.reason} for a in plan.actions
        ], "skipped": [{"path": p, "reason": r} for p, r in plan.skipped]})  # fmt: skip
        if plan.conflicts:
            return CONFLICTS
        return HALTED if halt else OK

    def watch_folder(self, client, state: SyncState) -> int:
        from .sync.watch import Watcher  # watchfiles only when watching: CLI start-up

        def report(kind: str, path: str, detail: str) -> None:
            if self.json_output:
                print(json.dumps({"event": kind, "path": path, "detail": detail}), flush=True)
            else:
                self.out.note(f"{kind:8} {path} ({detail})" if path else f"{kind:8} {detail}")

        lock = self.project_lock
        lock.release()  # from now on taken for each burst of changes, so other commands can run
        watcher = Watcher(
            Transfer(client, state), report, self.debounce, backoff_max=self.retry_max, lock=lock
        )
        # SIGTERM (an IDE stopping its task) stops like Ctrl-C: the state saved, exit 0
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            self.out.note(f"watching {state.root} (Ctrl-C to stop)")
            watcher.run()
        except KeyboardInterrupt:
            pass  # before the watch began or between two of its steps: saved all the same
        finally:
            signal.signal(signal.SIGTERM, previous)
        self.out.note("stopped watching; state saved")
        return 0


class _OneWayCommand(_TransferCommand):
    """Shared by push and pull: plan the named paths, run one direction, ``--force`` overwrites."""

    direction: tuple[str, ...] = ()
    overwrite_kind = ""
    synopsis = "PATH... [--force] [--yes] [--remote DIR]"
    flags = {
        **_TransferCommand.flags,
        **JSON_FLAG,
        **START_FLAG,
        **_TransferCommand.yes_flag,
        **_TransferCommand.force_flag,
    }
    aliases = {
        **_TransferCommand.aliases,
        **_TransferCommand.remote_alias,
        **_TransferCommand.max_delete_alias,
    }

    def run(self) -> int:
        if not self.extra_args:
            raise CommandLineError(f"usage: {self.usage}")
        cwd = Path.cwd().resolve()
        root = find_root(cwd) or cwd
        relatives = [project_relative(root, argument, cwd) for argument in self.extra_args]
        state = self.open_project(cwd)
        profile = self.load_profile(state.profile)
        with self.connect(profile) as client:
            moves = Transfer(client, state)
            named_files = all(r and not (state.root / r).is_dir() for r in relatives)
            if self.direction == PushApp.direction and named_files:
                selected = self.with_server(profile, lambda: moves.plan_files(relatives))
            else:
                full = self.with_server(profile, moves.plan)
                selected = select(full, relatives, state)
            if self.force:
                selected.actions = [_forced(a, self.overwrite_kind) for a in selected.actions]
            return self.execute(client, state, selected, self.direction)


def select(full: Plan, relatives: list[str], state: SyncState) -> Plan:
    """The part of ``full`` under the named paths; a path found on neither side is an error, an
    ignored one is named as skipped."""
    found = [a.path for a in full.actions] + list(full.in_sync) + [p for p, _ in full.skipped]
    ignored = []
    for relative in relatives:
        if not relative or _under_any(found, relative):
            continue
        path = state.root / relative
        if path.exists() and state.ignores(relative, path.is_dir()):
            ignored.append((relative, IGNORED_REASON))
        elif not path.exists():
            raise ClientError(f"{relative}: no such file or folder here or on the server")
    chosen = Plan(
        [a for a in full.actions if _under(a.path, relatives)],
        {p: e for p, e in full.in_sync.items() if _under(p, relatives)},
        [(p, r) for p, r in full.skipped if _under(p, relatives)] + ignored,
    )
    chosen.totals = full.totals if "" in relatives else None
    return chosen


def _under_any(paths: list[str], prefix: str) -> bool:
    return any(_under(p, [prefix]) for p in paths)


def _under(path: str, prefixes: list[str]) -> bool:
    return any(p == "" or path == p or path.startswith(p + "/") for p in prefixes)


def _forced(action, kind: str):
    """A conflict or other-side change turned into ``kind`` (``--force``), where the side it
    copies from has the file."""
    source = action.local if kind == PUSH else action.remote
    if action.kind in (CONFLICT, PULL, PUSH) and source is not None:
        return replace(action, kind=kind, reason="forced")
    return action


class PushApp(_OneWayCommand):
    """Send files or folders of the project to the server."""

    name = "jupyter-remote-dev-push"
    description = __doc__
    direction = (PUSH, DELETE_REMOTE)
    overwrite_kind = PUSH


class PullApp(_OneWayCommand):
    """Fetch files or folders of the project from the server."""

    name = "jupyter-remote-dev-pull"
    description = __doc__
    direction = (PULL, DELETE_LOCAL)
    overwrite_kind = PULL


class VSCodeApp(_TransferCommand):
    """Write VS Code tasks (run current file remotely, sync, pull) and run-on-save settings,
    merged into existing .vscode files."""

    name = "jupyter-remote-dev-vscode"
    description = __doc__
    synopsis = "[PROJECT_DIR] [--profile NAME] [--yes] [--remote DIR]"
    flags = {**_TransferCommand.flags, **JSON_FLAG, **_TransferCommand.yes_flag}
    aliases = {**_TransferCommand.aliases, **_TransferCommand.remote_alias}

    def run(self) -> int:
        local = Path(self.extra_args[0] if self.extra_args else ".").resolve()
        state = self.open_project(local)
        state.save()
        results = write_vscode(state.root, state.remote_dir, self.profile or None)
        for path, what in results.items():
            self.out.line(f"{what:10} {path}")
        self.out.note("install the Run on Save extension (emeraldwalk.RunOnSave) for push on save")
        self.out.result(results)
        return 0

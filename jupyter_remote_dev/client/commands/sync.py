"""sync, push and pull: the subcommands that move files of a bound project folder."""

from __future__ import annotations

import json
import signal
from dataclasses import replace
from pathlib import Path

from traitlets import Bool, Float, Int

from ..errors import ClientError
from ..sync.binding import BindingError, project_relative
from ..sync.plan import CONFLICT, DELETE_LOCAL, DELETE_REMOTE, PULL, PUSH, Plan
from ..sync.planner import IGNORED_REASON
from ..sync.safety import deletion_warning
from ..sync.state import StateError, SyncState, find_root
from ..sync.summary import describe_summary
from ..sync.transfer import Transfer
from .base import JSON_FLAG, START_FLAG, CommandLineError
from .exitcodes import CONFLICTS, HALTED, OK
from .transfer import TransferCommand


class SyncApp(TransferCommand):
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
        **TransferCommand.flags,
        **JSON_FLAG,
        **START_FLAG,
        **TransferCommand.yes_flag,
        **TransferCommand.force_flag,
        "dry-run": ({"SyncApp": {"dry_run": True}}, "Show the plan, change nothing."),
        "watch": ({"SyncApp": {"watch": True}}, "Keep pushing saved files until Ctrl-C."),
    }
    aliases = {
        **TransferCommand.aliases,
        **TransferCommand.remote_alias,
        **TransferCommand.max_delete_alias,
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
            moves = Transfer(client, state)
            plan = self.with_server(profile, lambda: moves.plan(self.server_info))
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
        from ..sync.watch import Watcher  # watchfiles only when watching: CLI start-up

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


class _OneWayCommand(TransferCommand):
    """Shared by push and pull: plan the named paths, run one direction, ``--force`` overwrites."""

    direction: tuple[str, ...] = ()
    overwrite_kind = ""
    synopsis = "PATH... [--force] [--yes] [--remote DIR]"
    flags = {
        **TransferCommand.flags,
        **JSON_FLAG,
        **START_FLAG,
        **TransferCommand.yes_flag,
        **TransferCommand.force_flag,
    }
    aliases = {
        **TransferCommand.aliases,
        **TransferCommand.remote_alias,
        **TransferCommand.max_delete_alias,
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
                selected = self.with_server(
                    profile, lambda: moves.plan_files(relatives, self.server_info)
                )
            else:
                full = self.with_server(profile, lambda: moves.plan(self.server_info))
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

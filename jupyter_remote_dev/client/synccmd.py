"""sync, push, pull and vscode: the subcommands that bind a local folder to a server folder."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from traitlets import Bool, Float, Int, Unicode

from . import profiles
from .api import ClientError, RemoteDevClient
from .commands import CONFLICT_EXIT, RemoteDevCommand, describe_summary
from .state import StateError, SyncState, find_root
from .syncplan import CONFLICT, DELETE_LOCAL, DELETE_REMOTE, PULL, PUSH, Plan
from .transfer import Transfer
from .vscode import write_vscode


class _TransferCommand(RemoteDevCommand):
    """Shared by sync, push and pull: folder binding, planning, running with progress."""

    remote = Unicode("", config=True, help="Server folder (relative to its root) for this folder.")
    aliases = {**RemoteDevCommand.aliases, "remote": "_TransferCommand.remote"}

    def bind(self, local: Path) -> SyncState:
        """The state of ``local``'s synced folder, or a new binding of ``local`` itself."""
        root = find_root(local)
        if root is not None:
            return SyncState.load(root, self.profile or None, self.remote or None)
        if not local.is_dir():
            raise StateError(f"{local} is not a folder")
        return SyncState.load(local, profiles.profile_name(self.profile), self.remote)

    def execute(self, client, state: SyncState, plan: Plan, kinds: tuple[str, ...]) -> int:
        chosen = Plan([a for a in plan.actions if a.kind in kinds], plan.in_sync)
        skipped = [a for a in plan.actions if a.kind not in kinds]
        transfer = Transfer(client, state)
        size = sum(a.size for a in chosen.actions)
        with self.out.progress(len(chosen.actions), size) as (on_file, on_bytes):
            transfer.on_bytes = on_bytes
            report = transfer.run(chosen, on_file)
        for action in report.done:
            if action.kind == CONFLICT:
                copy = report.conflict_copies[action.path]
                self.out.line(
                    f"CONFLICT {action.path}: {action.reason}; server version saved as {copy}"
                )
            else:
                self.out.line(f"{action.kind:13} {action.path}")
        for action, message in report.failed:
            self.out.line(f"FAILED   {action.path}: {message}")
        for action in skipped:
            self.out.line(f"skipped  {action.path}: {action.reason}")
        result = report.json()
        result["skipped"] = [{"path": a.path, "reason": a.reason} for a in skipped]
        self.out.result(result)
        if not chosen.actions and not skipped:
            self.out.line("everything is in sync")
        if report.failed:
            return 1
        return CONFLICT_EXIT if plan.conflicts else 0


class SyncApp(_TransferCommand):
    """Three-way sync of a local folder with a server folder.

    jupyter remote-dev sync [LOCAL_DIR] [--remote DIR] [--dry-run] [--watch]
    """

    name = "jupyter-remote-dev-sync"
    description = __doc__
    dry_run = Bool(False, config=True, help="Print the plan and change nothing.")
    watch = Bool(False, config=True, help="After syncing, push every saved file until Ctrl-C.")
    debounce = Int(50, config=True, help="Watch mode: ms of quiet that ends a burst of changes.")
    retry_max = Float(
        30.0, config=True, help="Watch mode: most seconds between retries while the server is away."
    )
    flags = {
        **_TransferCommand.flags,
        "dry-run": ({"SyncApp": {"dry_run": True}}, "Show the plan, change nothing."),
        "watch": ({"SyncApp": {"watch": True}}, "Keep pushing saved files until Ctrl-C."),
    }
    aliases = {**_TransferCommand.aliases, "debounce": "SyncApp.debounce"}

    def run(self) -> int:
        if len(self.extra_args) > 1:
            raise ClientError("usage: jupyter remote-dev sync [LOCAL_DIR] [--remote DIR]")
        local = Path(self.extra_args[0] if self.extra_args else ".").resolve()
        if not local.is_dir():
            raise StateError(f"{local} is not a folder")
        root = find_root(local)
        if root is not None and root != local:
            raise StateError(f"{local} is inside the synced folder {root}; sync that one")
        state = self.bind(local)
        profile = self.load_profile(state.profile)
        with RemoteDevClient(profile) as client:
            plan = self.with_server(profile, Transfer(client, state).plan)
            if self.dry_run:
                for action in plan.actions:
                    self.out.line(f"{action.kind:13} {action.path}  ({action.reason})")
                self.out.line(describe_summary(plan.summary()))
                self.out.result({"dry_run": True, "summary": plan.summary(), "actions": [
                    {"kind": a.kind, "path": a.path, "reason": a.reason} for a in plan.actions
                ]})  # fmt: skip
                return 0
            all_kinds = (PUSH, PULL, DELETE_REMOTE, DELETE_LOCAL, CONFLICT)
            code = self.execute(client, state, plan, all_kinds)
            if self.watch:
                return self.watch_folder(client, state)
        return code

    def watch_folder(self, client, state: SyncState) -> int:
        from .watch import Watcher  # watchfiles only when watching: CLI start-up

        def report(kind: str, path: str, detail: str) -> None:
            if self.json_output:
                print(json.dumps({"event": kind, "path": path, "detail": detail}), flush=True)
            else:
                self.out.note(f"{kind:8} {path} ({detail})" if path else f"{kind:8} {detail}")

        self.out.note(f"watching {state.root} (Ctrl-C to stop)")
        Watcher(Transfer(client, state), report, self.debounce, backoff_max=self.retry_max).run()
        self.out.note("stopped watching; state saved")
        return 0


class _OneWayCommand(_TransferCommand):
    """Shared by push and pull: plan the named paths, run one direction, ``--force`` overwrites."""

    force = Bool(False, config=True, help="Also overwrite files changed on the other side.")
    flags = {**_TransferCommand.flags, "force": ({"_OneWayCommand": {"force": True}}, "Overwrite.")}
    direction: tuple[str, ...] = ()
    overwrite_kind = ""

    def run(self) -> int:
        if not self.extra_args:
            raise ClientError(f"usage: jupyter remote-dev {self.name.rsplit('-', 1)[1]} PATH...")
        paths = [Path(p).resolve() for p in self.extra_args]
        here = Path.cwd().resolve()
        inside = all(p.is_relative_to(here) for p in paths)
        state = self.bind(here if inside else (paths[0] if paths[0].is_dir() else paths[0].parent))
        relatives = ["" if r == "." else r for r in (state.relative(p) for p in paths)]
        profile = self.load_profile(state.profile)
        with RemoteDevClient(profile) as client:
            moves = Transfer(client, state)
            if all(r and not (state.root / r).is_dir() for r in relatives):
                selected = self.with_server(profile, lambda: moves.plan_files(relatives))
            else:
                full = self.with_server(profile, moves.plan)
                selected = Plan(
                    [a for a in full.actions if _under(a.path, relatives)],
                    {p: e for p, e in full.in_sync.items() if _under(p, relatives)},
                )
            if self.force:
                selected.actions = [_forced(a, self.overwrite_kind) for a in selected.actions]
            return self.execute(client, state, selected, self.direction)


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
    """Send local files or folders to the server: jupyter remote-dev push PATH... [--force]."""

    name = "jupyter-remote-dev-push"
    description = __doc__
    direction = (PUSH, DELETE_REMOTE)
    overwrite_kind = PUSH


class PullApp(_OneWayCommand):
    """Fetch files or folders from the server: jupyter remote-dev pull PATH... [--force]."""

    name = "jupyter-remote-dev-pull"
    description = __doc__
    direction = (PULL, DELETE_LOCAL)
    overwrite_kind = PULL


class VSCodeApp(_TransferCommand):
    """Write VS Code tasks (run current file remotely, sync, pull) and run-on-save settings.

    jupyter remote-dev vscode [LOCAL_DIR] [--remote DIR]: merged into existing .vscode files.
    """

    name = "jupyter-remote-dev-vscode"
    description = __doc__

    def run(self) -> int:
        local = Path(self.extra_args[0] if self.extra_args else ".").resolve()
        state = self.bind(local)
        state.save()
        results = write_vscode(state.root, state.remote_dir, self.profile or None)
        for path, what in results.items():
            self.out.line(f"{what:10} {path}")
        self.out.note("install the Run on Save extension (emeraldwalk.RunOnSave) for push on save")
        self.out.result(results)
        return 0

"""init and resolve: binding a project folder, and settling one conflict."""

from __future__ import annotations

from pathlib import Path

from traitlets import Enum

from ..sync.binding import (
    BindingError,
    check_bindable,
    default_remote,
    parse_remote,
    project_relative,
)
from ..sync.plan import Entry
from ..sync.state import STATE_DIR, StateError, SyncState, find_root
from ..sync.transfer import Transfer
from .base import JSON_FLAG, START_FLAG, CommandLineError
from .exitcodes import OK
from .transfer import TransferCommand


class InitApp(TransferCommand):
    """Bind a project folder to a server folder.

    The default server folder is named like the local one; `--remote .` binds the whole server
    root. Nothing is sent: run `sync` next.
    """

    name = "jupyter-remote-dev-init"
    description = __doc__
    synopsis = "[PROJECT_DIR] [--remote DIR] [--profile NAME]"
    flags = {**TransferCommand.flags, **JSON_FLAG}
    aliases = {**TransferCommand.aliases, **TransferCommand.remote_alias}

    def run(self) -> int:
        if len(self.extra_args) > 1:
            raise CommandLineError(f"usage: {self.usage}")
        folder = Path(self.extra_args[0] if self.extra_args else ".").resolve()
        remote = default_remote(folder) if self.remote is None else parse_remote(self.remote)
        if not folder.is_dir():
            raise StateError(f"{folder} is not a folder")
        root = find_root(folder)
        if root is not None:
            bound = SyncState.load(root)
            raise BindingError(
                f"{folder} is already bound (project {root}, server folder "
                f"{bound.remote_dir or '.'}/); to bind it anew delete {root / STATE_DIR}"
            )
        check_bindable(folder)
        profile = self.load_profile().name
        SyncState(folder, profile, remote).save()
        where = f"{remote}/" if remote else "/ (the whole server root)"
        self.out.line(
            f"bound {folder} to the server folder {where} (profile {profile!r}); "
            "`jupyter remote-dev sync` syncs it"
        )
        self.out.result({"root": str(folder), "remote_dir": remote, "profile": profile})
        return OK


class ResolveApp(TransferCommand):
    """Settle a sync conflict.

    `local` sends your file over the server's; `remote` takes the server's file. The conflict copy
    (`name.remote-<hash>.ext`) is removed unless you edited it.
    """

    name = "jupyter-remote-dev-resolve"
    description = __doc__
    synopsis = "--keep local|remote PATH..."
    flags = {**TransferCommand.flags, **JSON_FLAG, **START_FLAG}
    keep = Enum(
        ["local", "remote"], None, allow_none=True, config=True, help="Which version to keep."
    )
    aliases = {**TransferCommand.aliases, "keep": "ResolveApp.keep"}

    def run(self) -> int:
        if not self.extra_args or self.keep is None:
            raise CommandLineError(f"usage: {self.usage}")
        cwd = Path.cwd().resolve()
        state = self.open_project(cwd, may_bind=False)
        relatives = [project_relative(state.root, a, cwd) for a in self.extra_args]
        for relative in relatives:
            if relative not in state.conflicts:
                raise StateError(f"{relative or '.'} is not in conflict (`status` lists conflicts)")
        profile = self.load_profile(state.profile)
        with self.connect(profile) as client:
            moves = Transfer(client, state)
            try:
                for relative in relatives:
                    self.with_server(profile, lambda r=relative: self.settle(moves, r))
                    self.out.line(f"resolved {relative}: kept the {self.keep} version")
            finally:
                state.save()
        self.out.result({"resolved": relatives, "kept": self.keep})
        return OK

    def settle(self, moves: Transfer, relative: str) -> None:
        """Make both sides hold the kept version of ``relative`` and record it as synced."""
        state = moves.state
        local = state.local_entry(relative)
        head = moves.client.head_file(state.remote_path(relative))
        remote_sha = head[0] if head else None
        if self.keep == "local":
            if local is not None:
                moves.push(relative, local, remote_sha)
            elif remote_sha is not None:
                moves.delete_remote(relative, remote_sha)
            state.record(relative, local)
            return
        if head is None:
            if local is not None:
                moves.delete_local(relative, local)
            state.record(relative, None)
            return
        mode = head[2] if head[2] is not None else 0o644
        entry = moves.download(relative, state.root / relative, local, mode)
        state.record(relative, Entry(entry.sha256, entry.size, entry.mode))

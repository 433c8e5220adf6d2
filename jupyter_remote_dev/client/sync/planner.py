"""Planning a sync: the server's ignore rules and dot-file policy (``GET info``), the remote
manifest (``GET tree/``) with its empty folders, the local tree, and the three-way plan of the
whole project or of a few named files (a ``HEAD`` each)."""

from __future__ import annotations

from ...files.manifest import DEFAULT_IGNORE_PATTERNS
from ..api import RemoteDevClient
from ..errors import ClientError, NotFoundError
from .background import Background
from .gcpause import gc_paused
from .plan import FOLDER, Entry, Plan, plan, plan_path
from .state import SyncState

IGNORED_REASON = "ignored (.gitignore, .remotedevignore or the server's list)"
HIDDEN_REASON = (
    "the server turns dot-files off (RemoteDevExtension.allow_hidden_files is False there); "
    "they stay here"
)
"""Why a dot-file is skipped: a server policy, so the CLI says it once per command."""


class Planner:
    """The planning half of :class:`~.transfer.Transfer`."""

    client: RemoteDevClient
    state: SyncState

    def use_server_ignores(self, info: dict | None = None) -> None:
        """Take the server's ignore patterns from ``GET info`` (an older server that reports none
        uses the default), so the local side leaves out exactly what its tree listings do.

        ``info``: the answer the command got when it connected, which saves asking again."""
        info = self.client.info() if info is None else info
        patterns = info.get("ignore_patterns", DEFAULT_IGNORE_PATTERNS)
        if not isinstance(patterns, list | tuple) or not all(isinstance(p, str) for p in patterns):
            raise ClientError(f"the server reported invalid ignore_patterns: {patterns!r}")
        self.state.use_server_ignore(tuple(patterns))
        self.state.hides_dotfiles = info.get("allow_hidden") is not True

    def remote_listing(self) -> dict | None:
        """``GET tree/`` of the remote folder (None if the folder does not exist yet)."""
        try:
            return self.client.tree(self.state.remote_dir)
        except NotFoundError:
            return None

    def remote_manifest(self, tree: dict | None) -> dict[str, Entry]:
        """The remote folder's files and empty folders, from its listing ``tree`` (None: the
        folder does not exist yet)."""
        if tree is None:
            return {}
        found = {
            f["path"]: Entry(f["sha256"], f["size"], f.get("mode", 0o644))
            for f in tree["files"]
            if not self.state.ignores(f["path"])
        }
        for folder in tree.get("folders", ()):
            if not self.state.ignores(folder, is_dir=True):
                found[folder] = Entry(FOLDER, 0, 0o755)
        return found

    def plan_files(self, relatives: list[str], info: dict | None = None) -> Plan:
        """The plan for a few named files only: a HEAD each instead of a whole tree listing
        (``info``: see :meth:`use_server_ignores`)."""
        self.use_server_ignores(info)
        result = Plan()
        for relative in relatives:
            if self.state.ignores(relative):
                result.skipped.append((relative, IGNORED_REASON))
                continue
            if self.state.hidden_on_server(relative):
                result.skipped.append((relative, HIDDEN_REASON))
                continue
            local = self.state.local_entry(relative)
            head = self.client.head_file(self.state.remote_path(relative))
            remote = None
            if head is not None:
                mode = head[2] if head[2] is not None else (local.mode if local else 0o644)
                remote = Entry(head[0], head[1], mode)
            base, in_conflict = self.state.base.get(relative), relative in self.state.conflicts
            result.add(relative, plan_path(relative, local, remote, base, in_conflict), local)
            if local is None and remote is None and base is None:
                raise ClientError(f"{relative}: no such file here or on the server")
        return result

    @gc_paused
    def plan(self, info: dict | None = None) -> Plan:
        """The three-way plan between the local folder, the server folder and the last sync
        (``info``: see :meth:`use_server_ignores`)."""
        self.use_server_ignores(info)
        listing = Background(self.remote_listing, "remote-dev-listing")  # the server lists
        tree = self.state.local_tree()  # while this folder is scanned
        local, skipped = tree.entries, list(tree.skipped)
        if self.state.hides_dotfiles:
            hidden = sorted(p for p in local if self.state.hidden_on_server(p))
            skipped += [(p, HIDDEN_REASON) for p in hidden]
            for path in hidden:
                del local[path]
        remote = self.remote_manifest(listing.result())
        base = {p: e for p, e in self.state.base.items() if not self.state.hidden_on_server(p)}
        result = plan(local, remote, base, self.state.conflicts)
        result.skipped = sorted(skipped)
        result.totals = (
            sum(1 for e in local.values() if e.sha256 != FOLDER),
            sum(1 for e in remote.values() if e.sha256 != FOLDER),
        )
        return result

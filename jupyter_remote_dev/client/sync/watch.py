"""``sync --watch``: push each saved file as soon as the editor has written it.

watchfiles reports changes, grouped for ``debounce`` ms of quiet so an editor's write-rename dance
is one push. Only files whose content differs from the last-synced state are sent (``If-Match`` on
that state, so a file also changed on the server is reported, not clobbered). When the network
drops or the server is away (stopped by the hub's idle culler, say), pending changes are kept and
retried with exponential backoff: the user is told once that it waits and once that it resumed,
and no change is dropped. Ctrl-C saves the state and stops cleanly.

Another command may work on the project meanwhile (a typed ``sync``, ``resolve``): each burst is
handled holding the project's lock, on the state as that command left it, so a conflict it recorded
stays recorded, its conflict copy stays local and what it synced is not pushed again.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import watchfiles

from ..errors import ChangedDuringSync, ClientError, PreconditionFailed, ServerNotRunning
from .lock import ProjectLock
from .plan import sha_of
from .state import SyncState
from .transfer import Transfer

BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0


class Watcher:
    """Pushes the changes of one synced folder; ``report(kind, path, detail)`` tells the user."""

    def __init__(
        self,
        transfer: Transfer,
        report: Callable[[str, str, str], None],
        debounce_ms: int = 50,
        stop: threading.Event | None = None,
        backoff_max: float = BACKOFF_MAX,
        lock: ProjectLock | None = None,
    ):
        self.transfer = transfer
        self.state: SyncState = transfer.state
        self.lock = lock or ProjectLock(self.state.root)
        self.report = report
        self.debounce_ms = debounce_ms
        self.stop = stop or threading.Event()
        self.pending: set[str] = set()
        self.retry_at = 0.0
        self.backoff = BACKOFF_FIRST
        self.backoff_max = backoff_max
        self.away: str | None = None  # why the server cannot be reached, while it cannot

    def _relative(self, path: str) -> str | None:
        try:
            return Path(path).relative_to(self.state.root).as_posix()
        except ValueError:
            return None

    def _syncs(self, relative: str) -> bool:
        """Whether ``relative`` is sent: not ignored, not a conflict copy, not hidden there."""
        return not (self.state.ignores(relative) or self.state.hidden_on_server(relative))

    def _affected(self, relative: str) -> set[str]:
        """The path itself; for a folder, every file under it (new) or synced under it (gone)."""
        path = self.state.root / relative
        if path.is_dir():
            found = set()
            for folder, _, names in os.walk(path):
                for name in names:
                    found.add(Path(folder, name).relative_to(self.state.root).as_posix())
            return {p for p in found if not self.state.ignores(p)}
        if path.exists() or relative in self.state.base:
            return {relative}
        prefix = relative + "/"
        return {p for p in self.state.base if p.startswith(prefix)}

    def push_one(self, relative: str) -> None:
        """Bring the server in line with the local file (content, creation or deletion)."""
        if relative in self.state.conflicts:
            self.report("conflict", relative, "unresolved: `resolve --keep local|remote` it")
            return
        local = self.state.local_entry(relative)
        base = self.state.base.get(relative)
        if sha_of(local) == sha_of(base):
            return
        started = time.perf_counter()
        if local is None:
            self.transfer.delete_remote(relative, base.sha256)
            self.state.record(relative, None)
            kind = "deleted"
        else:
            self.transfer.push(relative, local, sha_of(base))
            self.state.record(relative, local)
            kind = "pushed"
        self._back()
        self.report(kind, relative, f"{(time.perf_counter() - started) * 1000:.0f} ms")

    def flush(self) -> None:
        """Push every pending path; keep them pending (with backoff) while the server is away.

        Holding the project's lock, on the state as saved by whichever process saved it last."""
        if not self.pending or time.monotonic() < self.retry_at:
            return
        with self.lock:
            self.state.reload()
            try:
                self._flush()
            finally:
                self.state.save()

    def _flush(self) -> None:
        wanted = {r for r in self.pending if self._syncs(r)}
        self.pending = {p for r in wanted for p in self._affected(r) if self._syncs(p)}
        for relative in sorted(self.pending):
            try:
                self.push_one(relative)
            except PreconditionFailed:
                self.report("conflict", relative, "changed on the server too; run sync to resolve")
            except ChangedDuringSync:
                continue  # the next change event brings it back
            except ClientError as e:
                if _server_away(e):
                    self._wait(relative, e)
                    break
                self._back()
                self.report("error", relative, e.message)
            except OSError as e:
                self.report("error", relative, str(e))
            self.pending.discard(relative)
        else:
            self.backoff = BACKOFF_FIRST

    def _wait(self, relative: str, error: ClientError) -> None:
        """Keep the changes queued and retry later; tell the user when the waiting starts."""
        self.retry_at = time.monotonic() + self.backoff
        if self.away is None:
            hint = "; start it from the hub" if isinstance(error, ServerNotRunning) else ""
            queued = len(self.pending)
            self.report(
                "waiting", relative, f"{error.message}{hint}; {queued} change(s) queued, retrying"
            )
        self.away = error.message
        self.backoff = min(self.backoff * 2, self.backoff_max)

    def _back(self) -> None:
        """A request went through: if the server was away, say once that it is back."""
        if self.away is not None:
            self.away = None
            self.report("resumed", "", "the server answers again; pushing the queued changes")

    def run(self) -> None:
        """Watch until Ctrl-C or ``stop`` is set."""
        changes = watchfiles.watch(
            self.state.root,
            watch_filter=None,
            debounce=max(self.debounce_ms, 1),
            step=max(min(self.debounce_ms, 50), 1),
            stop_event=self.stop,
            rust_timeout=500,
            yield_on_timeout=True,
            raise_interrupt=True,  # caught here: watchfiles would log a line of its own
        )
        try:
            for batch in changes:
                for _, path in batch:
                    relative = self._relative(path)
                    if relative is not None:
                        self.pending.add(relative)
                self.flush()
        except KeyboardInterrupt:
            pass  # each flush saved the state, holding the lock


def _server_away(error: ClientError) -> bool:
    """Whether waiting can cure ``error``: no connection, a gateway error, or a stopped server."""
    return isinstance(error, ServerNotRunning) or error.status in (None, 502, 503, 504)

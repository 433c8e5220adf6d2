"""Moving files: push, pull, delete and conflict copies, and running a whole sync plan.

Every write is conditional: a push sends ``If-Match`` with the remote hash the plan saw (or
``If-None-Match: *`` for a new file) and ``X-Content-SHA256``, so a concurrent remote edit is never
clobbered and a file edited during the upload is refused whole. Pulls stream into a temp file beside
the target, are checked against their hash and renamed into place only if the local file is still
what the plan saw. Small pushes go together through ``POST batch``; big files go through the
resumable ``uploads/`` protocol and continue where they stopped after a dropped connection.
Empty folders travel as folder members of a batch and are removed only while empty.

Ctrl-C cancels the requests in flight within one 64 KiB piece of a body (:meth:`Transfer.cancel`):
the server discards an incomplete upload and keeps the previous version, a download's temp file is
removed. The progress callback counts each byte of the plan once.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import posixpath
import tarfile
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import httpx

from ..api import RemoteDevClient
from ..errors import ClientError, NotFoundError, PreconditionFailed
from .plan import (
    CONFLICT,
    DELETE_LOCAL,
    DELETE_REMOTE,
    FOLDER,
    PULL,
    PUSH,
    Action,
    Entry,
    Plan,
    conflict_copy_name,
    sha_of,
)
from .planner import Planner
from .state import Conflict, SyncState

SMALL_FILE = 1024 * 1024
"""Files up to this size are read into memory and may travel in a batch."""
RESUMABLE_FILE = 64 * 1024 * 1024
"""Files over this size use resumable uploads."""
UPLOAD_SEGMENT = 16 * 1024 * 1024
BATCH_FILES = 500
BATCH_BYTES = 32 * 1024 * 1024
"""A batch request carries at most this many files and bytes."""
WORKERS = 4
TEMP_PREFIX = ".~remote-dev-"
PIECE = 64 * 1024
"""Bodies are sent and received in pieces of this size; a cancel takes effect between two."""


class ChangedDuringSync(ClientError):
    """A file changed between planning and doing; the next sync will see it."""


class Cancelled(Exception):
    """The transfer was cancelled (Ctrl-C) while this request was in flight."""


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


def _etag(entry_sha: str | None) -> dict[str, str]:
    return {"If-Match": f'"{entry_sha}"'} if entry_sha else {"If-None-Match": "*"}


class Transfer(Planner):
    """File operations between one local synced folder and the server, updating its state."""

    def __init__(
        self,
        client: RemoteDevClient,
        state: SyncState,
        on_bytes: Callable[[int], None] | None = None,
    ):
        self.client = client
        self.state = state
        self.on_bytes = on_bytes or (lambda n: None)
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        """Stop every request in flight at its next piece (from any thread)."""
        self.cancelled.set()

    def _pieces(self, file: BinaryIO, size: int) -> Iterator[bytes]:
        """The next ``size`` bytes of ``file`` as an upload body, stopping if cancelled."""
        left = size
        while left:
            if self.cancelled.is_set():
                raise Cancelled("cancelled")
            piece = file.read(min(PIECE, left))
            if not piece:
                raise ChangedDuringSync(f"{file.name} shrank while it was uploaded")
            left -= len(piece)
            yield piece

    def files_url(self, relative: str) -> str:
        return self.client.api_url("files/" + self.state.remote_path(relative))

    # ----- remote side -----
    def push(
        self, relative: str, local: Entry, remote_sha: str | None, force: bool = False
    ) -> Entry:
        """Upload one file, only over ``remote_sha`` (None: only if absent) unless ``force``."""
        if local.sha256 == FOLDER:
            self._raise_outcome(self.push_batch([Action(PUSH, relative, local, None)])[0])
            return local
        headers = {} if force else _etag(remote_sha)
        headers["X-Content-SHA256"] = local.sha256
        headers["X-File-Mode"] = f"{local.mode:o}"
        path = self.state.root / relative
        if local.size > RESUMABLE_FILE:
            self._resumable_push(relative, local, headers)  # counts its segments
            return local
        if local.size <= SMALL_FILE:
            self._put(relative, path.read_bytes(), headers)
        else:
            with path.open("rb") as file:
                headers["Content-Length"] = str(local.size)
                self._put(relative, self._pieces(file, local.size), headers)
        self.on_bytes(local.size)
        return local

    @staticmethod
    def _raise_outcome(outcome: Exception | None) -> None:
        if outcome is not None:
            raise outcome

    def _put(self, relative: str, body, headers: dict) -> None:
        try:
            self.client.request("PUT", self.files_url(relative), content=body, headers=headers)
        except ClientError as e:
            if e.status == 400 and "sha256" in e.message.lower():
                raise ChangedDuringSync(f"{relative} changed while it was uploaded") from e
            raise

    def _resumable_push(self, relative: str, local: Entry, headers: dict) -> None:
        conditions = {k: v for k, v in headers.items() if k.startswith("If-")}
        body = {
            "path": self.state.remote_path(relative),
            "size": local.size,
            "sha256": local.sha256,
            "mode": f"{local.mode:o}",
        }
        created = self.client.request(
            "POST", self.client.api_url("uploads"), json=body, headers=conditions
        ).json()
        url = self.client.api_url(f"uploads/{created['id']}")
        offset, failures = 0, 0
        with (self.state.root / relative).open("rb") as file:
            while offset < local.size:
                end = min(offset + UPLOAD_SEGMENT, local.size)
                file.seek(offset)
                headers = {
                    "Content-Range": f"bytes {offset}-{end - 1}/{local.size}",
                    "Content-Length": str(end - offset),
                }
                try:
                    body = self._pieces(file, end - offset)
                    self.client.request("PUT", url, content=body, headers=headers)
                except Cancelled:
                    with contextlib.suppress(ClientError, httpx.HTTPError):  # else swept later
                        self.client.request("DELETE", url, timeout=0.5)
                    raise
                except ClientError as e:
                    failures += 1
                    if e.status is not None or failures > 5:
                        raise
                    head = self.client.request("HEAD", url, idempotent=True)
                    offset = int(head.headers["Upload-Offset"])
                    continue
                self.on_bytes(end - offset)
                offset = end

    def push_batch(self, actions: list[Action]) -> list[Exception | None]:
        """Upload small files in one ``POST batch`` tar; one outcome (None: done) per action."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for action in actions:
                if action.local.sha256 == FOLDER:
                    folder = tarfile.TarInfo(action.path)
                    folder.type, folder.mode = tarfile.DIRTYPE, 0o755
                    archive.addfile(folder)
                    continue
                data = (self.state.root / action.path).read_bytes()
                member = tarfile.TarInfo(action.path)
                member.size, member.mode = len(data), action.local.mode
                conditions = _etag(sha_of(action.remote))
                member.pax_headers = {
                    "REMOTE_DEV.sha256": action.local.sha256,
                    **{
                        f"REMOTE_DEV.{k.lower().replace('-', '_')}": v
                        for k, v in conditions.items()
                    },
                }
                archive.addfile(member, io.BytesIO(data))
        response = self.client.request(
            "POST",
            self.client.api_url("batch"),
            params={"root": self.state.remote_dir},
            content=buffer.getvalue(),
            headers={"Content-Type": "application/x-tar"},
        )
        results = response.json()["results"]
        outcomes: list[Exception | None] = []
        for action, result in zip(actions, results, strict=True):
            status, message = result["status"], result.get("message", "")
            if status < 300:
                outcomes.append(None)
                self.on_bytes(action.local.size)
            elif status == 412:
                outcomes.append(PreconditionFailed(message, status))
            elif status == 400 and "sha256" in message.lower():
                outcomes.append(ChangedDuringSync(f"{action.path} changed while it was uploaded"))
            else:
                outcomes.append(ClientError(f"{action.path}: {message} (HTTP {status})", status))
        return outcomes

    def delete_remote(self, relative: str, remote_sha: str) -> None:
        """Delete the remote file only if it still holds ``remote_sha`` (a folder: while empty);
        then the server folders above it that are gone here, while they are empty."""
        if not self._delete_remote(relative, remote_sha):
            return
        parent = posixpath.dirname(relative)
        while parent and not (self.state.root / parent).exists():
            if not self._delete_remote(parent, FOLDER):
                break
            parent = posixpath.dirname(parent)

    def _delete_remote(self, relative: str, remote_sha: str) -> bool:
        """One DELETE; False for a folder that is no longer empty."""
        headers = {} if remote_sha == FOLDER else _etag(remote_sha)
        try:
            self.client.request(
                "DELETE", self.files_url(relative), headers=headers, idempotent=True
            )
        except NotFoundError:
            pass
        except ClientError as e:
            if remote_sha == FOLDER and e.status == 409:  # no longer empty: keep it
                return False
            raise
        return True

    # ----- local side -----
    def download(
        self,
        relative: str,
        target: Path,
        expect_local: Entry | None,
        mode: int | None = None,
        counted: bool = True,
    ) -> Entry:
        """Stream the remote file into ``target`` (atomically), if the local file is unchanged.

        ``counted``: its bytes are part of the plan's total (a conflict copy's are not)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=target.parent)
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as out:
                with self.client.stream("GET", self.files_url(relative)) as response:
                    for chunk in response.iter_bytes(PIECE):
                        if self.cancelled.is_set():
                            raise Cancelled("cancelled")
                        out.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
                        if counted:
                            self.on_bytes(len(chunk))
                out.flush()
                os.fsync(out.fileno())
            if self._local_sha(target) != sha_of(expect_local):
                raise ChangedDuringSync(f"{relative} changed here during the sync; kept as is")
            os.chmod(tmp, (mode or 0o644) & 0o777)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        st = target.stat()
        self.state.cache.store(os.fspath(target), st, digest.hexdigest(), trusted=True)
        return Entry(digest.hexdigest(), size, st.st_mode & 0o777)

    def _local_sha(self, path: Path) -> str | None:
        try:
            return self.state.cache.sha256(path) if path.is_file() else None
        except FileNotFoundError:
            return None

    def delete_local(self, relative: str, expect: Entry) -> None:
        """Delete the local file if it still holds what the plan saw; prune empty folders."""
        path = self.state.root / relative
        if expect.sha256 == FOLDER:
            try:
                path.rmdir()  # only while empty, like the server
            except FileNotFoundError:
                pass
            except OSError:
                return
        else:
            if self._local_sha(path) != expect.sha256:
                raise ChangedDuringSync(f"{relative} changed here during the sync; not deleted")
            path.unlink()
            self.state.cache.forget(path)
        for folder in path.parents:
            if folder == self.state.root:
                break
            with contextlib.suppress(OSError):
                folder.rmdir()

    # ----- running a plan -----
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
            for group in _groups(batched):
                try:
                    outcomes = self.push_batch(group)
                except (ClientError, OSError, httpx.HTTPError) as e:
                    outcomes = [e] * len(group)
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


def _groups(actions: list[Action]):
    """``actions`` cut into batches of at most BATCH_FILES files and about BATCH_BYTES bytes."""
    group: list[Action] = []
    size = 0
    for action in actions:
        if group and (len(group) >= BATCH_FILES or size + action.size > BATCH_BYTES):
            yield group
            group, size = [], 0
        group.append(action)
        size += action.size
    if group:
        yield group

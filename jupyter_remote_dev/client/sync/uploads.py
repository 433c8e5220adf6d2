"""The upload half of :class:`~.transfer.Transfer`: push, batch and delete on the server.

Every write is conditional: a push sends ``If-Match`` with the remote hash the plan saw (or
``If-None-Match: *`` for a new file) and ``X-Content-SHA256``, so a concurrent remote edit is never
clobbered and a file edited during the upload is refused whole. Small pushes go together through
``POST batch``; big files go through the resumable ``uploads/`` protocol in segments and continue
where they stopped after a dropped connection. Empty folders travel as folder members of a batch
and are removed only while empty. A cancelled upload is discarded by the server, which keeps the
previous version.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import tarfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

import httpx

from ..errors import Cancelled, ChangedDuringSync, ClientError, NotFoundError, PreconditionFailed
from .mover import PIECE, Mover
from .plan import FOLDER, PUSH, Action, Entry, sha_of

SMALL_FILE = 1024 * 1024
"""Files up to this size are read into memory and may travel in a batch."""
RESUMABLE_FILE = 64 * 1024 * 1024
"""Files over this size use resumable uploads."""
UPLOAD_SEGMENT = 16 * 1024 * 1024
BATCH_FILES = 500
BATCH_BYTES = 32 * 1024 * 1024
"""A batch request carries at most this many files and bytes."""


def if_match(entry_sha: str | None) -> dict[str, str]:
    """The condition headers for a write over ``entry_sha`` (None: only if absent)."""
    return {"If-Match": f'"{entry_sha}"'} if entry_sha else {"If-None-Match": "*"}


def batches(actions: list[Action]) -> Iterator[list[Action]]:
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


class Uploads(Mover):
    """Pushes and remote deletes of one synced folder."""

    def pieces(self, file: BinaryIO, size: int) -> Iterator[bytes]:
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

    def push(
        self, relative: str, local: Entry, remote_sha: str | None, force: bool = False
    ) -> Entry:
        """Upload one file, only over ``remote_sha`` (None: only if absent) unless ``force``."""
        if local.sha256 == FOLDER:
            self._raise_outcome(self.push_batch([Action(PUSH, relative, local, None)])[0])
            return local
        headers = {} if force else if_match(remote_sha)
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
                self._put(relative, self.pieces(file, local.size), headers)
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
                    body = self.pieces(file, end - offset)
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

    def push_batches(
        self, actions: list[Action]
    ) -> Iterator[tuple[list[Action], list[Exception | None]]]:
        """Push small files batch by batch, yielding each batch with its outcomes; the next
        batch's tar is packed in a thread while the one before it is sent and written."""
        groups = list(batches(actions))
        with ThreadPoolExecutor(1, thread_name_prefix="remote-dev-pack") as packer:
            packed = packer.submit(self.pack_batch, groups[0]) if groups else None
            for index, group in enumerate(groups):
                body = packed
                if index + 1 < len(groups):
                    packed = packer.submit(self.pack_batch, groups[index + 1])
                try:
                    outcomes = self.push_batch(group, body.result())
                except (ClientError, OSError, httpx.HTTPError) as e:
                    outcomes = [e] * len(group)
                yield group, outcomes

    def pack_batch(self, actions: list[Action]) -> bytes:
        """The ``POST batch`` tar of ``actions``: folders, and small files read now with their
        sha256 and conditions in PAX headers."""
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
                conditions = if_match(sha_of(action.remote))
                member.pax_headers = {
                    "REMOTE_DEV.sha256": action.local.sha256,
                    **{
                        f"REMOTE_DEV.{k.lower().replace('-', '_')}": v
                        for k, v in conditions.items()
                    },
                }
                archive.addfile(member, io.BytesIO(data))
        return buffer.getvalue()

    def push_batch(
        self, actions: list[Action], body: bytes | None = None
    ) -> list[Exception | None]:
        """Upload small files in one ``POST batch`` tar (``body``: packed already); one outcome
        (None: done) per action."""
        response = self.client.request(
            "POST",
            self.client.api_url("batch"),
            params={"root": self.state.remote_dir},
            content=self.pack_batch(actions) if body is None else body,
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
        headers = {} if remote_sha == FOLDER else if_match(remote_sha)
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

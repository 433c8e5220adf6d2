"""Resumable uploads: a part file beside the target that grows by ranges until it is complete.

Protocol (documented in openapi.yaml): ``POST uploads`` ``{"path", "size", "sha256"?, "mode"?}``
(with optional ``If-Match``/``If-None-Match``) answers an id; ``PUT uploads/<id>`` with
``Content-Range: bytes <offset>-<last>/<size>`` appends; ``HEAD``/``GET uploads/<id>`` tell the
offset the server holds (``Upload-Offset``), so a client whose connection dropped resumes there.
The last byte triggers the same checks and atomic install as ``PUT files/``. Parts untouched for
``upload_expiry`` seconds are removed by :meth:`UploadStore.sweep`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import secrets
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import ConflictError, NotFoundError, RemoteDevError
from .fileio import TEMP_PREFIX, ResolvedPath, WriteResult, install, nearest_existing_folder
from .manifest import HashCache, sha256_file

_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class Upload:
    """One resumable upload's record (stored as JSON in the state folder)."""

    id: str
    path: str
    part: str
    size: int
    sha256: str | None
    mode: int | None
    if_match: str | None
    if_none_match: str | None
    created: float

    def status(self, offset: int, expiry: float) -> dict:
        return {
            "id": self.id,
            "path": self.path,
            "size": self.size,
            "offset": offset,
            "sha256": self.sha256,
            "expires_at": self.last_activity() + expiry,
        }

    def last_activity(self) -> float:
        with contextlib.suppress(FileNotFoundError):
            return os.stat(self.part).st_mtime
        return self.created


class UploadStore:
    """The uploads of one server: records in ``state_dir``, parts beside their targets."""

    def __init__(self, state_dir: Path, expiry: float):
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.expiry = expiry
        self._hashers: dict[str, tuple[hashlib._Hash, int]] = {}
        self._busy: set[str] = set()

    def create(self, target: ResolvedPath, size: int, **options) -> Upload:
        """Start an upload of ``size`` bytes to ``target`` (options: sha256, mode, if_match,
        if_none_match); an empty part file is created beside the target."""
        folder = nearest_existing_folder(target.real.parent)
        fd, part = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=folder)
        os.close(fd)
        upload = Upload(
            id=secrets.token_hex(16), path=target.api_path, part=part, size=size,
            created=time.time(), **options,
        )  # fmt: skip
        self._record(upload.id).write_text(json.dumps(asdict(upload)))
        self._hashers[upload.id] = (hashlib.sha256(), 0)
        return upload

    def _record(self, upload_id: str) -> Path:
        return self.state_dir / f"{upload_id}.json"

    def get(self, upload_id: str) -> Upload:
        """The upload with this id, or 404."""
        if not _UPLOAD_ID.match(upload_id):
            raise NotFoundError(f"{upload_id!r} is not an upload id")
        try:
            return Upload(**json.loads(self._record(upload_id).read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            raise NotFoundError(
                f"no upload {upload_id!r} (finished, cancelled or expired)"
            ) from None

    @staticmethod
    def offset(upload: Upload) -> int:
        """How many bytes the server holds."""
        try:
            return os.stat(upload.part).st_size
        except FileNotFoundError:
            return 0

    def begin(self, upload: Upload, start: int, stop: int, total: int) -> UploadSegment:
        """Open the part for a ``Content-Range`` of ``[start, stop)``; 409 if ``start`` is not the
        offset held or another request is writing this upload."""
        if total != upload.size:
            raise RemoteDevError(
                f"Content-Range total {total} is not the upload size {upload.size}"
            )
        if upload.id in self._busy:
            raise ConflictError(f"upload {upload.id} is receiving another request")
        held = self.offset(upload)
        if start != held:
            raise ConflictError(f"this upload holds {held} bytes; resume at offset {held}")
        self._busy.add(upload.id)
        return UploadSegment(self, upload, stop)

    def finish_segment(self, segment: UploadSegment) -> None:
        self._busy.discard(segment.upload.id)

    def hasher(self, upload: Upload, offset: int) -> hashlib._Hash | None:
        """The running sha256 of the part if it covers exactly ``offset`` bytes."""
        hasher, hashed = self._hashers.get(upload.id, (None, -1))
        return hasher if hashed == offset else None

    def remove(self, upload: Upload) -> None:
        """Forget an upload and delete its part."""
        Path(upload.part).unlink(missing_ok=True)
        self._record(upload.id).unlink(missing_ok=True)
        self._hashers.pop(upload.id, None)

    def sweep(self, now: float | None = None) -> list[str]:
        """Remove uploads idle for longer than ``expiry``; return their ids."""
        now = time.time() if now is None else now
        removed = []
        for record in self.state_dir.glob("*.json"):
            upload_id = record.stem
            if upload_id in self._busy:
                continue
            try:
                upload = self.get(upload_id)
            except NotFoundError:
                record.unlink(missing_ok=True)
                continue
            if now - upload.last_activity() > self.expiry:
                self.remove(upload)
                removed.append(upload_id)
        return removed

    async def sweep_forever(self) -> None:
        """Sweep now and then every ``expiry / 2`` seconds (at most hourly) until cancelled."""
        while True:
            await asyncio.to_thread(self.sweep)
            await asyncio.sleep(min(max(self.expiry / 2, 0.1), 3600))


class UploadSegment:
    """One ``PUT uploads/<id>``: appends ``[offset, stop)`` to the part, hashing as it goes."""

    def __init__(self, store: UploadStore, upload: Upload, stop: int):
        self.store, self.upload, self.stop = store, upload, stop
        self.offset = store.offset(upload)
        self._file = open(upload.part, "ab")
        self._hasher = store.hasher(upload, self.offset)

    def write(self, chunk: bytes) -> None:
        if self.offset + len(chunk) > self.stop:
            raise RemoteDevError("body is longer than its Content-Range")
        self._file.write(chunk)
        self.offset += len(chunk)
        if self._hasher is not None:
            self._hasher.update(chunk)
            self.store._hashers[self.upload.id] = (self._hasher, self.offset)

    @property
    def complete(self) -> bool:
        return self.offset == self.upload.size

    def close(self) -> None:
        """Flush and fsync what arrived (kept for a resume) and release the upload."""
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        self.store.finish_segment(self)

    def install(self, cache: HashCache, target: ResolvedPath) -> WriteResult:
        """Verify the whole part's sha256, then install it at ``target`` (blocking)."""
        self.close()
        upload = self.upload
        digest = self._hasher.hexdigest() if self._hasher else sha256_file(upload.part)
        if upload.sha256 is not None and digest != upload.sha256:
            self.store.remove(upload)
            raise RemoteDevError(
                f"uploaded bytes have sha256 {digest}, not {upload.sha256}; upload discarded"
            )
        try:
            return install(
                Path(upload.part), target, upload.size, digest, cache=cache,
                mode=upload.mode, if_match=upload.if_match, if_none_match=upload.if_none_match,
            )  # fmt: skip
        finally:
            self.store.remove(upload)

"""Resumable uploads: a part file beside the target that grows by ranges until it is complete.

Protocol (documented in openapi.yaml): ``POST uploads`` ``{"path", "size", "sha256"?, "mode"?}``
(with optional ``If-Match``/``If-None-Match``) answers an id; ``PUT uploads/<id>`` with
``Content-Range: bytes <offset>-<last>/<size>`` appends; ``HEAD``/``GET uploads/<id>`` tell the
offset the server holds (``Upload-Offset``), so a client whose connection dropped resumes there.
The last byte triggers the same checks and atomic install as ``PUT files/``. Parts untouched for
``upload_expiry`` seconds are removed by :meth:`UploadStore.sweep`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import ConflictError, NotFoundError, RemoteDevError
from .fdpath import Location, open_physical, open_root
from .fileio import WriteResult, create_temp, install
from .manifest import HashCache

_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_OPEN_PART = os.O_RDWR | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass
class Upload:
    """One resumable upload's record (stored as JSON in the state folder)."""

    id: str
    path: str
    folder: str
    """The real path of the part's folder relative to the root, as walked at creation."""
    part: str
    """The part file's name in ``folder``."""
    size: int
    sha256: str | None
    mode: int | None
    if_match: str | None
    if_none_match: str | None
    created: float


class UploadStore:
    """The uploads of one server: records in ``state_dir``, parts beside their targets.

    A part is reached only by walking its recorded folder from the root on descriptors with no
    link followed: a folder swapped for a link makes the upload 404, never a write elsewhere.
    """

    def __init__(self, state_dir: Path, expiry: float, root: str | os.PathLike):
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.expiry = expiry
        self.root = root
        self._hashers: dict[str, tuple[hashlib._Hash, int]] = {}
        self._busy: set[str] = set()

    def create(self, target: Location, size: int, **options) -> Upload:
        """Start an upload of ``size`` bytes to ``target`` (options: sha256, mode, if_match,
        if_none_match); an empty part file is created beside the target."""
        fd, part = create_temp(target.fd, ".part")
        os.close(fd)
        upload = Upload(
            id=secrets.token_hex(16), path=target.api_path, folder="/".join(target.physical),
            part=part, size=size, created=time.time(), **options,
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

    def open_folder(self, upload: Upload) -> int:
        """A descriptor of the part's folder (404 if it is gone or became a link)."""
        root = open_root(self.root)
        try:
            return open_physical(root, upload.folder)
        finally:
            os.close(root)

    def _part_stat(self, upload: Upload) -> os.stat_result | None:
        try:
            folder = self.open_folder(upload)
        except NotFoundError:
            return None
        try:
            return os.stat(upload.part, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            return None
        finally:
            os.close(folder)

    def offset(self, upload: Upload) -> int:
        """How many bytes the server holds."""
        st = self._part_stat(upload)
        return st.st_size if st is not None else 0

    def status(self, upload: Upload) -> dict:
        """The JSON answer describing ``upload``."""
        st = self._part_stat(upload)
        return {
            "id": upload.id,
            "path": upload.path,
            "size": upload.size,
            "offset": st.st_size if st is not None else 0,
            "sha256": upload.sha256,
            "expires_at": (st.st_mtime if st is not None else upload.created) + self.expiry,
        }

    def begin(self, upload: Upload, start: int, stop: int, total: int) -> UploadSegment:
        """Open the part for a ``Content-Range`` of ``[start, stop)``; 409 if ``start`` is not the
        offset held or another request is writing this upload."""
        if total != upload.size:
            raise RemoteDevError(
                f"Content-Range total {total} is not the upload size {upload.size}"
            )
        if upload.id in self._busy:
            raise ConflictError(f"upload {upload.id} is receiving another request")
        segment = UploadSegment(self, upload, stop)
        if start != segment.offset:
            segment.close()
            raise ConflictError(
                f"this upload holds {segment.offset} bytes; resume at offset {segment.offset}"
            )
        self._busy.add(upload.id)
        return segment

    def finish_segment(self, segment: UploadSegment) -> None:
        self._busy.discard(segment.upload.id)

    def hasher(self, upload: Upload, offset: int) -> hashlib._Hash | None:
        """The running sha256 of the part if it covers exactly ``offset`` bytes."""
        hasher, hashed = self._hashers.get(upload.id, (None, -1))
        return hasher if hashed == offset else None

    def remove(self, upload: Upload) -> None:
        """Forget an upload and delete its part."""
        try:
            folder = self.open_folder(upload)
        except NotFoundError:
            folder = None
        if folder is not None:
            try:
                os.unlink(upload.part, dir_fd=folder)
            except FileNotFoundError:
                pass
            finally:
                os.close(folder)
        self._record(upload.id).unlink(missing_ok=True)
        self._hashers.pop(upload.id, None)

    def live_parts(self) -> set[str]:
        """The part file names of every recorded upload (kept by the temp-file sweep)."""
        names = set()
        for record in self.state_dir.glob("*.json"):
            try:
                names.add(json.loads(record.read_text())["part"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return names

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
            st = self._part_stat(upload)
            if now - (st.st_mtime if st is not None else upload.created) > self.expiry:
                self.remove(upload)
                removed.append(upload_id)
        return removed


class UploadSegment:
    """One ``PUT uploads/<id>``: appends ``[offset, stop)`` to the part, hashing as it goes.

    The part is opened once, on its folder's descriptor, with ``O_NOFOLLOW``; every byte goes
    through that descriptor, and the install renames it from that same folder.
    """

    def __init__(self, store: UploadStore, upload: Upload, stop: int):
        self.store, self.upload, self.stop = store, upload, stop
        self._folder = store.open_folder(upload)
        try:
            self._fd = os.open(upload.part, _OPEN_PART, dir_fd=self._folder)
        except OSError:
            os.close(self._folder)
            raise NotFoundError(f"the part of upload {upload.id} is gone or was replaced") from None
        self.offset = os.fstat(self._fd).st_size
        self._hasher = store.hasher(upload, self.offset)

    def write(self, chunk: bytes) -> None:
        if self.offset + len(chunk) > self.stop:
            raise RemoteDevError("body is longer than its Content-Range")
        view = memoryview(chunk)
        while view:
            view = view[os.write(self._fd, view) :]
        self.offset += len(chunk)
        if self._hasher is not None:
            self._hasher.update(chunk)
            self.store._hashers[self.upload.id] = (self._hasher, self.offset)

    @property
    def complete(self) -> bool:
        return self.offset == self.upload.size

    def close(self) -> None:
        """fsync what arrived (kept for a resume), close and release the upload (idempotent)."""
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
            os.close(self._folder)
            self._fd = -1
        self.store.finish_segment(self)

    def _digest(self) -> str:
        if self._hasher is not None:
            return self._hasher.hexdigest()
        hasher, offset = hashlib.sha256(), 0
        while chunk := os.pread(self._fd, 1024 * 1024, offset):
            hasher.update(chunk)
            offset += len(chunk)
        return hasher.hexdigest()

    def install(self, cache: HashCache, target: Location) -> WriteResult:
        """Verify the whole part's sha256, then install it at ``target`` (blocking)."""
        upload = self.upload
        try:
            os.fsync(self._fd)
            digest = self._digest()
            if upload.sha256 is not None and digest != upload.sha256:
                raise RemoteDevError(
                    f"uploaded bytes have sha256 {digest}, not {upload.sha256}; upload discarded"
                )
            return install(
                self._fd, self._folder, upload.part, target, digest, cache=cache,
                mode=upload.mode, if_match=upload.if_match, if_none_match=upload.if_none_match,
            )  # fmt: skip
        finally:
            self.close()
            target.close()
            self.store.remove(upload)

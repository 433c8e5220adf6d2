"""The download half of :class:`~.transfer.Transfer`: pull and delete here.

Pulls stream into a temp file beside the target, are checked against their hash and renamed into
place only if the local file is still what the plan saw; a cancelled download's temp file is
removed. Local deletes also only touch what the plan saw.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from ..errors import Cancelled, ChangedDuringSync
from .mover import PIECE, Mover
from .plan import FOLDER, Entry, sha_of

TEMP_PREFIX = ".~remote-dev-"


class Downloads(Mover):
    """Pulls and local deletes of one synced folder."""

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

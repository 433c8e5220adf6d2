"""What crashed or abandoned writes leave behind, removed at start-up and then periodically:
resumable uploads idle past ``upload_expiry`` and orphaned ``.~remote-dev-*`` temp files (a
server killed mid-write) untouched for ``temp_file_grace`` seconds."""

from __future__ import annotations

import asyncio
import os
import stat
import time

from .fdpath import real_root
from .fileio import TEMP_PREFIX
from .uploads import UploadStore


def sweep_temp_files(
    root: str | os.PathLike, grace: float, keep: set[str] = frozenset(), now: float | None = None
) -> list[str]:
    """Delete our temp files under ``root`` not modified for ``grace`` seconds, except the names
    in ``keep`` (parts of live uploads); return their paths relative to the root. Walks on
    descriptors and follows no link."""
    now = time.time() if now is None else now
    root_real = real_root(os.fspath(root))
    removed = []
    for folder, _, names, folder_fd in os.fwalk(root_real, follow_symlinks=False):
        for name in names:
            if not name.startswith(TEMP_PREFIX) or not name.endswith((".tmp", ".part")):
                continue
            if name in keep:
                continue
            try:
                st = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
                if stat.S_ISREG(st.st_mode) and now - st.st_mtime > grace:
                    os.unlink(name, dir_fd=folder_fd)
                    removed.append(os.path.relpath(os.path.join(folder, name), root_real))
            except FileNotFoundError:  # finished (renamed) meanwhile
                continue
    return removed


def sweep(store: UploadStore, grace: float, now: float | None = None) -> list[str]:
    """Expired uploads, then orphaned temp files (blocking: run in a worker thread)."""
    store.sweep(now)
    return sweep_temp_files(store.root, grace, store.live_parts(), now)


async def sweep_forever(store: UploadStore, grace: float) -> None:
    """Sweep now and then every half of the shorter of ``grace`` and the upload expiry (at most
    hourly) until cancelled."""
    while True:
        await asyncio.to_thread(sweep, store, grace)
        await asyncio.sleep(min(max(min(store.expiry, grace) / 2, 0.1), 3600))

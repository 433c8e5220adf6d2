"""GitSyncService (the server's sync loop) when the remote is not reachable at the first cycle."""

from __future__ import annotations

import asyncio
import logging

from jupyter_remote_dev.gitsync.service import GitSyncService

from ..support.gitsync_support import git, make_remote, make_sync


def test_gitsync_service_retries_init_after_a_failed_first_cycle(tmp_path):
    """A remote that is down when the server starts (e.g. the hub's routes not ready yet) does
    not leave the workspace stuck: the next cycle clones it as the first one would have."""
    sync = make_sync(tmp_path, tmp_path / "remote.git", upstream="main")  # the remote is "down"
    service = GitSyncService(sync, 0, sync.workspace, logging.getLogger("test"))

    async def cycles():
        first = await service.run_cycle(init=True)
        make_remote(tmp_path)  # the remote comes up
        (sync.workspace / "notes.md").write_text("written before the remote came up\n")
        second = await service.run_cycle()
        return first, second

    first, second = asyncio.run(cycles())
    assert first.result == "error"
    assert second.result == "ok", second.message
    bare = tmp_path / "remote.git"
    assert git(tmp_path, "--git-dir", str(bare), "show", "remote-dev/alice:README.md") == "hello\n"
    notes = git(tmp_path, "--git-dir", str(bare), "show", "remote-dev/alice:notes.md")
    assert notes == "written before the remote came up\n"

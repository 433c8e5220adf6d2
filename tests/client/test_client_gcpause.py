"""Whole-project work runs with the cyclic garbage collector paused (client/sync/gcpause.py)."""

from __future__ import annotations

import gc

import pytest

from jupyter_remote_dev.client.sync import planner, state, transfer
from jupyter_remote_dev.client.sync.gcpause import gc_paused


def test_whole_project_work_runs_with_the_collector_paused():
    """Loading and saving the state and planning pause the cyclic garbage
    collector (each pass would walk every object of a big project's listings) and resume it
    afterwards, after a failure too; nested calls leave it paused until the outermost ends."""
    seen = []

    @gc_paused
    def inner():
        seen.append(gc.isenabled())

    @gc_paused
    def outer(fail: bool):
        inner()
        seen.append(gc.isenabled())
        if fail:
            raise RuntimeError("boom")

    assert gc.isenabled()
    outer(False)
    with pytest.raises(RuntimeError):
        outer(True)
    assert seen == [False, False, False, False] and gc.isenabled()
    for method in (
        state.SyncState.load,
        state.SyncState.reload,
        state.SyncState.save,
        planner.Planner.plan,
    ):
        assert method.__code__ is gc_paused(lambda: None).__code__, method
    # a transfer leaves cyclic garbage per batch: paused, a 50,000-file first sync took 448 MiB
    assert transfer.Transfer.run.__code__ is not gc_paused(lambda: None).__code__

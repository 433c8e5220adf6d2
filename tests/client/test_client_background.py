"""The listing asked for beside the local scan (client/sync/background.py)."""

from __future__ import annotations

import threading

import pytest

from jupyter_remote_dev.client.sync.background import Background


def test_background_returns_the_value_or_raises_the_error_where_it_is_awaited():
    """``result()`` hands over the call's value, or raises its error in the waiting thread."""
    started = threading.Event()

    def listing():
        started.wait(5)
        return {"files": []}

    job = Background(listing, "test-listing")
    started.set()
    assert job.result() == {"files": []}

    def refused():
        raise PermissionError("403")

    with pytest.raises(PermissionError, match="403"):
        Background(refused, "test-refused").result()


def test_background_thread_is_a_daemon_the_interpreter_does_not_wait_for():
    """A hung call never keeps the process from exiting (executor threads would be joined)."""
    hang = threading.Event()
    Background(hang.wait, "test-hung")
    hung = [t for t in threading.enumerate() if t.name == "test-hung"]
    assert len(hung) == 1 and hung[0].daemon
    hang.set()

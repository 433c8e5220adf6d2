"""The project lock: flock on ``.jupyter-remote-dev/lock``, the lock filelock takes too, and
filelock's own lock where flock is missing."""

from __future__ import annotations

import errno
import threading

from filelock import FileLock, Timeout

from jupyter_remote_dev.client.sync import lock
from jupyter_remote_dev.client.sync.lock import ProjectLock
from jupyter_remote_dev.client.sync.state import STATE_DIR


def filelock_of(root) -> FileLock:
    """The lock an older client (filelock) takes on the same project."""
    return FileLock(root / STATE_DIR / lock.LOCK_FILE)


def is_free(root) -> bool:
    try:
        filelock_of(root).acquire(timeout=0)
    except Timeout:
        return False
    filelock_of(root).release(force=True)
    return True


def test_the_lock_is_reentrant_and_excludes_filelocks_holders(tmp_path):
    """Held twice, it is free after the second release only; a filelock holder meanwhile cannot
    take it (the same flock)."""
    project = ProjectLock(tmp_path)
    with project:  # the first time filelock's (see below): it leaves the lock file
        pass
    with project:
        with project:
            assert isinstance(project.held, int)
        assert not is_free(tmp_path)
    assert is_free(tmp_path)
    project.release()  # one release too many changes nothing
    assert is_free(tmp_path)


def test_the_lock_waits_for_another_holder_and_says_so(tmp_path):
    """Held elsewhere (here: filelock, as an older client would), acquire calls ``on_wait``
    once, then waits until the holder lets go."""
    other = filelock_of(tmp_path)
    with other:  # the first time: now the lock file is there
        pass
    other.acquire()
    waited = threading.Event()
    project = ProjectLock(tmp_path, waited.set)
    taker = threading.Thread(target=project.acquire)
    taker.start()
    assert waited.wait(10)
    assert taker.is_alive()
    other.release()
    taker.join(10)
    assert isinstance(project.held, int) and project.depth == 1 and not is_free(tmp_path)
    project.release()


def test_filelock_takes_it_the_first_time_and_without_fcntl(tmp_path, monkeypatch):
    """The first time (no lock file yet) and without fcntl (Windows: ``LockFileEx``) the lock is
    filelock's; once the lock file is there, flock is taken directly."""
    project = ProjectLock(tmp_path)
    with project:
        assert isinstance(project.held, FileLock) and project.held.is_locked
    assert project.held is None and is_free(tmp_path)
    with project:
        assert isinstance(project.held, int)
    monkeypatch.setattr(lock, "fcntl", None)
    with project:
        assert isinstance(project.held, FileLock) and not is_free(tmp_path)
    assert is_free(tmp_path)


def test_where_flock_fails_filelock_takes_it(tmp_path, monkeypatch):
    """A file system without flock (ENOSYS) is left to filelock (its marker-file fallback)."""
    (tmp_path / STATE_DIR).mkdir()
    (tmp_path / STATE_DIR / lock.LOCK_FILE).touch()

    def no_flock(fd, operation):
        raise OSError(errno.ENOSYS, "flock is not supported")

    monkeypatch.setattr(lock.fcntl, "flock", no_flock)
    monkeypatch.setattr(ProjectLock, "_filelock", lambda self: "filelock's lock")
    project = ProjectLock(tmp_path)
    project.acquire()
    assert project.held == "filelock's lock"

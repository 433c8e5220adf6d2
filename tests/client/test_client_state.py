"""The local sync state: binding, persistence, and the stat cache that avoids re-hashing."""

import json
import os
import time

import pytest

from jupyter_remote_dev.client.sync.plan import Entry
from jupyter_remote_dev.client.sync.state import (
    Conflict,
    StateError,
    SyncState,
    find_root,
    normalise_remote_dir,
)


def make_tree(root, n=5):
    for i in range(n):
        (root / "pkg").mkdir(parents=True, exist_ok=True)
        (root / "pkg" / f"m{i}.py").write_text(f"x = {i}\n")
    (root / ".hidden").write_text("h")
    (root / "__pycache__").mkdir(exist_ok=True)
    (root / "__pycache__" / "c.pyc").write_bytes(b"\0")


def test_normalise_remote_dir_strips_slashes_and_dots():
    """Remote folders are server-relative and cannot climb out with '..'."""
    assert normalise_remote_dir("/proj/") == "proj"
    assert normalise_remote_dir("") == ""
    assert normalise_remote_dir("../../etc") == "etc"
    assert normalise_remote_dir("a/./b/../c") == "a/c"


def test_state_round_trips_and_finds_its_root(tmp_path):
    """Base, conflicts and cache survive save/load; find_root walks up from a nested file."""
    state = SyncState(tmp_path, "default", "/proj/")
    state.record("a.py", Entry("1" * 64, 3, 0o644))
    state.conflicts["b.py"] = Conflict("2" * 64, "3" * 64, "b.remote-33333333.py")
    state.save()
    (tmp_path / "deep" / "er").mkdir(parents=True)
    assert find_root(tmp_path / "deep" / "er") == tmp_path
    loaded = SyncState.load(tmp_path)
    assert (loaded.profile, loaded.remote_dir) == ("default", "proj")
    assert loaded.base == {"a.py": Entry("1" * 64, 3, 0o644)}
    assert loaded.conflicts == {"b.py": Conflict("2" * 64, "3" * 64, "b.remote-33333333.py")}
    assert loaded.ignores("b.remote-33333333.py"), "a conflict copy never syncs"


def test_state_refuses_another_binding(tmp_path):
    """A folder synced with one remote folder is not silently planned against another."""
    SyncState(tmp_path, "default", "proj").save()
    assert SyncState.load(tmp_path, "default", "/proj").remote_dir == "proj"
    with pytest.raises(StateError, match="synced with profile 'default'"):
        SyncState.load(tmp_path, "default", "other")
    with pytest.raises(StateError, match="not bound to a server folder"):
        SyncState.load(tmp_path / "nowhere")


def test_local_manifest_keeps_dot_files_and_leaves_out_ignored(tmp_path):
    """Dot-files are listed like any other file; __pycache__, .git and the state folder are not."""
    make_tree(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    state = SyncState(tmp_path, "default", "")
    state.save()
    assert sorted(state.local_manifest()) == [".hidden"] + [f"pkg/m{i}.py" for i in range(5)]
    assert state.ignores("__pycache__/c.pyc") and state.ignores(".git/HEAD")
    assert not state.ignores("pkg/m1.py") and not state.ignores(".hidden")


def test_hash_cache_persists_so_unchanged_files_are_not_rehashed(tmp_path):
    """A second run over an unchanged tree, from a reloaded state, hashes only what changed."""
    make_tree(tmp_path, 20)
    for path in [*(tmp_path / "pkg").iterdir(), tmp_path / ".hidden"]:  # edited a while ago
        os.utime(path, (time.time() - 60, time.time() - 60))
    state = SyncState(tmp_path, "default", "")
    first = state.local_manifest()
    assert state.cache.hashed == 21
    state.save()
    (tmp_path / "pkg" / "m3.py").write_text("changed = True\n")
    again = SyncState.load(tmp_path)
    second = again.local_manifest()
    assert again.cache.hashed == 1
    assert second["pkg/m3.py"] != first["pkg/m3.py"]
    assert {p: e for p, e in second.items() if p != "pkg/m3.py"} == {
        p: e for p, e in first.items() if p != "pkg/m3.py"
    }
    raw = json.loads((tmp_path / ".jupyter-remote-dev" / "state.json").read_text())
    assert len(raw["hash_cache"]) == 21


def test_relative_refuses_paths_outside_the_root(tmp_path):
    """Pushing a file outside the synced folder is an error naming both paths."""
    state = SyncState(tmp_path / "root", "default", "")
    (tmp_path / "root").mkdir()
    assert state.relative(tmp_path / "root" / "a" / "b.py") == "a/b.py"
    with pytest.raises(StateError, match="outside the synced folder"):
        state.relative(tmp_path / "elsewhere.py")

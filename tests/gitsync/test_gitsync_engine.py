"""The sync engine against real bare remotes, with a plain git clone as the laptop."""

import os
import time

import pytest

from jupyter_remote_dev.gitsync import GitSyncEngine

from ..support.gitsync_support import (
    git,
    laptop_clone,
    laptop_pull,
    laptop_push,
    make_remote,
    make_sync,
    write,
)

PNG = bytes(range(256)) * 8 + b"\x00binary"


@pytest.fixture
def remote(tmp_path):
    return make_remote(tmp_path, {"README.md": "hello\n", "nb/a.ipynb": "{}\n", "b.txt": "b\n"})


@pytest.fixture
def sync(tmp_path, remote) -> GitSyncEngine:
    engine = make_sync(tmp_path, remote, upstream="main")
    assert engine.init().result == "ok"
    return engine


@pytest.fixture
def server(sync):
    return sync.workspace


@pytest.fixture
def laptop(tmp_path, remote, sync):
    return laptop_clone(tmp_path, remote)


def remote_files(remote, branch="remote-dev/alice") -> dict[str, bytes]:
    """Every file of ``branch`` on the bare remote, with its content."""
    names = git(remote, "ls-tree", "-r", "--name-only", "-z", branch).split("\0")
    return {name: blob(remote, f"{branch}:{name}") for name in names if name}


def blob(repo, spec: str) -> bytes:
    import subprocess

    return subprocess.run(
        ["git", "cat-file", "blob", spec], cwd=repo, capture_output=True, check=True
    ).stdout


def test_init_clones_into_missing_workspace_and_pushes_sync_branch(sync, server, remote):
    """init fills a missing folder from upstream and creates the sync branch on the remote."""
    assert (server / "README.md").read_text() == "hello\n"
    assert git(server, "symbolic-ref", "--short", "HEAD").strip() == "remote-dev/alice"
    assert remote_files(remote)["nb/a.ipynb"] == b"{}\n"
    assert sync.status()["ahead"] == 0


def test_init_adopts_a_non_empty_folder_without_losing_local_files(tmp_path, remote):
    """Local files stay; a clashing incoming file goes beside; local files get pushed."""
    write(tmp_path / "server" / "README.md", "mine\n")
    write(tmp_path / "server" / "notes.txt", "notes\n")
    report = make_sync(tmp_path, remote, upstream="main").init()
    server = tmp_path / "server"
    assert report.result == "conflict"
    (conflict,) = report.conflicts
    assert (server / "README.md").read_text() == "mine\n"
    assert (server / conflict["kept_at"]).read_text() == "hello\n"
    files = remote_files(remote)
    assert files["notes.txt"] == b"notes\n" and files["README.md"] == b"mine\n"


def test_init_on_an_existing_clone_merges_and_keeps_local_edits(sync, server, laptop, remote):
    """A second init (pod restart) commits local edits and merges what the laptop pushed."""
    write(laptop / "from-laptop.txt", "L\n")
    laptop_push(laptop)
    write(server / "from-server.txt", "S\n")
    assert sync.init().result == "ok"
    assert (server / "from-laptop.txt").read_text() == "L\n"
    assert remote_files(remote)["from-server.txt"] == b"S\n"


def test_init_refuses_a_clone_of_another_repo(tmp_path, sync):
    """A workspace cloned from a different URL is reported, not re-pointed."""
    other = make_sync(tmp_path, "https://example.org/other.git")
    report = other.init()
    assert report.result == "error" and "not of https://example.org/other.git" in report.message


def test_cycle_round_trip_edits_deletes_renames_and_binaries(sync, server, laptop, remote):
    """Changes of every kind on both sides end up on both sides."""
    write(server / "README.md", "server edit\n")
    (server / "b.txt").unlink()
    os.rename(server / "nb" / "a.ipynb", server / "nb" / "renamed.ipynb")
    write(server / "img" / "s.png", PNG)
    write(laptop / "laptop.txt", "new on laptop\n")
    write(laptop / "img" / "l.png", PNG[::-1])
    laptop_push(laptop)
    assert sync.cycle().result == "ok"
    laptop_pull(laptop)
    for side in (server, laptop):
        assert (side / "README.md").read_text() == "server edit\n"
        assert not (side / "b.txt").exists() and not (side / "nb" / "a.ipynb").exists()
        assert (side / "nb" / "renamed.ipynb").read_text() == "{}\n"
        assert (side / "img" / "s.png").read_bytes() == PNG
        assert (side / "img" / "l.png").read_bytes() == PNG[::-1]
        assert (side / "laptop.txt").read_text() == "new on laptop\n"
    # and the laptop's own deletes and renames come back to the server
    git(laptop, "mv", "laptop.txt", "moved.txt")
    (laptop / "img" / "s.png").unlink()
    laptop_push(laptop)
    assert sync.cycle().result == "ok"
    assert (server / "moved.txt").exists() and not (server / "laptop.txt").exists()
    assert not (server / "img" / "s.png").exists()
    assert sync.status()["ahead"] == sync.status()["behind"] == 0


def test_cycle_conflict_keeps_server_version_and_copies_the_other(sync, server, laptop):
    """Both edited: the server's text stays, the laptop's is beside it, reported once."""
    write(laptop / "README.md", "laptop\n")
    laptop_push(laptop)
    write(server / "README.md", "server\n")
    report = sync.cycle()
    assert report.result == "conflict"
    (conflict,) = report.conflicts
    assert conflict["path"] == "README.md" and conflict["kept_at"].startswith("README.remote-")
    assert (server / "README.md").read_text() == "server\n"
    assert (server / conflict["kept_at"]).read_text() == "laptop\n"
    assert sync.status()["conflicts"] == [{"path": "README.md", "kept_at": conflict["kept_at"]}]
    # the next cycle does not recreate it; the laptop sees both versions
    again = sync.cycle()
    assert again.result == "ok" and not again.conflicts
    assert len(list(server.glob("README.remote-*"))) == 1
    laptop_pull(laptop)
    assert (laptop / "README.md").read_text() == "server\n"
    assert (laptop / conflict["kept_at"]).read_text() == "laptop\n"
    # deleting the copy resolves it
    (server / conflict["kept_at"]).unlink()
    assert sync.cycle().result == "ok"
    assert sync.status()["conflicts"] == []


def test_cycle_binary_conflict_keeps_both_byte_for_byte(sync, server, laptop):
    """A binary changed on both sides: exact bytes of both versions survive."""
    write(server / "data.bin", b"\x00base")
    sync.cycle()
    laptop_pull(laptop)
    write(laptop / "data.bin", PNG)
    laptop_push(laptop)
    write(server / "data.bin", PNG[::-1])
    report = sync.cycle()
    (conflict,) = report.conflicts
    assert (server / "data.bin").read_bytes() == PNG[::-1]
    assert (server / conflict["kept_at"]).read_bytes() == PNG


def test_cycle_modify_delete_keeps_the_modified_version_both_ways(sync, server, laptop):
    """Edited on one side, deleted on the other: the edited content always survives."""
    (laptop / "README.md").unlink()
    write(laptop / "b.txt", "laptop edit\n")
    laptop_push(laptop)
    write(server / "README.md", "server edit\n")
    (server / "b.txt").unlink()
    report = sync.cycle()
    kinds = {c["path"]: c["kind"] for c in report.conflicts}
    assert kinds == {
        "README.md": "changed here, deleted on remote",
        "b.txt": "deleted here, changed on remote",
    }
    assert (server / "README.md").read_text() == "server edit\n"
    assert (server / "b.txt").read_text() == "laptop edit\n"
    assert sync.cycle().conflicts == []


def test_cycle_rename_here_edit_there_follows_the_rename(sync, server, laptop):
    """A rename on the server and an edit on the laptop merge into the renamed file."""
    write(laptop / "b.txt", "b edited on laptop\n")
    laptop_push(laptop)
    os.rename(server / "b.txt", server / "c.txt")
    assert sync.cycle().result == "ok"
    assert (server / "c.txt").read_text() == "b edited on laptop\n"
    assert not (server / "b.txt").exists()


def test_cycle_rename_rename_conflict_keeps_both_names(sync, server, laptop):
    """The same file renamed differently on each side: both names exist afterwards."""
    git(laptop, "mv", "b.txt", "laptop-name.txt")
    laptop_push(laptop)
    os.rename(server / "b.txt", server / "server-name.txt")
    report = sync.cycle()
    assert report.result == "conflict"
    assert (server / "server-name.txt").read_text() == "b\n"
    assert (server / "laptop-name.txt").read_text() == "b\n"


def test_cycle_untracked_ignored_file_clashing_with_upstream_addition(sync, server, tmp_path):
    """nbgitpuller's stuck case: a local ignored file where upstream adds one; both kept."""
    write(server / ".gitignore", "*.csv\n")
    write(server / "data.csv", "local rows\n")
    sync.cycle()
    seed = tmp_path / "seed"
    write(seed / "data.csv", "upstream rows\n")
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "add data")
    git(seed, "push", "-q", "origin", "main")
    report = sync.cycle()
    (conflict,) = report.conflicts
    assert conflict["kind"] == "untracked here, added on upstream"
    assert (server / "data.csv").read_text() == "local rows\n"
    assert (server / conflict["kept_at"]).read_text() == "upstream rows\n"
    assert sync.cycle().result == "ok"


def test_cycle_leaves_out_and_reports_files_over_the_size_limit(tmp_path, remote):
    """A file over max_file_size is neither committed nor pushed, and shows in status."""
    sync = make_sync(tmp_path, remote, max_file_size=1000)
    sync.init()
    write(sync.workspace / "big.bin", b"x" * 5000)
    write(sync.workspace / "staged-big.bin", b"y" * 3000)
    git(sync.workspace, "add", "staged-big.bin")  # staged by hand in a terminal
    write(sync.workspace / "small.txt", "ok\n")
    report = sync.cycle()
    assert sorted(item["path"] for item in report.skipped) == ["big.bin", "staged-big.bin"]
    assert {item["size"] for item in report.skipped} == {5000, 3000}
    files = remote_files(remote)
    assert "small.txt" in files and "big.bin" not in files and "staged-big.bin" not in files
    assert {item["path"] for item in sync.status()["skipped"]} == {"big.bin", "staged-big.bin"}
    assert (sync.workspace / "big.bin").stat().st_size == 5000


def test_cycle_removes_stale_index_lock_and_reports_a_fresh_one(sync, server, remote):
    """A fresh .git/index.lock is reported without changes; a stale one is removed."""
    lock = server / ".git" / "index.lock"
    lock.write_text("")
    write(server / "new.txt", "n\n")
    report = sync.cycle()
    assert report.result == "error" and "index.lock" in report.message
    assert "new.txt" not in remote_files(remote)
    old = time.time() - 3600
    os.utime(lock, (old, old))
    assert sync.cycle().result == "ok"
    assert not lock.exists() and "new.txt" in remote_files(remote)


def test_cycle_survives_a_force_pushed_sync_branch(sync, server, laptop, remote):
    """Rewritten history on the remote is merged, never force-pushed over; nothing is lost."""
    write(server / "server.txt", "S\n")
    sync.cycle()
    laptop_pull(laptop)
    git(laptop, "reset", "-q", "--hard", "HEAD~1")
    write(laptop / "rewritten.txt", "R\n")
    git(laptop, "add", "-A")
    git(laptop, "commit", "-q", "-m", "rewrite")
    git(laptop, "push", "-q", "--force", "origin", "HEAD")
    assert sync.cycle().result == "ok"
    files = remote_files(remote)
    assert files["server.txt"] == b"S\n" and files["rewritten.txt"] == b"R\n"


def test_cycle_pushes_commits_made_in_a_terminal_and_merges_upstream(sync, server, tmp_path):
    """User commits on the sync branch are kept; new upstream commits are merged in."""
    write(server / "manual.txt", "m\n")
    git(server, "add", "manual.txt")
    git(server, "commit", "-q", "-m", "manual")
    seed = tmp_path / "seed"
    write(seed / "README.md", "hello\nupstream line\n")
    git(seed, "commit", "-q", "-am", "upstream edit")
    git(seed, "push", "-q", "origin", "main")
    assert sync.cycle().result == "ok"
    assert (server / "README.md").read_text() == "hello\nupstream line\n"
    assert git(server, "log", "-1", "--format=%s", "--", "manual.txt").strip() == "manual"


def test_cycle_refuses_to_run_on_another_branch(sync, server):
    """A workspace switched to another branch is reported and left alone."""
    git(server, "checkout", "-q", "-b", "experiment")
    write(server / "x.txt", "x\n")
    report = sync.cycle()
    assert report.result == "error" and "experiment" in report.message
    assert git(server, "status", "--porcelain").strip() == "?? x.txt"


def test_cycle_finishes_a_merge_interrupted_by_a_crash(sync, server, laptop):
    """An unfinished merge (MERGE_HEAD, conflict markers) is resolved by the policy."""
    write(laptop / "README.md", "laptop\n")
    laptop_push(laptop)
    write(server / "README.md", "server\n")
    git(server, "commit", "-q", "-am", "server edit")
    git(server, "fetch", "-q", "origin")
    git(server, "merge", "origin/remote-dev/alice", check=False)
    assert (server / ".git" / "MERGE_HEAD").exists()
    report = sync.cycle()
    assert report.result == "conflict"
    assert (server / "README.md").read_text() == "server\n"
    assert (server / report.conflicts[0]["kept_at"]).read_text() == "laptop\n"


def test_cycle_recovers_files_held_by_an_interrupted_cycle(sync, server):
    """Files moved aside by a cycle that died mid-merge are put back by the next one."""
    held = server / ".git" / "remote-dev" / "hold" / "notes" / "kept.txt"
    write(held, "precious\n")
    write(server / "README.md", "hello\n")
    assert sync.cycle().result == "ok"
    assert (server / "notes" / "kept.txt").read_text() == "precious\n"


def test_cycle_retries_when_the_remote_moves_during_the_cycle(sync, server, laptop, remote):
    """A push lost to a concurrent laptop push merges again and succeeds, no force."""
    original_fetch = sync._fetch_remote
    raced = []

    def fetch_then_race():
        heads = original_fetch()
        if not raced:
            raced.append(True)
            write(laptop / "race.txt", "laptop\n")
            laptop_push(laptop)
        return heads

    sync._fetch_remote = fetch_then_race
    write(server / "mine.txt", "server\n")
    assert sync.cycle().result == "ok"
    assert len(raced) == 1
    files = remote_files(remote)
    assert files["race.txt"] == b"laptop\n" and files["mine.txt"] == b"server\n"


def test_cycle_file_folder_clashes_keep_both_sides(sync, server, tmp_path):
    """An ignored local file where upstream adds a folder (and vice versa) loses nothing."""
    write(server / ".gitignore", "data\nout\n")
    write(server / "data", "local file\n")
    write(server / "out" / "local.txt", "local folder\n")
    sync.cycle()
    seed = tmp_path / "seed"
    write(seed / "data" / "x.csv", "upstream folder\n")
    write(seed / "out", "upstream file\n")
    git(seed, "add", "-f", "-A")
    git(seed, "commit", "-q", "-m", "clash")
    git(seed, "push", "-q", "origin", "main")
    report = sync.cycle()
    kept = {c["path"]: c["kept_at"] for c in report.conflicts}
    assert set(kept) == {"data", "out"}
    assert (server / "data").read_text() == "local file\n"
    assert (server / "out" / "local.txt").read_text() == "local folder\n"
    assert (server / kept["data"] / "x.csv").read_text() == "upstream folder\n"
    assert (server / kept["out"]).read_text() == "upstream file\n"
    assert sync.cycle().result == "ok"


def test_cycle_leaves_out_notebook_checkpoints_and_keeps_exec_bits(sync, server, remote):
    """Checkpoints and caches are never committed; an executable script stays executable."""
    write(server / "nb" / ".ipynb_checkpoints" / "a-checkpoint.ipynb", "{}\n")
    write(server / ".cache" / "pip" / "wheel.bin", b"cache")
    write(server / "pkg" / "__pycache__" / "m.cpython-311.pyc", b"pyc")
    write(server / "run.sh", "#!/bin/sh\necho hi\n")
    (server / "run.sh").chmod(0o755)
    assert sync.cycle().result == "ok"
    files = git(remote, "ls-tree", "-r", "remote-dev/alice")
    assert ".ipynb_checkpoints" not in files and ".cache" not in files
    assert "__pycache__" not in files
    assert "100755 blob" in next(line for line in files.splitlines() if "run.sh" in line)


def test_conflict_writer_refuses_paths_through_symlinks_out_of_the_workspace(sync, tmp_path):
    """A conflict copy is never written through a symlinked folder that leaves the workspace."""
    from jupyter_remote_dev.gitsync import GitSyncError
    from jupyter_remote_dev.gitsync.conflicts import write_blob

    outside = tmp_path / "outside"
    outside.mkdir()
    (sync.workspace / "link").symlink_to(outside)
    sha = git(sync.workspace, "hash-object", "-w", "README.md").strip()
    with pytest.raises(GitSyncError, match="leaves the workspace"):
        write_blob(sync.git, sha, "100644", sync.workspace / "link" / "x.txt")
    assert list(outside.iterdir()) == []


def test_cycle_ignored_file_never_published_when_a_teammate_force_adds_one(
    sync, server, laptop, remote
):
    """The server's ignored special/run.log stays local and unpublished; the teammate's
    force-added version stays reachable on the branch at the conflict-copy name."""
    write(server / ".gitignore", "*.log\n")
    write(server / "special" / "run.log", "server-only log\n")
    write(server / "special" / "keep.txt", "k\n")
    assert sync.cycle().result == "ok"
    laptop_pull(laptop)
    write(laptop / "special" / "run.log", "teammate log\n")
    git(laptop, "add", "-f", "special/run.log")
    git(laptop, "commit", "-q", "-m", "force-add a log")
    git(laptop, "push", "-q", "origin", "HEAD")
    report = sync.cycle()
    (conflict,) = report.conflicts
    kept = conflict["kept_at"]
    assert conflict["path"] == "special/run.log" and kept.startswith("special/run.remote-")
    assert (server / "special" / "run.log").read_text() == "server-only log\n"
    assert (server / kept).read_text() == "teammate log\n"
    for _ in range(2):
        assert sync.cycle().result == "ok"
    files = remote_files(remote)
    assert files[kept] == b"teammate log\n"
    assert "special/run.log" not in files
    history = git(remote, "log", "-p", "--all", "--format=%H")
    assert "server-only log" not in history  # not in any commit, ever
    assert git(server, "status", "--porcelain") == ""
    laptop_pull(laptop)
    assert (laptop / kept).read_text() == "teammate log\n"


def test_cycle_tracked_file_folder_clash_uses_the_remote_copy_names(sync, server, laptop, remote):
    """A file edited here that became a folder there (and the reverse): the server's side stays
    in place, the other side's goes to name.remote-<sha8>; no git 'name~HEAD' leftovers."""
    write(laptop / "df", "base\n")
    write(laptop / "d2" / "x", "base\n")
    laptop_push(laptop)
    sync.cycle()
    git(laptop, "rm", "-q", "df")
    write(laptop / "df" / "x", "laptop folder\n")
    git(laptop, "rm", "-rq", "d2")
    write(laptop / "d2", "laptop file\n")
    laptop_push(laptop)
    laptop_sha = git(laptop, "rev-parse", "HEAD").strip()
    write(server / "df", "server file\n")
    write(server / "d2" / "x", "server folder\n")
    report = sync.cycle()
    kept = {c["path"]: c["kept_at"] for c in report.conflicts if c["kept_at"] != c["path"]}
    assert kept["df"] == f"df.remote-{laptop_sha[:8]}"
    assert kept["d2"] == f"d2.remote-{laptop_sha[:8]}"
    assert (server / "df").read_text() == "server file\n"
    assert (server / kept["df"] / "x").read_text() == "laptop folder\n"
    assert (server / "d2" / "x").read_text() == "server folder\n"
    assert (server / kept["d2"]).read_text() == "laptop file\n"
    assert sync.cycle().result == "ok"
    files = remote_files(remote)
    assert not [name for name in files if "~" in name]
    assert not [p for p in server.rglob("*") if "~" in p.name]
    values = list(files.values())
    assert values.count(b"server file\n") == 1 and values.count(b"server folder\n") == 1
    assert values.count(b"laptop folder\n") == 1 and values.count(b"laptop file\n") == 1

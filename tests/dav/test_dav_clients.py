"""Real WebDAV clients against a real server: rclone (sync, check, sync back, FUSE mount) and
cadaver (put, get, move, lock, propget), scripted as a user would run them."""

from __future__ import annotations

import contextlib
import filecmp
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from .dav_support import DavServer

needs_rclone = pytest.mark.skipif(
    not shutil.which("rclone"), reason="rclone is not installed (.ci/install installs it)"
)


def make_tree(root: Path, count: int = 500) -> None:
    """``count`` small files in nested folders, each with distinct content."""
    for i in range(count):
        path = root / f"dir{i % 10}" / f"sub{i % 3}" / f"file-{i:03d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"file {i}\n" * (1 + i % 7))


def tree_of(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def rclone_env(server: DavServer, home: Path) -> dict[str, str]:
    """A remote ``drive:`` from the environment, as ``jupyter remote-dev drive`` prints it."""
    obscured = subprocess.run(
        ["rclone", "obscure", server.token], capture_output=True, text=True, check=True
    ).stdout.strip()
    return {
        **os.environ,
        "HOME": str(home),
        "RCLONE_CONFIG": str(home / "rclone.conf"),
        "RCLONE_CONFIG_DRIVE_TYPE": "webdav",
        "RCLONE_CONFIG_DRIVE_URL": server.dav,
        "RCLONE_CONFIG_DRIVE_VENDOR": "other",
        "RCLONE_CONFIG_DRIVE_USER": "me",
        "RCLONE_CONFIG_DRIVE_PASS": obscured,
    }


def rclone(env, *args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["rclone", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@needs_rclone
def test_rclone_syncs_500_files_up_checks_and_syncs_a_change_back(server, tmp_path):
    local = tmp_path / "local"
    make_tree(local)
    env = rclone_env(server, tmp_path)
    up = rclone(env, "sync", str(local), "drive:tree", "--transfers", "8")
    assert up.returncode == 0, up.stderr
    assert tree_of(server.root / "tree") == tree_of(local)
    assert len(tree_of(local)) == 500
    check = rclone(env, "check", "--download", str(local), "drive:tree")
    assert check.returncode == 0, check.stderr
    assert "0 differences found" in check.stderr
    (server.root / "tree" / "dir1" / "sub1" / "file-001.txt").write_text("changed on the server\n")
    (server.root / "tree" / "dir1" / "new.txt").write_text("new on the server\n")
    (server.root / "tree" / "dir2" / "sub2" / "file-002.txt").unlink()
    down = rclone(env, "sync", "drive:tree", str(local))
    assert down.returncode == 0, down.stderr
    assert tree_of(local) == tree_of(server.root / "tree")
    assert (local / "dir1" / "new.txt").read_text() == "new on the server\n"
    assert not (local / "dir2" / "sub2" / "file-002.txt").exists()


def fuse_usable() -> str | None:
    """Why a FUSE mount cannot run here, or None."""
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse does not exist (a container without FUSE)"
    if not (shutil.which("fusermount3") or shutil.which("fusermount")):
        return "fusermount is not installed (.ci/install installs fuse3)"
    return None


@needs_rclone
@pytest.mark.skipif(fuse_usable() is not None, reason=str(fuse_usable()))
def test_rclone_mount_reads_and_writes(server, tmp_path):
    """``rclone mount`` (FUSE): a file written in the mount lands on the server whole, a file
    made on the server reads back, a rename and a delete go through."""
    (server.root / "mounted").mkdir()
    (server.root / "mounted" / "from-server.txt").write_text("hello from the server\n")
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    env = rclone_env(server, tmp_path)
    process = subprocess.Popen(
        ["rclone", "mount", "drive:mounted", str(mountpoint), "--vfs-cache-mode", "writes",
         "--dir-cache-time", "1s", "--cache-dir", str(tmp_path / "cache")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not os.path.ismount(mountpoint):
            if process.poll() is not None:
                pytest.fail(f"rclone mount exited: {process.stdout.read()}")
            assert time.monotonic() < deadline, "the mount did not appear in 30 s"
            time.sleep(0.2)
        assert (mountpoint / "from-server.txt").read_text() == "hello from the server\n"
        data = os.urandom(3 * 1024 * 1024)
        (mountpoint / "from-mount.bin").write_bytes(data)
        os.rename(mountpoint / "from-server.txt", mountpoint / "renamed.txt")
        deadline = time.monotonic() + 30  # writes are uploaded when the file is closed
        target = server.root / "mounted" / "from-mount.bin"
        while not (target.exists() and target.read_bytes() == data):
            assert time.monotonic() < deadline, "the file written in the mount never arrived"
            time.sleep(0.2)
        assert (server.root / "mounted" / "renamed.txt").read_text() == "hello from the server\n"
        os.unlink(mountpoint / "renamed.txt")
        assert not (server.root / "mounted" / "renamed.txt").exists()
    finally:
        unmount = shutil.which("fusermount3") or shutil.which("fusermount")
        subprocess.run([unmount, "-u", str(mountpoint)], capture_output=True)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.skipif(not shutil.which("cadaver"), reason="cadaver is not installed")
def test_cadaver_put_get_move_lock_propget(server, tmp_path):
    """cadaver, scripted on stdin with the token in ~/.netrc: every step lands on the server."""
    home = tmp_path / "home"
    home.mkdir()
    host = server.url.split("/")[2].split(":")[0]
    (home / ".netrc").write_text(f"machine {host} login me password {server.token}\n")
    (home / ".netrc").chmod(0o600)
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("cadaver was here\n")
    script = "\n".join(
        [
            "mkcol cad",
            "cd cad",
            "put notes.txt",
            "get notes.txt copy.txt",
            "move notes.txt moved.txt",
            "lock moved.txt",
            "discover moved.txt",
            "unlock moved.txt",
            "propset moved.txt color blue",
            "propget moved.txt color",
            "ls",
            "quit",
        ]
    )
    done = subprocess.run(
        ["cadaver", server.dav], input=script + "\n", cwd=work, capture_output=True, text=True,
        env={**os.environ, "HOME": str(home)}, timeout=120,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "failed" not in output.lower(), output
    assert filecmp.cmp(work / "notes.txt", work / "copy.txt", shallow=False)
    assert (server.root / "cad" / "moved.txt").read_text() == "cadaver was here\n"
    assert not (server.root / "cad" / "notes.txt").exists()
    assert "Locking `moved.txt': succeeded" in output, output
    assert "Unlocking `moved.txt': succeeded" in output, output
    assert "Value of color is: blue" in output, output

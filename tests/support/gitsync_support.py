"""Helpers for the git sync tests: real bare remotes, a laptop clone driven by the git CLI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from jupyter_remote_dev.gitsync import GitSyncEngine, SyncSettings

GIT_ENV = {
    **os.environ,
    "LANG": "C",
    "LC_ALL": "C",
    "GIT_AUTHOR_NAME": "Laptop",
    "GIT_AUTHOR_EMAIL": "laptop@example.org",
    "GIT_COMMITTER_NAME": "Laptop",
    "GIT_COMMITTER_EMAIL": "laptop@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


def git(cwd: Path, *args: str, check: bool = True) -> str:
    """Run the plain git CLI (the laptop's side) and return its stdout."""
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def make_remote(tmp_path: Path, files: dict[str, str | bytes] | None = None) -> Path:
    """A bare repository whose ``main`` holds ``files`` (default: a README and a notebook)."""
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", str(bare), str(seed))
    git(seed, "checkout", "-q", "-b", "main")
    for path, content in (files or {"README.md": "hello\n", "nb/a.ipynb": "{}\n"}).items():
        write(seed / path, content)
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "seed")
    git(seed, "push", "-q", "origin", "main")
    return bare


def write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def make_sync(tmp_path: Path, repo: str | Path, **settings) -> GitSyncEngine:
    """A GitSyncEngine for workspace ``tmp_path/server`` on branch ``remote-dev/alice``."""
    values = {
        "repo": str(repo),
        "workspace": tmp_path / "server",
        "sync_branch": "remote-dev/alice",
        "author_name": "Server",
        "author_email": "server@example.org",
        **settings,
    }
    return GitSyncEngine(SyncSettings(**values))


def laptop_clone(tmp_path: Path, bare: Path, branch: str = "remote-dev/alice") -> Path:
    """The laptop: a plain clone with the sync branch checked out."""
    laptop = tmp_path / "laptop"
    git(tmp_path, "clone", "-q", "-b", branch, str(bare), str(laptop))
    return laptop


def laptop_push(laptop: Path, message: str = "laptop edit") -> None:
    """Commit everything on the laptop and push the sync branch (pulling first, merging)."""
    git(laptop, "add", "-A")
    git(laptop, "commit", "-q", "-m", message)
    laptop_pull(laptop)
    git(laptop, "push", "-q", "origin", "HEAD")


def laptop_pull(laptop: Path) -> None:
    """Fetch and merge the sync branch on the laptop."""
    branch = git(laptop, "rev-parse", "--abbrev-ref", "HEAD").strip()
    git(laptop, "pull", "-q", "--no-rebase", "--no-edit", "origin", branch)

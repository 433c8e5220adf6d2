"""Provision the team repository (a bare repo, ``main`` with a sample project) and its hooks."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_NAME = "team.git"
MAIN = "main"
SAMPLE_FILES = {
    "README.md": """# Team project

The team repository of the jupyter-remote-dev demo hub. Each user server keeps its
`team-project/` folder in sync with the branch `remote-dev/<user>` (and merges `main`):
edit a file in JupyterLab, press "Sync now" in the Remote dev sidebar, and the change is
committed and pushed to your branch. The hub refuses pushes to it made with anyone else's
token.

This demo hub runs every user under one OS account: it is not a security boundary. Any user's
commands can read another user's files and server token (`/proc/<pid>/environ`) and push as
them. Users are isolated on Kubernetes, where each server is its own pod.
""",
    "analysis/summary.py": '''"""Summarise a small data set."""

import statistics

DATA = [3.1, 4.1, 5.9, 2.6, 5.3, 5.8, 9.7, 9.3]

if __name__ == "__main__":
    print(f"n={len(DATA)} mean={statistics.mean(DATA):.2f} stdev={statistics.stdev(DATA):.2f}")
''',
    ".gitignore": "__pycache__/\n.ipynb_checkpoints/\n",
}
HOOK = """#!/bin/sh
# jupyter-remote-dev: only the authenticated user's own branch may be pushed to.
exec {python} -m jupyter_remote_dev.services.git_remote.policy
"""


def run_git(*args: str, cwd: Path | None = None) -> None:
    """git with no user or system config; CalledProcessError (with stderr) if it fails."""
    env = {
        **os.environ,
        "LANG": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "jupyter-remote-dev",
        "GIT_AUTHOR_EMAIL": "demo@remote-dev.invalid",
        "GIT_COMMITTER_NAME": "jupyter-remote-dev",
        "GIT_COMMITTER_EMAIL": "demo@remote-dev.invalid",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def provision(root: Path) -> Path:
    """The team repository under ``root``, created with a sample project on ``main`` if absent.

    It is built in a temporary folder and renamed into place, so an interrupted start never
    leaves a half-made repository behind.
    """
    root.mkdir(parents=True, exist_ok=True)
    repo = root / REPO_NAME
    if repo.is_dir():
        return repo
    with tempfile.TemporaryDirectory(dir=root, prefix=".provision-") as scratch:
        bare, work = Path(scratch, REPO_NAME), Path(scratch, "work")
        run_git("init", "-q", "--bare", f"--initial-branch={MAIN}", str(bare))
        run_git("init", "-q", f"--initial-branch={MAIN}", str(work))
        for name, text in SAMPLE_FILES.items():
            path = work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        run_git("add", "-A", cwd=work)
        run_git("commit", "-q", "-m", "Sample project", cwd=work)
        run_git("push", "-q", str(bare), f"{MAIN}:{MAIN}", cwd=work)
        os.rename(bare, repo)
    return repo


def install_hooks(folder: Path) -> Path:
    """A hooks folder with our pre-receive hook (run with this Python); used as core.hooksPath."""
    folder.mkdir(parents=True, exist_ok=True)
    hook = folder / "pre-receive"
    partial = folder / ".pre-receive.tmp"
    partial.write_text(HOOK.format(python=shlex.quote(sys.executable)))
    partial.chmod(0o700)  # the hub's account runs it; nobody else needs to read it
    os.replace(partial, hook)
    return folder


def git_backend() -> str:
    """The ``git`` executable (``git http-backend`` is one of its commands)."""
    git = shutil.which("git")
    if git is None:
        raise RuntimeError("git is not installed: apt-get install git")
    return git

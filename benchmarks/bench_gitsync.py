"""Git sync cycle vs nbgitpuller pull on a 1,000-file repo with 10 changed files, side by side.

Run: ``python benchmarks/bench_gitsync.py [--rounds 9]``. Everything is local (bare repo on disk);
each round pushes a fresh upstream commit touching 10 files, then times nbgitpuller's pull
(``GitPuller(...).pull()``, as its ``gitpuller`` CLI does) and our cycle on the same change, in
alternating order. Prints medians and ratios as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from nbgitpuller.pull import GitPuller

from jupyter_remote_dev.gitsync import GitSyncEngine, SyncSettings

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.org",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.org",
}
FILES = 1000
CHANGED = 10


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True)


def make_repo(root: Path) -> tuple[Path, Path]:
    """A bare repo whose main has 1,000 files (100 folders x 10, ~2 KiB each), and a seed clone."""
    bare, seed = root / "remote.git", root / "seed"
    git(root, "init", "-q", "--bare", "-b", "main", str(bare))
    git(root, "clone", "-q", str(bare), str(seed))
    git(seed, "checkout", "-q", "-b", "main")
    for index in range(FILES):
        path = seed / f"dir{index // 10:02d}" / f"file{index:04d}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"# file {index}\n" + "x = 1\n" * 300)
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "seed")
    git(seed, "push", "-q", "origin", "main")
    return bare, seed


def push_upstream_change(seed: Path, round_number: int) -> None:
    """One upstream commit that changes 10 files."""
    for index in range(CHANGED):
        number = (round_number * 37 + index * 97) % FILES
        path = seed / f"dir{number // 10:02d}" / f"file{number:04d}.py"
        path.write_text(path.read_text() + f"y = {round_number}\n")
    git(seed, "commit", "-q", "-am", f"round {round_number}")
    git(seed, "push", "-q", "origin", "main")


def nbgitpuller_pull(bare: Path, target: Path) -> float:
    start = time.perf_counter()
    for _ in GitPuller(str(bare), str(target), branch="main").pull():
        pass
    return time.perf_counter() - start


def our_cycle(sync: GitSyncEngine) -> float:
    start = time.perf_counter()
    report = sync.cycle()
    elapsed = time.perf_counter() - start
    if report.result != "ok":
        raise SystemExit(f"cycle failed: {report.message}")
    return elapsed


def local_edits(workspace: Path, round_number: int) -> None:
    for index in range(CHANGED):
        path = workspace / f"dir{(round_number + index) % 100:02d}" / f"local{index}.py"
        path.write_text(f"z = {round_number}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory(prefix="bench-gitsync-") as folder:
        root = Path(folder)
        bare, seed = make_repo(root)
        puller_dir = root / "nbgitpuller"
        nbgitpuller_pull(bare, puller_dir)  # first run clones
        settings = SyncSettings(
            repo=str(bare),
            workspace=root / "ours",
            sync_branch="remote-dev/bench",
            upstream="main",
            author_name="bench",
            author_email="bench@example.org",
        )
        sync = GitSyncEngine(settings)
        sync.init()
        # the same job as nbgitpuller: follow main itself (fast-forward, nothing to push)
        follow = GitSyncEngine(replace(settings, workspace=root / "follow", sync_branch="main",
                                 upstream=None))  # fmt: skip
        follow.init()
        names = ("ours", "nbgitpuller", "follow", "ours_idle", "nbgitpuller_idle", "ours_both")
        times: dict[str, list[float]] = {name: [] for name in names}
        for number in range(rounds):
            push_upstream_change(seed, number)
            steps = [
                ("nbgitpuller", lambda: nbgitpuller_pull(bare, puller_dir)),
                ("ours", lambda: our_cycle(sync)),
                ("follow", lambda: our_cycle(follow)),
            ]
            for name, step in steps[number % 3 :] + steps[: number % 3]:
                times[name].append(step())
            times["nbgitpuller_idle"].append(nbgitpuller_pull(bare, puller_dir))
            times["ours_idle"].append(our_cycle(sync))
            push_upstream_change(seed, 1000 + number)
            local_edits(sync.workspace, number)
            times["ours_both"].append(our_cycle(sync))
        median = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"rounds: {rounds}, repo: {FILES} files, {CHANGED} changed per round, "
          f"git {subprocess.run(['git', '--version'], capture_output=True, text=True).stdout.split()[-1]}, "  # noqa: E501
          f"python {sys.version.split()[0]}")  # fmt: skip
    print("| scenario | our cycle (ms) | nbgitpuller pull (ms) | ours / nbgitpuller |")
    print("|---|---|---|---|")
    for label, ours, theirs in (
        ("10 files changed upstream; ours merges into the sync branch and pushes it", "ours",
         "nbgitpuller"),
        ("10 files changed upstream; ours follows main itself (nbgitpuller's job)", "follow",
         "nbgitpuller"),
        ("nothing changed", "ours_idle", "nbgitpuller_idle"),
    ):  # fmt: skip
        ratio = median[ours] / median[theirs]
        print(f"| {label} | {median[ours]:.0f} | {median[theirs]:.0f} | {ratio:.2f} |")
    print(f"| 10 local + 10 upstream changes: commit, merge, push | {median['ours_both']:.0f} "
          "| n/a (nbgitpuller never pushes) | |")  # fmt: skip


if __name__ == "__main__":
    main()

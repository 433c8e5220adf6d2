"""Randomized two-sided editing with cycles in between: zero lost versions, seeded and bounded."""

import os
import random
import subprocess
import time

import pytest

from ..support.gitsync_support import git, laptop_clone, laptop_pull, make_remote, make_sync, write

SEEDS = [20261126, 7]
ROUNDS = 20
TIME_BUDGET = 30.0  # seconds per seed; the loop stops early rather than run long on a busy box


def all_blobs(repo) -> set[bytes]:
    """The content of every blob reachable from any ref of ``repo``."""
    objects = git(repo, "rev-list", "--objects", "--all").split("\n")
    shas = "\n".join(line.split(" ")[0] for line in objects if line.strip())
    batch = subprocess.run(
        ["git", "cat-file", "--batch"], cwd=repo, input=shas.encode(), capture_output=True
    ).stdout
    blobs, offset = set(), 0
    while offset < len(batch):
        header_end = batch.index(b"\n", offset)
        _sha, kind, size = batch[offset:header_end].split(b" ")
        start, end = header_end + 1, header_end + 1 + int(size)
        if kind == b"blob":
            blobs.add(batch[start:end])
        offset = end + 1
    return blobs


def tree_files(root) -> dict[str, bytes]:
    """Every file under ``root`` except ``.git``, by relative path."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = os.path.join(folder, name)
            found[os.path.relpath(path, root)] = open(path, "rb").read()
    return found


class Side:
    """One side's random editor; remembers every version it had when it synced."""

    def __init__(self, name: str, root, rng: random.Random, versions: set[bytes]):
        self.name, self.root, self.rng, self.versions = name, root, rng, versions
        self.counter = 0

    def snapshot(self) -> None:
        """Record every file's content as it is when this side commits or cycles."""
        self.versions.update(tree_files(self.root).values())

    def content(self) -> bytes:
        self.counter += 1
        text = f"{self.name} version {self.counter}\n".encode()
        if self.rng.random() < 0.2:
            text = b"\x00\x01binary " + text + bytes(self.rng.randrange(256) for _ in range(64))
        return text

    def edit(self, edits: int) -> None:
        for _ in range(edits):
            files = sorted(tree_files(self.root))
            action = self.rng.choice(["modify", "modify", "create", "delete", "rename"])
            if action == "create" or not files:
                folder = self.rng.choice(["", "d1/", "d2/sub/"])
                write(self.root / f"{folder}{self.name}-{self.counter}.txt", self.content())
                continue
            path = self.root / self.rng.choice(files)
            if action == "modify":
                write(path, self.content())
            elif action == "delete":
                path.unlink()
            else:
                target = path.with_name(f"{self.name}-mv-{self.counter}-{path.name}")
                self.counter += 1
                os.rename(path, target)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_edits_on_both_sides_never_lose_a_version(tmp_path, seed):
    """Every version either side ever had is in history or a conflict copy, and both converge."""
    rng = random.Random(seed)
    files = {f"f{i}.txt": f"seed {i}\n" for i in range(8)}
    remote = make_remote(tmp_path, files)
    sync = make_sync(tmp_path, remote, upstream="main")
    assert sync.init().result == "ok"
    laptop = laptop_clone(tmp_path, remote)
    versions = {content.encode() for content in files.values()}
    server_side = Side("srv", sync.workspace, rng, versions)
    laptop_side = Side("lap", laptop, rng, versions)
    conflicts = 0
    deadline = time.monotonic() + TIME_BUDGET
    for _ in range(ROUNDS):
        if time.monotonic() > deadline:
            break
        if rng.random() < 0.8:
            laptop_pull(laptop)
            laptop_side.edit(rng.randint(1, 4))
            laptop_side.snapshot()
            git(laptop, "add", "-A")
            git(laptop, "commit", "-q", "--allow-empty", "-m", "laptop round")
            git(laptop, "push", "-q", "origin", "HEAD")
        server_side.edit(rng.randint(0, 4))
        server_side.snapshot()
        before = tree_files(sync.workspace)
        report = sync.cycle()
        assert report.result in ("ok", "conflict"), report.message
        after = tree_files(sync.workspace)
        for conflict in report.conflicts:  # the server's version stays, the other is beside it
            if conflict["kind"] == "both changed":
                assert after[conflict["path"]] == before[conflict["path"]]
            if conflict["kept_at"]:
                assert conflict["kept_at"] in after
        conflicts += len(report.conflicts)
    assert sync.cycle().result == "ok"
    laptop_pull(laptop)
    known = all_blobs(remote) | all_blobs(sync.workspace) | set(tree_files(sync.workspace).values())
    lost = [version for version in versions if version not in known]
    assert lost == []
    assert tree_files(laptop) == tree_files(sync.workspace)
    assert conflicts > 0, "the seed should exercise conflicts"

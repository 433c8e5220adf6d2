"""Size limits of the team repository (per push, per branch) and its garbage collection (issue 26):
real git clients through the service's tornado app and ``git http-backend``, with small limits."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from traitlets.config.loader import PyFileConfigLoader

from jupyter_remote_dev.services.git_remote.quota import (
    BRANCH_ENV,
    GC_ENV,
    PUSH_ENV,
    Housekeeper,
    Limits,
)

from ..support.git_http_support import git, team_git_service

MIB = 1024 * 1024
LIMITS = Limits(max_push_mib=1, max_branch_mib=2, gc_interval=3600)
CAROL = {"user": "carol", "token": "carol-token"}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with team_git_service(tmp_path_factory.mktemp("git-quota"), limits=LIMITS) as running:
        yield running


@pytest.fixture
def clone(service, tmp_path):
    """carol's clone of the team repository, on her branch."""
    path = tmp_path / "clone"
    git("clone", "-q", service["url"], str(path), **CAROL)
    git("checkout", "-q", "-B", "remote-dev/carol", "origin/main", cwd=path)
    return path


def commit_random(clone: Path, name: str, size: int) -> str:
    """Commit ``size`` random (incompressible) bytes as ``name``; returns the blob's id."""
    (clone / name).write_bytes(os.urandom(size))
    git("add", name, cwd=clone)
    git("commit", "-q", "-m", name, cwd=clone)
    return git("rev-parse", f"HEAD:{name}", cwd=clone).stdout.strip()


def push(clone: Path, *options: str):
    return git("push", *options, "origin", "HEAD:refs/heads/remote-dev/carol", cwd=clone,
               check=False, **CAROL)  # fmt: skip


def branch(service) -> str:
    found = git("--git-dir", str(service["bare"]), "rev-parse", "-q", "--verify",
                "refs/heads/remote-dev/carol", check=False)  # fmt: skip
    return found.stdout.strip()


def stored(service, blob: str) -> bool:
    found = git("--git-dir", str(service["bare"]), "cat-file", "-e", blob, check=False)
    return found.returncode == 0


def object_bytes(bare: Path) -> int:
    return sum(p.stat().st_size for p in (bare / "objects").rglob("*") if p.is_file())


def test_quota_settings_come_from_the_environment_with_defaults():
    """Unset: 50 MiB per push, 200 MiB per branch, gc every 600 s; bad values name the setting."""
    assert Limits.from_env({}) == Limits(max_push_mib=50, max_branch_mib=200, gc_interval=600)
    env = {PUSH_ENV: "1.5", BRANCH_ENV: "3", GC_ENV: "2"}
    assert Limits.from_env(env) == Limits(max_push_mib=1.5, max_branch_mib=3, gc_interval=2)
    assert Limits.from_env(env).environment() == env
    for name in (PUSH_ENV, BRANCH_ENV, GC_ENV):
        for bad in ("", "0", "-1", "lots", "nan", "inf"):
            with pytest.raises(ValueError, match=name):
                Limits.from_env({name: bad})
    readme = (Path(__file__).parents[2] / "hub_config" / "README.md").read_text()
    for name, default in Limits().environment().items():
        assert f"| `{name}` | `{default}` |" in readme  # the settings table says the defaults


def test_quota_push_over_the_limit_is_refused_and_nothing_stored(service, clone):
    """A 1.5 MiB push against 1 MiB per push: refused with the limit named, as ``remote:`` lines;
    the branch is not created and the blob is not in the repository."""
    blob = commit_random(clone, "big.bin", 3 * MIB // 2)
    refused = push(clone)
    assert refused.returncode != 0
    assert "remote: push refused: it brings 1.5 MiB" in refused.stderr
    assert f"over the limit of 1 MiB per push ({PUSH_ENV})" in refused.stderr
    assert branch(service) == ""
    assert not stored(service, blob)


def test_quota_branch_over_the_limit_is_refused(service, clone):
    """Pushes each under 1 MiB, but the third takes the branch past 2 MiB beyond main: refused
    with the limit named, the branch stays at the second push."""
    blobs = []
    for part in ("part0.bin", "part1.bin"):
        blobs.append(commit_random(clone, part, 4 * MIB // 5))
        assert push(clone).returncode == 0
    second = branch(service)
    assert second == git("rev-parse", "HEAD", cwd=clone).stdout.strip()
    third = commit_random(clone, "part2.bin", 4 * MIB // 5)
    refused = push(clone)
    assert refused.returncode != 0
    assert "remote: push to refs/heads/remote-dev/carol refused: the branch would hold 2.4 MiB" in (
        refused.stderr
    )
    assert f"over the limit of 2 MiB per branch ({BRANCH_ENV})" in refused.stderr
    assert branch(service) == second
    assert all(stored(service, blob) for blob in blobs) and not stored(service, third)


def test_quota_forced_update_then_gc_frees_the_space(service, clone):
    """Force-pushing a small commit over a large branch, then the service's gc: the large objects
    are deleted and the repository's object store shrinks by their size."""
    big = commit_random(clone, "large.bin", 9 * MIB // 10)
    assert push(clone, "--force").returncode == 0
    assert stored(service, big)
    before = object_bytes(service["bare"])
    git("reset", "-q", "--hard", "origin/main", cwd=clone)
    (clone / "small.txt").write_text("small\n")
    git("add", "small.txt", cwd=clone)
    git("commit", "-q", "-m", "small", cwd=clone)
    assert push(clone, "--force").returncode == 0
    keeper = service["app"].settings["housekeeper"]
    deadline = time.monotonic() + 30
    while not asyncio.run_coroutine_threadsafe(keeper.collect(), service["loop"]).result(120):
        assert time.monotonic() < deadline, "the gc never ran"  # the push may still be ending
        time.sleep(0.1)
    assert not stored(service, big)
    assert object_bytes(service["bare"]) < before - 4 * MIB // 5
    assert git("--git-dir", str(service["bare"]), "fsck", "--connectivity-only").returncode == 0
    again = asyncio.run_coroutine_threadsafe(keeper.collect(), service["loop"]).result(120)
    assert again is False  # nothing pushed since: not due


async def test_quota_gc_never_runs_while_a_push_is_in_flight(tmp_path):
    """gc waits for pushes in flight (it deletes unreachable objects at once), and a push that
    starts during a gc waits for it; a gc is due only after a push."""
    bare = tmp_path / "team.git"
    git("init", "-q", "--bare", str(bare))
    keeper = Housekeeper(bare, interval=3600)
    assert await keeper.collect() is True  # due once at start: earlier pushes are unknown
    assert await keeper.collect() is False
    await keeper.push_started()
    keeper_blocked = await keeper.collect()
    keeper.push_ended()
    assert keeper_blocked is False
    async with keeper.lock:  # a gc in progress
        waiting = asyncio.ensure_future(keeper.push_started())
        await asyncio.sleep(0.05)
        assert not waiting.done()
    await asyncio.wait_for(waiting, 5)
    keeper.push_ended()
    assert await keeper.collect() is True


def test_quota_settings_pass_from_the_hub_to_the_service(monkeypatch, tmp_path):
    """local_config.py as JupyterHub loads it: the hub's settings are in the team-git service's
    environment; a bad one stops the load naming it (JupyterHub raises config file errors)."""
    config = Path(__file__).resolve().parents[2] / "hub_config" / "local_config.py"
    monkeypatch.setenv("JUPYTER_REMOTE_DEV_HUB_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("JUPYTER_REMOTE_DEV_DEMO_PASSWORD", "a-demo-password")
    monkeypatch.setenv("JUPYTER_REMOTE_DEV_LOCAL_RAY", "0")
    monkeypatch.setenv(PUSH_ENV, "5")
    c = PyFileConfigLoader(config.name, str(config.parent)).load_config()
    (service,) = [s for s in c.JupyterHub.services if s["name"] == "team-git"]
    assert service["environment"] == {
        "HOME": str(tmp_path / "state" / "git"),
        **Limits(max_push_mib=5).environment(),
    }
    monkeypatch.setenv(BRANCH_ENV, "a lot")
    with pytest.raises(ValueError, match=f"{BRANCH_ENV} must be a positive number, got 'a lot'"):
        PyFileConfigLoader(config.name, str(config.parent)).load_config()

"""``jupyter remote-dev sync`` beside ``rsync -a`` over loopback ssh, fairly (the sync benchmarks).

Both send the same local tree. Every timed command starts after ``os.sync()`` (no one pays for
the other's dirty pages) and the two take turns going first, round by round. A first-sync round
is a true first sync for both: the CLI binds anew (its state folder removed) to a new server
folder, rsync copies into a new folder. A re-sync round changes 20 files, then both sync again
into the last round's folders (the CLI as a new process, as a user runs it).
"""

from __future__ import annotations

import compileall
import contextlib
import os
import shutil
import statistics
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jupyter_remote_dev
from benchmarks.common import (
    LoopbackSsh,
    RunningServer,
    jupyter_server,
    reset_peak_rss,
    rss_bytes,
    run_measured,
    touch_changes,
)
from jupyter_remote_dev.client import profiles
from jupyter_remote_dev.client.sync.state import STATE_DIR

_BESIDE_PYTHON = Path(sys.executable).with_name("jupyter-remote-dev")
CLI = str(_BESIDE_PYTHON if _BESIDE_PYTHON.exists() else shutil.which("jupyter-remote-dev"))
"""The installed console script itself (not a version manager's shim in front of it)."""


def compile_package() -> None:
    """Write the package's bytecode, as ``pip install`` does: an editable install run under
    ``PYTHONDONTWRITEBYTECODE`` (this machine) would otherwise compile every module the CLI
    imports on every run, a cost no installed CLI has."""
    compileall.compile_dir(Path(jupyter_remote_dev.__file__).parent, quiet=1)


@contextlib.contextmanager
def cli_server(tmp: Path, profile: str = "bench") -> Iterator[tuple[RunningServer, dict[str, str]]]:
    """A Jupyter server on ``tmp/server`` and a CLI profile for it in ``tmp/cfg`` (for this
    process too); yields the server and the environment to run the CLI in."""
    compile_package()
    (tmp / "server").mkdir()
    os.environ["JUPYTER_CONFIG_DIR"] = str(tmp / "cfg")
    with jupyter_server(tmp / "server") as server:
        profiles.save(profiles.Profile(profile, server.url, server.token))
        yield server, dict(os.environ)


@dataclass(frozen=True)
class Sample:
    """One timed sync: wall time, the syncing process's peak RSS and, for the CLI, the server's
    peak RSS growth during it (bytes)."""

    seconds: float
    peak_rss: int
    server_growth: int | None = None


@dataclass
class SyncPair:
    """The CLI (profile ``profile``) and rsync syncing ``local`` (files ``paths``) in turn; the
    CLI into ``<name>/first-<round>`` on ``server``, rsync into ``targets/first-<round>``."""

    local: Path
    paths: list[Path]
    name: str
    server: RunningServer
    ssh: LoopbackSsh
    targets: Path
    env: dict[str, str]
    profile: str = "bench"
    durable_rsync: bool = False
    """Also time ``rsync -a --fsync`` (each file fsynced, as the CLI's server does; its folders
    are not) in the first syncs, as ``rsync_fsync``."""
    folder: str = ""
    """The current round's folder name, set by ``first``."""

    def first(self, round_no: int) -> dict[str, Sample]:
        """A true first sync of both, into new folders (checked to hold every file after)."""
        shutil.rmtree(self.local / STATE_DIR, ignore_errors=True)
        self.folder = f"first-{round_no}"
        samples = self._in_turn(round_no)
        if self.durable_rsync:
            samples["rsync_fsync"] = self._rsync(f"{self.folder}-fsync", "--fsync")
            shutil.rmtree(self.targets / f"{self.folder}-fsync")
        for copy in (self.server.root_dir / self.name / self.folder, self.targets / self.folder):
            copied = sum(len(files) for _, _, files in os.walk(copy))
            assert copied == len(self.paths), f"{copy} holds {copied} of {len(self.paths)} files"
        return samples

    def resync(self, round_no: int) -> dict[str, Sample]:
        """Change 20 files, then sync both again (after at least one ``first``)."""
        touch_changes(self.paths, round_no)
        return self._in_turn(round_no)

    def _in_turn(self, round_no: int) -> dict[str, Sample]:
        order = ("cli", "rsync") if round_no % 2 == 0 else ("rsync", "cli")
        return {name: self._cli() if name == "cli" else self._rsync() for name in order}

    def _cli(self) -> Sample:
        argv = [CLI, "sync", str(self.local), "--yes", "--profile", self.profile,
                "--remote", f"{self.name}/{self.folder}"]  # fmt: skip
        reset_peak_rss(self.server.pid)
        before = rss_bytes(self.server.pid)[0]
        run = run_measured(argv, self.env)
        return Sample(run.seconds, run.peak_rss, rss_bytes(self.server.pid)[1] - before)

    def _rsync(self, folder: str | None = None, *options: str) -> Sample:
        target = f"{self.ssh.host}:{self.targets / (folder or self.folder)}/"
        run = run_measured(
            [*self.ssh.rsync, "-a", *options, f"--exclude=/{STATE_DIR}", f"{self.local}/", target]
        )
        return Sample(run.seconds, run.peak_rss)


def medians(rounds: list[dict[str, Sample]]) -> dict[str, Sample]:
    """Per command: the median time over ``rounds``, and the highest peak RSS and growth."""
    summary = {}
    for name in rounds[0]:
        samples = [one[name] for one in rounds]
        growths = [s.server_growth for s in samples if s.server_growth is not None]
        summary[name] = Sample(
            statistics.median(s.seconds for s in samples),
            max(s.peak_rss for s in samples),
            max(growths) if growths else None,
        )
    return summary


def each_round(rounds: list[dict[str, Sample]]) -> str:
    """Every round's CLI / rsync seconds, to show the spread behind the medians."""
    return ", ".join(f"{one['cli'].seconds:.2f}/{one['rsync'].seconds:.2f}" for one in rounds)

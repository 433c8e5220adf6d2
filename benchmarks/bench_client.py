"""Client benchmarks (issue 4), side by side in one run on this machine:

1. re-sync of a 2,000-file tree after changing 20 files: ``jupyter remote-dev sync`` (the CLI as a
   user runs it, a fresh process each time, and the same sync from a warm process) against
   ``rsync -a`` over loopback ssh (a fresh ssh connection each time, as rsync makes);
2. ``sync --watch``: time from a file being written to the server holding the new content,
   p50 and p95, debounce included.

    python benchmarks/bench_client.py [--rounds 7] [--saves 40]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import jupyter_server, loopback_sshd
from jupyter_remote_dev.client import profiles
from jupyter_remote_dev.client.api import RemoteDevClient
from jupyter_remote_dev.client.sync.state import SyncState
from jupyter_remote_dev.client.sync.transfer import Transfer

FILES, CHANGED = 2000, 20
CLI = [shutil.which("jupyter-remote-dev") or "jupyter-remote-dev"]


def make_tree(root: Path) -> list[Path]:
    """2,000 source-like files of 0.5-8 KiB in 100 folders."""
    rng = random.Random(4)
    paths = []
    for i in range(FILES):
        path = root / f"pkg{i % 100:03d}" / f"module_{i:04d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(rng.randint(256, 4096)).hex().encode())
        paths.append(path)
    return paths


def touch_changes(paths: list[Path], round_no: int) -> None:
    for path in random.Random(round_no).sample(paths, CHANGED):
        path.write_text(f"# round {round_no}\n" + path.read_text()[:2000])


def timed(argv: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def bench_resync(rounds: int) -> dict:
    results: dict[str, list[float]] = {"cli": [], "warm": [], "rsync": []}
    with tempfile.TemporaryDirectory(prefix="bench-client-") as tmp:
        tmp = Path(tmp)
        ours, theirs = tmp / "ours", tmp / "theirs"
        (tmp / "server").mkdir()
        ours_paths, theirs_paths = make_tree(ours), make_tree(theirs)
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp / "cfg")}
        os.environ["JUPYTER_CONFIG_DIR"] = str(tmp / "cfg")
        with jupyter_server(tmp / "server") as server, loopback_sshd() as ssh:
            profiles.save(profiles.Profile("bench", server.url, server.token))
            sync = [*CLI, "sync", str(ours), "--yes", "--profile", "bench", "--remote", "ours"]
            rsync = [*ssh.rsync, "-a", f"{theirs}/", f"{ssh.host}:{tmp / 'rsync-target'}/"]
            first = {"cli": timed(sync, env), "rsync": timed(rsync, env)}
            for round_no in range(rounds):
                for paths in (ours_paths, theirs_paths):
                    touch_changes(paths, round_no)
                results["cli"].append(timed(sync, env))
                results["rsync"].append(timed(rsync, env))
            profile = profiles.load("bench")
            with RemoteDevClient(profile) as client:
                state = SyncState.load(ours)
                for round_no in range(rounds, 2 * rounds):
                    touch_changes(ours_paths, round_no)
                    started = time.perf_counter()
                    moves = Transfer(client, state)
                    report = moves.run(moves.plan())
                    results["warm"].append(time.perf_counter() - started)
                    assert len(report.done) == CHANGED and not report.failed, report.json()
    return {"first": first, **{k: statistics.median(v) for k, v in results.items()}}


def bench_watch(saves: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        tmp = Path(tmp)
        local, server_root = tmp / "local", tmp / "server"
        server_root.mkdir()
        make_tree(local)
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp / "cfg")}
        os.environ["JUPYTER_CONFIG_DIR"] = str(tmp / "cfg")
        with jupyter_server(server_root) as server:
            profiles.save(profiles.Profile("bench", server.url, server.token))
            watch = subprocess.Popen(
                [*CLI, "sync", str(local), "--yes", "--profile", "bench", "--remote", "w",
                 "--watch"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                while "watching" not in watch.stderr.readline():
                    assert watch.poll() is None, "the watcher exited"
                time.sleep(0.5)
                latencies = []
                for i in range(saves):
                    name = f"pkg{i % 100:03d}/module_{i:04d}.py"
                    content = f"saved {i} {time.time()}\n".encode()
                    target = server_root / "w" / name
                    started = time.perf_counter()
                    (local / name).write_bytes(content)
                    while True:
                        try:
                            if target.read_bytes() == content:
                                break
                        except FileNotFoundError:
                            pass
                        if time.perf_counter() - started > 10:
                            raise TimeoutError(f"{name} never reached the server")
                        time.sleep(0.001)
                    latencies.append(time.perf_counter() - started)
                    time.sleep(0.2)
            finally:
                watch.send_signal(2)
                watch.wait(30)
    quantiles = statistics.quantiles(latencies, n=20)
    return {"p50": statistics.median(latencies), "p95": quantiles[18], "n": saves}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--saves", type=int, default=40)
    args = parser.parse_args()
    resync = bench_resync(args.rounds)
    watch = bench_watch(args.saves)
    ms = 1000
    print(f"first upload of {FILES} files: CLI {resync['first']['cli']:.2f} s, "
          f"rsync -a over ssh {resync['first']['rsync']:.2f} s")  # fmt: skip
    print(f"re-sync after changing {CHANGED} of {FILES} files (median of {args.rounds}):")
    print(f"  jupyter remote-dev sync (new process)   {resync['cli'] * ms:7.0f} ms")
    print(f"  same sync from a warm process (library) {resync['warm'] * ms:7.0f} ms")
    print(f"  rsync -a over loopback ssh              {resync['rsync'] * ms:7.0f} ms")
    print(f"  ratio CLI / rsync {resync['cli'] / resync['rsync']:.2f}, "
          f"warm / rsync {resync['warm'] / resync['rsync']:.2f}")  # fmt: skip
    print(f"watch (debounce 50 ms), save -> server has it, {watch['n']} saves: "
          f"p50 {watch['p50'] * ms:.0f} ms, p95 {watch['p95'] * ms:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()

"""Client benchmarks (issues 4 and 23), side by side in one run on this machine:

1. first sync of an N-file tree (default 2,000): ``jupyter remote-dev sync`` against ``rsync -a``
   over loopback ssh, several rounds, each a true first sync for both (``sync_pair.py``);
2. re-sync after changing 20 files: the CLI as a user runs it (a new process each time) against
   rsync (a new ssh connection each time, as rsync makes), and the same sync from a warm process;
3. ``sync --watch``: time from a file being written to the server holding the new content,
   p50 and p95, debounce included.

Every timed command starts after ``os.sync()``, and the CLI and rsync take turns going first.

    [BENCH_DIR=/var/tmp] python benchmarks/bench_client.py [--files 2000] [--first-rounds 5]
        [--rounds 7] [--saves 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import bench_dir, load_average, loopback_sshd, make_tree, touch_changes
from benchmarks.sync_pair import CLI, SyncPair, cli_server, each_round, medians
from jupyter_remote_dev.client import profiles
from jupyter_remote_dev.client.api import RemoteDevClient
from jupyter_remote_dev.client.sync.state import SyncState
from jupyter_remote_dev.client.sync.transfer import Transfer

CHANGED = 20


def bench_sync(files: int, first_rounds: int, rounds: int) -> dict:
    """Every round of the first syncs and fresh re-syncs, and the warm re-syncs' median."""
    with tempfile.TemporaryDirectory(prefix="bench-client-", dir=bench_dir()) as tmp:
        tmp = Path(tmp)
        local = tmp / "local"
        paths = make_tree(local, files)
        with cli_server(tmp) as (server, env), loopback_sshd() as ssh:
            pair = SyncPair(local, paths, "ours", server, ssh, tmp / "rsync", env)
            pair.durable_rsync = True
            (tmp / "rsync").mkdir()
            first = [pair.first(round_no) for round_no in range(first_rounds)]
            resync = [pair.resync(round_no) for round_no in range(rounds)]
            warm = []
            with RemoteDevClient(profiles.load("bench")) as client:
                state = SyncState.load(local)
                for round_no in range(rounds, 2 * rounds):
                    touch_changes(paths, round_no, CHANGED)
                    os.sync()
                    started = time.perf_counter()
                    moves = Transfer(client, state)
                    report = moves.run(moves.plan())
                    warm.append(time.perf_counter() - started)
                    assert len(report.done) == CHANGED and not report.failed, report.json()
    return {"first": first, "resync": resync, "warm": statistics.median(warm)}


def bench_watch(saves: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-watch-", dir=bench_dir()) as tmp:
        tmp = Path(tmp)
        local = tmp / "local"
        paths = make_tree(local, 2000)
        with cli_server(tmp) as (server, env):
            watch = subprocess.Popen(
                [CLI, "sync", str(local), "--yes", "--profile", "bench", "--remote", "w",
                 "--watch"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                while "watching" not in watch.stderr.readline():
                    assert watch.poll() is None, "the watcher exited"
                time.sleep(0.5)
                latencies = []
                for i in range(saves):
                    path = paths[i % len(paths)]
                    content = f"saved {i} {time.time()}\n".encode()
                    target = server.root_dir / "w" / path.relative_to(local)
                    started = time.perf_counter()
                    path.write_bytes(content)
                    while True:
                        try:
                            if target.read_bytes() == content:
                                break
                        except FileNotFoundError:
                            pass
                        if time.perf_counter() - started > 10:
                            raise TimeoutError(f"{path} never reached the server")
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
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--first-rounds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=7, help="re-sync rounds")
    parser.add_argument("--saves", type=int, default=40)
    args = parser.parse_args()
    print(f"load average at start: {load_average()}")
    sync = bench_sync(args.files, args.first_rounds, args.rounds)
    watch = bench_watch(args.saves)
    ms, mib = 1000, 1024 * 1024
    first, resync = medians(sync["first"]), medians(sync["resync"])
    print(f"first sync of {args.files} files (median of {args.first_rounds}, in turn):")
    print(f"  jupyter remote-dev sync                 {first['cli'].seconds:7.2f} s")
    print(f"  rsync -a over loopback ssh              {first['rsync'].seconds:7.2f} s")
    print(f"  rsync -a --fsync (context: fsyncs too)  {first['rsync_fsync'].seconds:7.2f} s")
    print(f"  ratio CLI / rsync {first['cli'].seconds / first['rsync'].seconds:.2f}; CLI peak "
          f"RSS {first['cli'].peak_rss / mib:.0f} MiB, server RSS growth "
          f"{first['cli'].server_growth / mib:+.1f} MiB")  # fmt: skip
    print(f"  each round, CLI/rsync s: {each_round(sync['first'])}")
    print(f"re-sync after changing {CHANGED} of {args.files} files (median of {args.rounds}):")
    print(f"  jupyter remote-dev sync (new process)   {resync['cli'].seconds * ms:7.0f} ms")
    print(f"  same sync from a warm process (library) {sync['warm'] * ms:7.0f} ms")
    print(f"  rsync -a over loopback ssh              {resync['rsync'].seconds * ms:7.0f} ms")
    print(f"  ratio CLI / rsync {resync['cli'].seconds / resync['rsync'].seconds:.2f}, "
          f"warm / rsync {sync['warm'] / resync['rsync'].seconds:.2f}")  # fmt: skip
    print(f"  each round, CLI/rsync s: {each_round(sync['resync'])}")
    print(f"watch (debounce 50 ms), save -> server has it, {watch['n']} saves: "
          f"p50 {watch['p50'] * ms:.0f} ms, p95 {watch['p95'] * ms:.0f} ms")  # fmt: skip
    print(f"load average at end: {load_average()}")


if __name__ == "__main__":
    main()

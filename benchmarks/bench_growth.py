"""Cost growth of the first sync and the re-sync with the tree's size (issue 23), side by side.

For each size (default 1,000, 10,000 and 50,000 files, the tree of ``common.make_tree``):
``jupyter remote-dev sync``'s first sync and its re-sync after 20 files changed (a new process each
time) against ``rsync -a`` over a loopback sshd, taking turns and after ``os.sync()``
(``sync_pair.py``). Printed per size: medians, the ratio to rsync, seconds per 1,000 files overall
and between one size and the next (equal when the cost grows linearly), the peak RSS of the CLI
and of rsync's local process, and how far the Jupyter server's peak RSS rose during the CLI's sync.

    [BENCH_DIR=/var/tmp] python benchmarks/bench_growth.py [--sizes 1000,10000,50000]
        [--first-rounds 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import bench_dir, load_average, loopback_sshd, make_tree, rss_bytes
from benchmarks.sync_pair import Sample, SyncPair, cli_server, each_round, medians

MiB = 1024 * 1024


def bench_size(count: int, work: Path, server, env, ssh, first_rounds: int, rounds: int) -> dict:
    """First syncs and re-syncs of a new ``count``-file tree; removes its files afterwards."""
    folder = work / f"n{count}"
    paths = make_tree(folder / "local", count)
    (folder / "rsync").mkdir()
    pair = SyncPair(folder / "local", paths, f"n{count}", server, ssh, folder / "rsync", env)
    first = [pair.first(round_no) for round_no in range(first_rounds)]
    resync = [pair.resync(round_no) for round_no in range(rounds)]
    shutil.rmtree(folder)
    shutil.rmtree(server.root_dir / f"n{count}")
    return {"first": first, "resync": resync, "server_rss": rss_bytes(server.pid)[0]}


def table(title: str, unit: float, runs: dict[int, list[dict[str, Sample]]]) -> None:
    """One markdown table: a row per size, times in seconds (``unit`` 1) or ms (1000)."""
    shown, places = ("s", 2) if unit == 1 else ("ms", 0)
    print(f"\n### {title}\n")
    print(f"| files | CLI {shown} | rsync {shown} | CLI / rsync | CLI {shown} per 1,000 (from the "
          f"previous size) | rsync {shown} per 1,000 (from the previous size) | CLI peak RSS | "
          f"rsync peak RSS | server peak RSS growth |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    previous: dict[str, tuple[float, int]] = {}
    for count, rounds in runs.items():
        row = medians(rounds)
        cli, rsync = row["cli"].seconds * unit, row["rsync"].seconds * unit
        per = {}
        for name, seconds in (("cli", cli), ("rsync", rsync)):
            per[name] = f"{seconds / count * 1000:.{places + 1}f}"
            if name in previous:
                before, before_count = previous[name]
                marginal = (seconds - before) / (count - before_count) * 1000
                per[name] += f" ({marginal:.{places + 1}f})"
            previous[name] = (seconds, count)
        print(f"| {count:,} | {cli:.{places}f} | {rsync:.{places}f} | {cli / rsync:.2f} | "
              f"{per['cli']} | {per['rsync']} | {row['cli'].peak_rss / MiB:.0f} MiB | "
              f"{row['rsync'].peak_rss / MiB:.0f} MiB | "
              f"{row['cli'].server_growth / MiB:+.1f} MiB |")  # fmt: skip
    for count, rounds in runs.items():
        print(f"\n{count:,} files, each round, CLI/rsync s: {each_round(rounds)}", end="")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="comma-separated file counts")
    parser.add_argument("--first-rounds", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="re-sync rounds")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    print(f"load average at start: {load_average()}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-growth-", dir=bench_dir()) as tmp:
        tmp = Path(tmp)
        with cli_server(tmp) as (server, env), loopback_sshd() as ssh:
            for count in sizes:
                results[count] = bench_size(
                    count, tmp, server, env, ssh, args.first_rounds, args.rounds
                )
                print(f"{count:,} files done, load average {load_average()}", flush=True)
    table(f"First sync (median of {args.first_rounds}, in turn)", 1,
          {count: result["first"] for count, result in results.items()})  # fmt: skip
    table(f"Fresh re-sync after changing 20 files (median of {args.rounds}, in turn)", 1000,
          {count: result["resync"] for count, result in results.items()})  # fmt: skip
    server_rss = ", ".join(
        f"{count:,}: {r['server_rss'] / MiB:.0f}" for count, r in results.items()
    )
    print(f"\nserver RSS after each size (MiB): {server_rss}")
    print(f"load average at end: {load_average()}")


if __name__ == "__main__":
    main()

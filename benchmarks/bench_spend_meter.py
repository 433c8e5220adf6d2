"""The local spend meter's cost: one sample of real process trees, and the server's queries.

    python benchmarks/bench_spend_meter.py [--users 10] [--processes 8]

- sample: ``Meter.sample`` over ``--users`` servers, each a real tree of ``--processes`` processes,
  against the 15 s default interval (the meter's share of one core),
- queries: the allocation requests a user server makes (today, 7d, 30d as daily sets, filtered to
  one user), over 30 days of per-minute history for every user, side by side with the same
  request for an empty history (the fixed cost of a request: parsing, auth, JSON).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil

from jupyter_remote_dev.services.spend_meter.allocation import Ledger
from jupyter_remote_dev.services.spend_meter.meter import Meter, Server
from jupyter_remote_dev.services.spend_meter.pricing import Rates
from jupyter_remote_dev.services.spend_meter.store import Usage, UsageStore

SLEEPER = "import subprocess, sys, time\n" \
    "kids = [subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])" \
    " for _ in range(int(sys.argv[1]))]\ntime.sleep(600)\n"  # fmt: skip


def median_ms(action, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--processes", type=int, default=8)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    trees = [
        subprocess.Popen([sys.executable, "-c", SLEEPER, str(args.processes - 1)])
        for _ in range(args.users)
    ]
    try:
        time.sleep(2)  # the children start
        store = UsageStore(folder / "spend.sqlite")
        meter = Meter(store)
        servers = [Server(f"user{i}", "", t.pid, None, {"owner": f"user{i}"}) for i, t in
                   enumerate(trees)]  # fmt: skip
        meter.sample(servers, time.time())
        sample = median_ms(lambda: meter.sample(servers, time.time()), 20)
        print(f"sample of {args.users} trees x {args.processes} processes: {sample:.1f} ms "
              f"= {sample / 15000:.4%} of one core at the 15 s interval")  # fmt: skip

        empty = Ledger(UsageStore(folder / "empty.sqlite"), Rates())
        now = time.time()
        for i in range(args.users):
            meta = {"labels": {"owner": f"user{i}"}, "annotations": {}}
            store.record([Usage(f"user{i}", "", meta, (t, t + 60), 0.5, 2e8)
                          for t in range(int(now - 30 * 86400), int(now), 60)])  # fmt: skip
        full = Ledger(store, Rates())
        print("| window | p50 30-day history (ms) | p50 empty (ms) | ratio |")
        print("|---|---|---|---|")
        for window in ("today", "7d", "30d"):
            params = {"window": window, "aggregate": "label:owner", "accumulate": "false",
                      "step": "1d", "filter": 'label[owner]:"user0"'}  # fmt: skip

            def ask(ledger, params=params):
                query = ledger.parse(params, datetime.now(timezone.utc))
                return ledger.sets(query, "user0")

            loaded = median_ms(lambda: ask(full), 20)
            floor = median_ms(lambda: ask(empty), 20)
            print(f"| {window} | {loaded:.1f} | {floor:.2f} | {loaded / floor:.0f}x |")
    finally:
        for tree in trees:
            for child in psutil.Process(tree.pid).children():
                child.kill()
            tree.kill()
            tree.wait()


if __name__ == "__main__":
    main()

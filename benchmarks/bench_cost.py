"""Cost endpoint benchmarks (issue 7), side by side in one run on this machine:

1. ``GET remote-dev/api/cost`` served from the TTL cache, p50/p95, interleaved with ``GET info``
   (the cheapest authenticated handler: the floor any endpoint pays) and with a direct call to the
   OpenCost stand-in (what an uncached request would pay on top, on loopback);
2. 100 concurrent cold requests for a window nobody asked for yet: how many upstream calls reach
   the stand-in (target: exactly one) and how long the burst takes.

    python benchmarks/bench_cost.py [--requests 400] [--bursts 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import jupyter_server
from tests.support.cost_standin import CostStandIn


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def timed_gets(client: httpx.Client, urls: dict[str, str], rounds: int) -> dict[str, list[float]]:
    """Latency in ms of each URL, interleaved round by round so load affects all alike."""
    samples: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(rounds):
        for name, url in urls.items():
            started = time.perf_counter()
            response = client.get(url)
            samples[name].append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return samples


async def burst(url: str, headers: dict[str, str], count: int) -> tuple[float, set[int]]:
    """``count`` concurrent GETs; (seconds taken, set of statuses)."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60) as client:
        started = time.perf_counter()
        responses = await asyncio.gather(*(client.get(url) for _ in range(count)))
        return time.perf_counter() - started, {r.status_code for r in responses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="timed GETs per endpoint")
    parser.add_argument("--bursts", type=int, default=3, help="cold bursts of 100 (max 5)")
    args = parser.parse_args()
    standin = CostStandIn(dialect="opencost").start()
    try:
        with (
            tempfile.TemporaryDirectory() as root,
            jupyter_server(
                root,
                "--RemoteDevExtension.cost_backend=opencost",
                f"--RemoteDevExtension.cost_url={standin.base_url}",
                "--RemoteDevExtension.cost_label=hub.jupyter.org/username",
                "--RemoteDevExtension.cost_user=alice",
                "--RemoteDevExtension.cost_cache_ttl=3600",
            ) as server,
        ):
            direct = f"{standin.base_url}/allocation?window=7d&aggregate=label:owner&step=1d"
            urls = {
                "GET cost (cached)": f"{server.api}cost?window=7d",
                "GET info (floor)": f"{server.api}info",
                "stand-in direct": direct,
            }
            with httpx.Client(headers=server.headers, timeout=30) as client:
                client.get(urls["GET cost (cached)"]).raise_for_status()  # warm the cache
                timed_gets(client, urls, 30)  # warm connections and code paths
                samples = timed_gets(client, urls, args.requests)
            floor = statistics.median(samples["GET info (floor)"])
            print(f"## /cost latency, {args.requests} requests each, interleaved (ms)")
            print("| request | p50 | p95 | p50 / info |")
            print("|---|---|---|---|")
            for name, values in samples.items():
                p50 = statistics.median(values)
                print(
                    f"| {name} | {p50:.2f} | {percentile(values, 0.95):.2f} | {p50 / floor:.2f} |"
                )

            print("\n## 100 concurrent cold requests (stand-in answers after 0.2 s)")
            print("| window | upstream calls | statuses | burst wall time (s) |")
            print("|---|---|---|---|")
            standin.delay = 0.2
            for window in ("30d", "month", "lastweek", "week", "today")[: args.bursts]:
                before = standin.calls
                seconds, statuses = asyncio.run(
                    burst(f"{server.api}cost?window={window}", server.headers, 100)
                )
                calls = standin.calls - before
                print(f"| {window} | {calls} | {sorted(statuses)} | {seconds:.2f} |")
    finally:
        standin.stop()


if __name__ == "__main__":
    main()

"""Start-up of README's main job: launch to hub answering, to its banner, to a ready user server,
and to a reachable Ray head; with the Ray head on and off, side by side.

    python benchmarks/bench_local_hub.py [--rounds 2]

Each round runs ``jupyterhub -f hub_config/local_config.py``
(tests/support/local_hub_support.py: state in a temporary folder, free ports), starts alice's
server through the hub API and, with Ray on, waits until the server's ``GET ray`` says reachable;
then stops the hub.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.local_hub_support import local_hub


def one_round(ray: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as folder:
        with local_hub(Path(folder), ray=ray, timeout=180) as hub:
            timings = {"hub answers": hub.answered, "banner printed": hub.timings["banner"]}
            hub.admin.post("users/alice").raise_for_status()
            hub.start_server("alice")
            timings["server ready"] = time.monotonic() - hub.launched
            if ray:
                token = hub.user_token("alice")
                url = f"{hub.url}user/alice/remote-dev/api/ray"
                headers = {"Authorization": f"token {token}"}
                deadline = time.monotonic() + 600
                while httpx.get(url, headers=headers, timeout=30).json()["state"] != "reachable":
                    if time.monotonic() > deadline:
                        raise SystemExit("Ray did not become reachable within 600 s")
                    time.sleep(0.5)
                timings["Ray reachable"] = time.monotonic() - hub.launched
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"Ray on": [], "Ray off": []}
    for _ in range(args.rounds):
        for label, ray in (("Ray off", False), ("Ray on", True)):
            results[label].append(one_round(ray))
    load = os.getloadavg()[0]
    print(f"rounds: {args.rounds}, load average (1 min) at the end: {load:.1f}")
    print("| seconds after launch (median) | Ray off | Ray on | on / off |")
    print("|---|---|---|---|")
    for step in ("hub answers", "banner printed", "server ready", "Ray reachable"):
        off = [r[step] for r in results["Ray off"] if step in r]
        on = [r[step] for r in results["Ray on"] if step in r]
        off_m = statistics.median(off) if off else None
        on_m = statistics.median(on) if on else None
        ratio = f"{on_m / off_m:.2f}" if on_m and off_m else "-"
        print(
            f"| {step} | {f'{off_m:.1f}' if off_m else '-'} | {f'{on_m:.1f}' if on_m else '-'} "
            f"| {ratio} |"
        )


if __name__ == "__main__":
    main()

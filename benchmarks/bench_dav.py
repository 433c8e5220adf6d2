"""The drive (WebDAV, issue 22) side by side with our own file API, in one run.

1. 100 MiB PUT and GET through ``remote-dev/dav/`` vs ``PUT/GET remote-dev/api/files/``
   (target: at least 0.8x the file API's speed);
2. PROPFIND depth 1 of a 10,000-file folder vs ``GET tree/`` of the same folder, warm hash cache
   (target: within 2x); both the allprop PROPFIND and the named properties rclone asks for;
3. 500 small files: ``rclone sync`` to the drive vs the CLI's first ``jupyter remote-dev sync``.

Run: ``python benchmarks/bench_dav.py [--rounds 3]``; medians, with the load average printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import jupyter_server, rss_bytes
from jupyter_remote_dev.client import profiles

MiB = 1024 * 1024
CLI = [shutil.which("jupyter-remote-dev") or "jupyter-remote-dev"]
RCLONE_PROPS = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:displayname/>'
    "<d:getlastmodified/><d:getcontentlength/><d:resourcetype/><d:getcontenttype/>"
    "</d:prop></d:propfind>"
)


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def median_of(rounds: int, function) -> float:
    return statistics.median(timed(function) for _ in range(rounds))


def bench_bodies(server, client: httpx.Client, rounds: int) -> dict:
    body = os.urandom(100 * MiB)
    dav, api = f"{server.url}remote-dev/dav/", server.api

    def put(url):
        answer = client.put(url, content=body)
        assert answer.status_code in (200, 201, 204), answer.text

    def get(url):
        with client.stream("GET", url) as answer:
            assert answer.status_code == 200
            assert sum(len(c) for c in answer.iter_bytes(MiB)) == len(body)

    urls = {"files": f"{api}files/big.bin", "dav": f"{dav}big-dav.bin"}
    times: dict[str, list[float]] = {}
    for _ in range(rounds):  # interleaved, so a busy moment of the machine hits both
        for verb, action in (("put", put), ("get", get)):
            for name, url in urls.items():
                run = lambda a=action, u=url: a(u)  # noqa: E731
                times.setdefault(f"{name} {verb}", []).append(timed(run))
    results: dict = {key: statistics.median(values) for key, values in times.items()}
    results["rss"] = rss_bytes(server.pid)
    return results


def bench_listing(server, client: httpx.Client, rounds: int) -> dict:
    folder = server.root_dir / "many"
    folder.mkdir()
    for i in range(10_000):
        (folder / f"f{i:05d}.txt").write_text(f"{i}\n")
    dav = f"{server.url}remote-dev/dav/many/"

    def propfind(body=None):
        answer = client.request("PROPFIND", dav, headers={"Depth": "1"}, content=body)
        assert answer.status_code == 207 and answer.text.count("<ns0:response>") == 10_001

    def tree():
        answer = client.get(f"{server.api}tree/many")
        assert answer.status_code == 200 and len(answer.json()["files"]) == 10_000

    tree(), propfind()  # warm the hash cache for both
    return {
        "tree": median_of(rounds, tree),
        "propfind allprop": median_of(rounds, propfind),
        "propfind rclone props": median_of(rounds, lambda: propfind(RCLONE_PROPS.encode())),
    }


def make_tree(root: Path) -> None:
    for i in range(500):
        path = root / f"pkg{i % 20:02d}" / f"module_{i:03d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(1024).hex().encode())


def bench_small_files(server, tmp: Path) -> dict:
    local, copy = tmp / "project", tmp / "project-for-rclone"
    make_tree(local)
    shutil.copytree(local, copy)  # the CLI keeps its sync state in the folder it syncs
    obscured = subprocess.run(
        ["rclone", "obscure", server.token], capture_output=True, text=True, check=True
    ).stdout.strip()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp / "cfg"),
        "RCLONE_CONFIG": str(tmp / "rclone.conf"),
        "RCLONE_CONFIG_DRIVE_TYPE": "webdav",
        "RCLONE_CONFIG_DRIVE_URL": f"{server.url}remote-dev/dav/",
        "RCLONE_CONFIG_DRIVE_VENDOR": "other",
        "RCLONE_CONFIG_DRIVE_USER": "bench",
        "RCLONE_CONFIG_DRIVE_PASS": obscured,
    }
    os.environ["JUPYTER_CONFIG_DIR"] = str(tmp / "cfg")
    profiles.save(profiles.Profile("bench", server.url, server.token))
    sync = [*CLI, "sync", str(local), "--yes", "--profile", "bench", "--remote", "cli-tree"]
    rclone = ["rclone", "sync", str(copy), "drive:rclone-tree"]

    def run(argv):
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    return {"cli first sync": timed(lambda: run(sync)), "rclone sync": timed(lambda: run(rclone))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dav-") as tmp:
        tmp = Path(tmp)
        (tmp / "root").mkdir()
        with jupyter_server(tmp / "root") as server:
            with httpx.Client(headers=server.headers, timeout=600) as client:
                bodies = bench_bodies(server, client, args.rounds)
                listing = bench_listing(server, client, args.rounds)
            small = bench_small_files(server, tmp)
    rate = lambda seconds: 100 / seconds  # noqa: E731  (MiB/s of a 100 MiB body)
    print(f"load average {os.getloadavg()[0]:.1f}, medians of {args.rounds} rounds")
    print("| 100 MiB | file API | WebDAV | WebDAV / file API (speed) |")
    print("|---|---|---|---|")
    for verb in ("put", "get"):
        ours, dav = bodies[f"files {verb}"], bodies[f"dav {verb}"]
        print(f"| {verb.upper()} | {rate(ours):.0f} MiB/s | {rate(dav):.0f} MiB/s | "
              f"{ours / dav:.2f}x |")  # fmt: skip
    current, peak = bodies["rss"]
    print(f"server RSS after: {current / MiB:.0f} MiB (peak {peak / MiB:.0f} MiB)")
    print("| 10,000-file folder | seconds | / GET tree |")
    print("|---|---|---|")
    for name, seconds in listing.items():
        print(f"| {name} | {seconds:.3f} | {seconds / listing['tree']:.2f}x |")
    print("| 500 small files, first upload | seconds |")
    print("|---|---|")
    for name, seconds in small.items():
        print(f"| {name} | {seconds:.2f} |")


if __name__ == "__main__":
    main()

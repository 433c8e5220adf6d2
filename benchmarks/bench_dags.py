"""Branch publish and sync vs uploading everything, on a 500-file DAG folder, side by side.

Run: ``python benchmarks/bench_dags.py [--rounds 5] [--files 500]``. moto's S3 server on 127.0.0.1
plays the bucket. Each round starts a fresh bucket and times, on the same client:

- upload-all: every file PUT again, what an mtime-based sync does after a fresh CI clone;
- publish of a fresh clone with no change, and with 10 files edited (ours, by content hash);
- sync into an empty folder, a repeat sync with nothing changed, and a sync after 10 edits.

Prints medians, S3 request counts and ratios as a Markdown table.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

from jupyter_remote_dev.airflow.publish import publish, scan_tree
from jupyter_remote_dev.airflow.slug import branch_slug
from jupyter_remote_dev.airflow.store import BranchStore
from jupyter_remote_dev.airflow.sync import sync_once

CHANGED = 10


def write_tree(root: Path, files: int, version: int = 0) -> None:
    for i in range(files):
        path = root / f"pkg{i % 20}" / f"dag_{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        tasks = "".join(
            f'    BashOperator(task_id="t{t}", bash_command="echo {t} >> /tmp/out")\n'
            for t in range(50)
        )
        header = "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.bash"
        path.write_text(
            f"# v{version if i < CHANGED else 0}\n{header} import BashOperator\n\n"
            f'with DAG("dag_{i}", schedule=None):\n{tasks}'
        )  # a DAG file of ~3.4 KB


def counting(store: BranchStore) -> Counter:
    calls: Counter = Counter()
    store.client.meta.events.register(
        "before-call.s3", lambda model, **_: calls.update([model.name])
    )
    return calls


def timed(calls: Counter, fn) -> tuple[float, int]:
    calls.clear()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start, sum(calls.values())


def upload_all(store: BranchStore, src: Path) -> None:
    files = scan_tree(src)
    slug = branch_slug("naive")
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda rel: store.upload_file(slug, rel, str(src / rel), files[rel]["sha256"]),
                files,
            )
        )


def one_round(endpoint: str, files: int, work: Path) -> dict[str, tuple[float, int]]:
    bucket = f"bench-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    store = BranchStore(bucket=bucket, endpoint_url=endpoint)
    calls = counting(store)
    clone, edited, dest = work / "clone", work / "edited", work / "dest"
    for path in (clone, edited, dest):
        path.mkdir()
    write_tree(work / "first", files)
    write_tree(clone, files)  # same content, new mtimes: a fresh CI clone
    write_tree(edited, files, version=1)
    results = {}
    results["upload-all (mtime sync after a clone)"] = timed(
        calls, lambda: upload_all(store, clone)
    )
    results["publish, first time"] = timed(calls, lambda: publish(store, "b", work / "first"))
    results["publish, fresh clone, no change"] = timed(calls, lambda: publish(store, "b", clone))
    results["sync, empty folder"] = timed(calls, lambda: sync_once(store, dest))
    results["sync, nothing changed"] = timed(calls, lambda: sync_once(store, dest))
    results[f"publish, {CHANGED} files edited"] = timed(calls, lambda: publish(store, "b", edited))
    results[f"sync, {CHANGED} files edited"] = timed(calls, lambda: sync_once(store, dest))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--files", type=int, default=500)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        endpoint = "http://{}:{}".format(*server.get_host_and_port())
        rounds = []
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                rounds.append(one_round(endpoint, args.files, Path(tmp)))
    finally:
        server.stop()
    baseline = statistics.median(r["upload-all (mtime sync after a clone)"][0] for r in rounds)
    print(
        f"{args.files} DAG files of ~3.4 KB, moto S3 on loopback, median of {args.rounds} rounds\n"
    )
    print("| step | median (s) | S3 requests | time / upload-all |")
    print("|---|---|---|---|")
    for name in rounds[0]:
        median = statistics.median(r[name][0] for r in rounds)
        requests = rounds[-1][name][1]
        print(f"| {name} | {median:.3f} | {requests} | {median / baseline:.2f} |")


if __name__ == "__main__":
    main()

"""POST exec against jupyter_server's terminal websocket and `ssh localhost`, side by side.

    python benchmarks/bench_exec.py [--runs 20] [--size-mib 100]

1. Time to first output byte of `echo hi`, each way from nothing open (as a new CLI run would):
   - exec: a new HTTP connection, POST exec, until the stdout event carrying "hi";
   - terminal: POST api/terminals, open its websocket, type `echo hi`, until "hi" comes back
     (the terminal is deleted afterwards, untimed);
   - ssh: `ssh host echo hi` until the first byte on its stdout (key auth, new connection).
2. Throughput of `cat` of a 100 MiB file: exec (client parses every event and rebuilds the bytes)
   against `ssh host cat file`, for a text file and for random bytes (base64 on our side), with the
   server's peak RSS growth.
Targets (issue 3): first byte at most 0.5x ssh; throughput at least 0.8x ssh.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

sys.path.insert(0, str(Path(__file__).parent))
from common import jupyter_server, loopback_sshd, reset_peak_rss, rss_bytes


def exec_events(client: httpx.Client, body: dict):
    """POST exec and yield its events as they arrive (bytes split on newlines, no line API)."""
    with client.stream("POST", "remote-dev/api/exec", json=body) as response:
        response.raise_for_status()
        pending = bytearray()
        for chunk in response.iter_raw(1024 * 1024):
            pending += chunk
            start = 0
            while (end := pending.find(b"\n", start)) >= 0:
                yield json.loads(pending[start:end])
                start = end + 1
            del pending[:start]


def event_bytes(event: dict) -> bytes:
    data = event.get("data")
    return data.encode() if data is not None else base64.b64decode(event["data_b64"])


def exec_first_byte(server) -> float:
    started = time.perf_counter()
    with httpx.Client(base_url=server.url, headers=server.headers) as client:
        for event in exec_events(client, {"argv": ["echo", "hi"]}):
            if event["type"] == "stdout":
                assert event_bytes(event) == b"hi\n", event
                elapsed = time.perf_counter() - started
            if event["type"] == "exit":
                assert event["code"] == 0
    return elapsed


async def terminal_first_byte(server) -> float:
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        name = (await client.post("api/terminals")).raise_for_status().json()["name"]
        ws_url = server.url.replace("http", "ws", 1) + f"terminals/websocket/{name}"
        socket = await websocket_connect(HTTPRequest(ws_url, headers=server.headers))
        await socket.write_message(json.dumps(["stdin", "echo hi\r"]))
        seen = ""
        while seen.count("hi\r\n") <= seen.count("echo hi\r\n"):  # the tty echoes the line
            message = json.loads(await asyncio.wait_for(socket.read_message(), 30))
            if message[0] == "stdout":
                seen += message[1]
        elapsed = time.perf_counter() - started
        socket.close()
        await client.delete(f"api/terminals/{name}")
    return elapsed


def ssh_first_byte(ssh) -> float:
    started = time.perf_counter()
    process = subprocess.Popen([*ssh.ssh, "echo hi"], stdout=subprocess.PIPE)
    first = process.stdout.read(1)
    elapsed = time.perf_counter() - started
    assert first == b"h"
    process.stdout.read()
    process.wait()
    return elapsed


def exec_cat(server, path: Path) -> tuple[float, int]:
    received = 0
    reset_peak_rss(server.pid)
    before = rss_bytes(server.pid)[0]
    started = time.perf_counter()
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=300) as client:
        for event in exec_events(client, {"argv": ["cat", str(path)]}):
            if event["type"] in ("stdout", "stderr"):
                received += len(event_bytes(event))
            elif event["type"] == "exit":
                assert event["code"] == 0
    elapsed = time.perf_counter() - started
    assert received == path.stat().st_size
    return elapsed, rss_bytes(server.pid)[1] - before


def ssh_cat(ssh, path: Path) -> float:
    received = 0
    started = time.perf_counter()
    process = subprocess.Popen([*ssh.ssh, f"cat {path}"], stdout=subprocess.PIPE)
    while chunk := process.stdout.read1(1024 * 1024):
        received += len(chunk)
    process.wait()
    elapsed = time.perf_counter() - started
    assert received == path.stat().st_size
    return elapsed


def make_files(folder: Path, size: int) -> dict[str, Path]:
    rng = random.Random(1)
    text, binary = folder / "text.log", folder / "random.bin"
    line = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 ") for _ in range(99)) + "\n"
    with text.open("w") as out:
        for _ in range(size // len(line) + 1):
            out.write(line)
    with text.open("r+b") as out:
        out.truncate(size)
    binary.write_bytes(os.urandom(size))
    return {"text": text, "random bytes": binary}


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="first-byte samples per way")
    parser.add_argument("--size-mib", type=int, default=100, help="size of the cat files")
    parser.add_argument("--cat-runs", type=int, default=3, help="cat runs per way and file")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bench-exec-") as tmp,
        jupyter_server(tmp) as server,
        loopback_sshd() as ssh,
    ):
        files = make_files(Path(tmp), args.size_mib * 1024**2)
        ways = {
            "exec": lambda: exec_first_byte(server),
            "terminal websocket": lambda: asyncio.run(terminal_first_byte(server)),
            "ssh": lambda: ssh_first_byte(ssh),
        }
        for way in ways.values():  # warm up each path once
            way()
        samples: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(args.runs):  # interleaved, so load changes hit every way alike
            for name, way in ways.items():
                samples[name].append(way())
        ssh_median = statistics.median(samples["ssh"])
        print(f"\n`echo hi`, time to first output byte, median of {args.runs} (interleaved):\n")
        print("| way | p50 (ms) | min (ms) | / ssh |\n|---|---|---|---|")
        for name, values in samples.items():
            ratio = statistics.median(values) / ssh_median
            print(f"| {name} | {median_ms(values)} | {min(values) * 1000:.1f} | {ratio:.2f} |")

        print(f"\n`cat` of a {args.size_mib} MiB file, median of {args.cat_runs}:\n")
        print("| file | exec (MB/s) | ssh (MB/s) | exec / ssh | server peak RSS growth (MiB) |")
        print("|---|---|---|---|---|")
        for label, path in files.items():
            ours, theirs, growth = [], [], []
            for _ in range(args.cat_runs):
                elapsed, rss = exec_cat(server, path)
                ours.append(elapsed)
                growth.append(rss)
                theirs.append(ssh_cat(ssh, path))
            size_mb = path.stat().st_size / 1e6
            mine, other = size_mb / statistics.median(ours), size_mb / statistics.median(theirs)
            print(
                f"| {label} | {mine:.0f} | {other:.0f} | {mine / other:.2f} |"
                f" {max(growth) / 2**20:.1f} |"
            )


if __name__ == "__main__":
    main()

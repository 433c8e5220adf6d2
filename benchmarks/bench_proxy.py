"""What the hub's proxy costs: the same file work straight to a user's server and through the
embedded default's hub proxy (configurable-http-proxy), side by side in one run (issue 23).

    python benchmarks/bench_proxy.py [--saves 100] [--rounds 3] [--size-mib 100] [--files 2000]

README's main job runs as in the end-to-end tests (tests/support/local_hub_support.py: free
ports, state in a temporary folder, Ray off); alice's server is started through the hub API and
reached either at its own loopback port (found from its listening socket) or at
``<hub>/user/alice/`` through the proxy, with the same hub-issued token. Cases, interleaved:
4 KiB save p50 (PUT files/ on a keep-alive connection), a 100 MiB PUT and GET (streamed),
and a first sync of 2,000 files of 0.5-8 KiB with ``jupyter remote-dev sync`` (a fresh process).
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

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_client import make_tree
from jupyter_remote_dev.client import profiles
from tests.support.local_hub_support import listening_sockets, local_hub, stack_processes

MiB = 1024 * 1024
CLI = [sys.executable, "-m", "jupyter_remote_dev.client.cli"]


def server_port(hub_pid: int) -> int:
    """The loopback port alice's single-user server listens on."""
    for proc in stack_processes(hub_pid):
        try:
            cmdline = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        if "singleuser" in cmdline or "jupyterhub-singleuser" in cmdline:
            ports = [port for _, port, _ in listening_sockets([proc])]
            if ports:
                return ports[0]
    raise RuntimeError("alice's server is not listening")


def timed(function, *args, **options) -> float:
    started = time.perf_counter()
    function(*args, **options)
    return time.perf_counter() - started


def put_file(client: httpx.Client, url: str, path: Path) -> None:
    def pieces():
        with open(path, "rb") as file:
            while chunk := file.read(MiB):
                yield chunk

    size = str(path.stat().st_size)
    client.put(url, content=pieces(), headers={"Content-Length": size}).raise_for_status()


def save(client: httpx.Client, url: str, body: bytes) -> None:
    client.put(url, content=body).raise_for_status()


def get_file(client: httpx.Client, url: str, dest: Path) -> None:
    with client.stream("GET", url) as answer, open(dest, "wb") as out:
        answer.raise_for_status()
        for chunk in answer.iter_raw(MiB):
            out.write(chunk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-proxy-", dir=os.environ.get("BENCH_DIR")) as tmp:
        tmp = Path(tmp)
        os.environ["JUPYTER_CONFIG_DIR"] = str(tmp / "cfg")
        env = {**os.environ}
        big = tmp / "big.bin"
        with open(big, "wb") as out:
            for _ in range(args.size_mib):
                out.write(os.urandom(MiB))
        with local_hub(tmp, ray=False, timeout=300) as hub:
            hub.admin.post("users/alice").raise_for_status()
            hub.start_server("alice")
            token = hub.user_token("alice")
            bases = {
                "direct": f"http://127.0.0.1:{server_port(hub.process.pid)}/user/alice/",
                "proxy": f"{hub.url}user/alice/",
            }
            for name, base in bases.items():
                profiles.save(profiles.Profile(name, base, token))
            headers = {"Authorization": f"token {token}"}
            clients = {
                k: httpx.Client(base_url=v, headers=headers, timeout=600) for k, v in bases.items()
            }
            saves = {k: [] for k in bases}
            up = {k: [] for k in bases}
            down = {k: [] for k in bases}
            sync = {k: [] for k in bases}
            body = os.urandom(2048).hex().encode()
            for client in clients.values():  # warm both connections
                client.put("remote-dev/api/files/warm.txt", content=body).raise_for_status()
            for _ in range(args.saves):
                for name, client in clients.items():
                    url = f"remote-dev/api/files/saves/{name}.txt"
                    saves[name].append(timed(save, client, url, body))
            for r in range(args.rounds):
                for name, client in clients.items():
                    url = f"remote-dev/api/files/big-{name}-{r}.bin"
                    up[name].append(timed(put_file, client, url, big))
                    down[name].append(timed(get_file, client, url, tmp / "down.bin"))
                    client.delete(url).raise_for_status()
                for name in bases:
                    tree = tmp / f"tree-{name}-{r}"
                    make_tree(tree)
                    argv = [
                        *CLI,
                        "sync",
                        str(tree),
                        "--yes",
                        "--profile",
                        name,
                        "--remote",
                        f"t-{name}-{r}",
                    ]
                    sync[name].append(
                        timed(subprocess.run, argv, env=env, check=True, stdout=subprocess.DEVNULL)
                    )
                print(f"round {r} done, load {os.getloadavg()[0]:.1f}", file=sys.stderr)
            for client in clients.values():
                client.close()
    load = os.getloadavg()
    mb = args.size_mib * MiB / 1e6
    med = statistics.median
    rows = [
        ("4 KiB save p50 (ms)", {k: med(v) * 1000 for k, v in saves.items()}, False),
        (f"{args.size_mib} MiB upload (MB/s)", {k: mb / med(v) for k, v in up.items()}, True),
        (f"{args.size_mib} MiB download (MB/s)", {k: mb / med(v) for k, v in down.items()}, True),
        ("2,000-file first sync (s)", {k: med(v) for k, v in sync.items()}, False),
    ]
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print("| case | straight to the server | through the hub proxy | proxy cost |")
    print("|---|---|---|---|")
    for label, values, rate in rows:
        cost = (
            values["direct"] / values["proxy"] - 1
            if rate
            else values["proxy"] / values["direct"] - 1
        )
        print(f"| {label} | {values['direct']:.1f} | {values['proxy']:.1f} | {cost:+.0%} |")


if __name__ == "__main__":
    main()

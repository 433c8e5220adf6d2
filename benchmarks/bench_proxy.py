"""What the hub's proxy costs: the same file work straight to a user's server, through a plain
TCP relay and through the embedded default's hub proxy (configurable-http-proxy), side by side in
one run (issue 23).

    python benchmarks/bench_proxy.py [--saves 100] [--rounds 3] [--size-mib 100]

README's main job runs as in the end-to-end tests (tests/support/local_hub_support.py: free
ports, state in a temporary folder, Ray off); alice's server is started through the hub API and
reached at its own loopback port, through ``benchmarks/tcp_relay.py`` in front of that port (what
any userspace hop costs), or at ``<hub>/user/alice/`` through the proxy, with the same hub-issued
token. Cases, interleaved: 4 KiB save p50 (PUT files/ on a keep-alive connection); a 100 MiB PUT
with the CLI's body (64 KiB pieces and Content-Length), with 1 MiB pieces, and chunked; a
100 MiB GET read in the CLI's 64 KiB pieces; a first sync of 2,000 files of 0.5-8 KiB with
``jupyter remote-dev sync`` (a fresh process). A second table gives the CPU time of the hop's
process (the relay, the proxy) per case, the mean of its /proc counters (10 ms ticks).

``--proxy-cpus 0.5`` holds the proxy to half a core for the run, as a Kubernetes CPU limit on the
proxy pod would (a CFS quota; needs root and cgroup v1's cpu controller).
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
from jupyter_remote_dev.client.sync.mover import PIECE
from jupyter_remote_dev.embedded.ports import free_port
from tests.support.local_hub_support import listening_sockets, local_hub, stack_processes

MiB = 1024 * 1024
CLI = [sys.executable, "-m", "jupyter_remote_dev.client.cli"]
RELAY = Path(__file__).resolve().parent / "tcp_relay.py"
CPU_CGROUPS = Path("/sys/fs/cgroup/cpu")
ROUTES = ("direct", "relay", "proxy")
UPLOADS = {
    "64 KiB pieces + Content-Length (the CLI's)": (PIECE, True),
    "1 MiB pieces + Content-Length": (MiB, True),
    "1 MiB pieces, chunked": (MiB, False),
}


def stack_process(hub_pid: int, word: str) -> psutil.Process:
    """The process of the hub's stack whose command line holds ``word``."""
    for proc in stack_processes(hub_pid):
        try:
            if word in " ".join(proc.cmdline()):
                return proc
        except psutil.Error:
            continue
    raise RuntimeError(f"no {word} process under the hub")


def cpu_seconds(proc: psutil.Process | None) -> float:
    if proc is None:
        return 0.0
    times = proc.cpu_times()
    return times.user + times.system


def measured(hop: psutil.Process | None, function, *args, **options) -> tuple[float, float]:
    """Wall seconds of ``function(*args, **options)``, and the CPU seconds ``hop`` spent."""
    before, started = cpu_seconds(hop), time.perf_counter()
    function(*args, **options)
    return time.perf_counter() - started, cpu_seconds(hop) - before


def limit_cpu(pid: int, cores: float) -> Path:
    """Move process ``pid`` into a new cgroup-v1 cpu group with a CFS quota of ``cores``."""
    group = CPU_CGROUPS / f"bench-proxy-{pid}"
    if not CPU_CGROUPS.is_dir():
        raise SystemExit(f"--proxy-cpus needs cgroup v1's cpu controller at {CPU_CGROUPS}")
    group.mkdir()
    (group / "cpu.cfs_period_us").write_text("100000")
    (group / "cpu.cfs_quota_us").write_text(str(round(cores * 100000)))
    (group / "cgroup.procs").write_text(str(pid))
    return group


def put_file(client: httpx.Client, url: str, path: Path, piece: int, length: bool) -> None:
    def pieces():
        with open(path, "rb") as file:
            while chunk := file.read(piece):
                yield chunk

    headers = {"Content-Length": str(path.stat().st_size)} if length else {}
    client.put(url, content=pieces(), headers=headers).raise_for_status()


def save(client: httpx.Client, url: str, body: bytes) -> None:
    client.put(url, content=body).raise_for_status()


def get_file(client: httpx.Client, url: str, dest: Path) -> None:
    with client.stream("GET", url) as answer, open(dest, "wb") as out:
        answer.raise_for_status()
        for chunk in answer.iter_bytes(PIECE):
            out.write(chunk)


def start_relay(upstream: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    relay = subprocess.Popen(
        [sys.executable, str(RELAY), str(port), str(upstream)], stdout=subprocess.PIPE, text=True
    )
    assert relay.stdout.readline().strip() == "ready"
    return relay, port


def print_tables(results: dict, size_mib: int) -> None:
    mb = size_mib * MiB / 1e6
    med = statistics.median
    rows = []  # label, {route: figure}, higher is better, {route: hop CPU}, CPU unit
    for label, samples in results.items():
        walls = {k: med(w for w, _ in v) for k, v in samples.items()}
        cpus = {k: statistics.fmean(c for _, c in v) for k, v in samples.items()}  # 10 ms ticks
        if label.startswith("4 KiB"):
            rows.append((label, {k: v * 1000 for k, v in walls.items()}, False, cpus, "ms/save"))
        elif label.startswith("2,000"):
            rows.append((label, walls, False, cpus, "s/sync"))
        else:
            rows.append((label, {k: mb / v for k, v in walls.items()}, True, cpus, "s"))
    columns = "straight to the server | through a TCP relay | through the hub proxy"
    print(f"| case | {columns} | relay cost | proxy cost |")
    print("|---|---|---|---|---|---|")
    for label, values, rate, _, _ in rows:
        costs = [
            values["direct"] / values[k] - 1 if rate else values[k] / values["direct"] - 1
            for k in ("relay", "proxy")
        ]
        figures = " | ".join(f"{values[k]:.1f}" for k in ROUTES)
        print(f"| {label} | {figures} | {costs[0]:+.0%} | {costs[1]:+.0%} |")
    print("\n| CPU time of the hop's process | TCP relay | hub proxy |")
    print("|---|---|---|")
    for label, _, _, cpus, unit in rows:
        scale = 1000 if unit == "ms/save" else 1
        relay, proxy = cpus["relay"] * scale, cpus["proxy"] * scale
        name = label.split(" (")[0].replace(" p50", "")
        print(f"| {name} | {relay:.2f} {unit} | {proxy:.2f} {unit} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=100)
    parser.add_argument("--proxy-cpus", type=float, help="a CPU limit on the proxy (cores)")
    args = parser.parse_args()
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
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
            server = stack_process(hub.process.pid, "singleuser")
            port = listening_sockets([server])[0][1]
            relay, relay_port = start_relay(port)
            proxy = stack_process(hub.process.pid, "configurable-http-proxy")
            group = limit_cpu(proxy.pid, args.proxy_cpus) if args.proxy_cpus else None
            try:
                hops = {"direct": None, "relay": psutil.Process(relay.pid), "proxy": proxy}
                bases = {
                    "direct": f"http://127.0.0.1:{port}/user/alice/",
                    "relay": f"http://127.0.0.1:{relay_port}/user/alice/",
                    "proxy": f"{hub.url}user/alice/",
                }
                results = run_cases(args, tmp, env, token, bases, hops, big)
            finally:
                relay.kill()
                relay.wait()
    if group is not None:
        group.rmdir()  # empty now: the proxy stopped with the hub
        print(f"the proxy was held to {args.proxy_cpus:g} CPU")
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print_tables(results, args.size_mib)


def run_cases(args, tmp: Path, env: dict, token: str, bases: dict, hops: dict, big: Path) -> dict:
    """Every case on every route, interleaved: {case: {route: [(wall s, hop CPU s), ...]}}."""
    for name, base in bases.items():
        profiles.save(profiles.Profile(name, base, token))
    headers = {"Authorization": f"token {token}"}
    clients = {k: httpx.Client(base_url=v, headers=headers, timeout=600) for k, v in bases.items()}
    results: dict[str, dict[str, list]] = {}

    def record(case: str, route: str, sample: tuple[float, float]) -> None:
        results.setdefault(case, {}).setdefault(route, []).append(sample)

    try:
        body = os.urandom(2048).hex().encode()
        for client in clients.values():  # warm every connection
            client.put("remote-dev/api/files/warm.txt", content=body).raise_for_status()
        for _ in range(args.saves):
            for name, client in clients.items():
                url = f"remote-dev/api/files/saves/{name}.txt"
                record("4 KiB save p50 (ms)", name, measured(hops[name], save, client, url, body))
        for r in range(args.rounds):
            for name, client in clients.items():
                url = f"remote-dev/api/files/big-{name}-{r}.bin"
                for label, (piece, length) in UPLOADS.items():
                    case = f"{args.size_mib} MiB upload, {label} (MB/s)"
                    sample = measured(hops[name], put_file, client, url, big, piece, length)
                    record(case, name, sample)
                case = f"{args.size_mib} MiB download, 64 KiB pieces (MB/s)"
                record(case, name, measured(hops[name], get_file, client, url, tmp / "down.bin"))
                client.delete(url).raise_for_status()
            for name in bases:
                tree = tmp / f"tree-{name}-{r}"
                make_tree(tree)
                argv = [*CLI, "sync", str(tree), "--yes", "--profile", name]
                argv += ["--remote", f"t-{name}-{r}"]
                sample = measured(
                    hops[name], subprocess.run, argv, env=env, check=True, stdout=subprocess.DEVNULL
                )
                record("2,000-file first sync (s)", name, sample)
            print(f"round {r} done, load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    finally:
        for client in clients.values():
            client.close()
    return results


if __name__ == "__main__":
    main()

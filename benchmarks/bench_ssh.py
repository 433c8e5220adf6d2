"""SSH through the server (issue 24) against a loopback OpenSSH sshd, side by side in one run.

    python benchmarks/bench_ssh.py [--size-mib 100] [--runs 3] [--rtt-runs 10]

1. scp of a random file up and down: `scp` with the config `ssh-config --write` made (ProxyCommand
   `jupyter-remote-dev ssh-proxy`, the WebSocket, the in-process asyncssh server) against `scp` to
   a throwaway loopback sshd (same OpenSSH client, default ciphers). Target: at least 0.5x.
2. `ssh H true` round trip on a new connection, against the loopback sshd and against
   `jupyter-remote-dev run -- true`; plus what starting the proxy process alone costs.
Runs are interleaved, so load changes hit every way alike; medians are printed as Markdown.
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

sys.path.insert(0, str(Path(__file__).parent))
from common import jupyter_server, loopback_sshd

CLI = shutil.which("jupyter-remote-dev") or "jupyter-remote-dev"
HOST = "remote-dev-default"


def timed(argv: list[str], env: dict | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def laptop(home: Path, server) -> dict:
    """A laptop HOME logged in to ``server`` with ``ssh-config --write`` done; its environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"))
    login = [CLI, "login", server.url, "--token-stdin"]
    subprocess.run(login, env=env, input=f"{server.token}\n", text=True, check=True)
    subprocess.run([CLI, "ssh-config", "--write"], env=env, check=True, stdout=subprocess.DEVNULL)
    return env


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3, help="scp runs per way and direction")
    parser.add_argument("--rtt-runs", type=int, default=10, help="`true` round trips per way")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ssh-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "root").mkdir()
        (tmp_path / "sshd-side").mkdir()
        big = tmp_path / "big.bin"
        big.write_bytes(os.urandom(args.size_mib * 1024**2))
        with jupyter_server(tmp_path / "root") as server, loopback_sshd() as sshd:
            env = laptop(tmp_path / "laptop", server)
            ours = ["scp", "-q", "-F", str(tmp_path / "laptop" / ".ssh" / "config")]
            sizes = args.size_mib * 1024**2 / 1e6
            there = f"{sshd.host}:{tmp_path / 'sshd-side' / 'big.bin'}"
            gcm = [*sshd.scp, "-c", "aes128-gcm@openssh.com"]
            back = str(tmp_path / "back.bin")
            ways = {
                ("up", "ours"): lambda: timed([*ours, str(big), f"{HOST}:big.bin"], env),
                ("up", "sshd"): lambda: timed([*sshd.scp, str(big), there]),
                ("up", "sshd-gcm"): lambda: timed([*gcm, str(big), there]),
                ("down", "ours"): lambda: timed([*ours, f"{HOST}:big.bin", back], env),
                ("down", "sshd"): lambda: timed([*sshd.scp, there, back]),
                ("down", "sshd-gcm"): lambda: timed([*gcm, there, back]),
            }
            samples: dict = {key: [] for key in ways}
            for _ in range(args.runs):
                for key, way in ways.items():
                    samples[key].append(way())
            print(f"\nscp of {args.size_mib} MiB (random bytes), median of {args.runs}:\n")
            print(
                "| direction | through the server, ssh-config's AES-GCM (MB/s) | loopback sshd,"
                " ssh's default ChaCha20 (MB/s) | ratio | loopback sshd, AES-GCM (MB/s) | ratio |"
            )
            print("|---|---|---|---|---|---|")
            for direction in ("up", "down"):
                mine, theirs, gcm_rate = (
                    sizes / median(samples[(direction, way)])
                    for way in ("ours", "sshd", "sshd-gcm")
                )
                print(
                    f"| {direction} | {mine:.0f} | {theirs:.0f} | {mine / theirs:.2f} |"
                    f" {gcm_rate:.0f} | {mine / gcm_rate:.2f} |"
                )

            ssh_ours = ["ssh", "-F", str(tmp_path / "laptop" / ".ssh" / "config"), HOST, "true"]
            rtt = {
                "`ssh H true` through the server": lambda: timed(ssh_ours, env),
                "`ssh true` to the loopback sshd": lambda: timed([*sshd.ssh, "true"]),
                "`jupyter-remote-dev run -- true`": lambda: timed([CLI, "run", "--", "true"], env),
                "the proxy process alone (`ssh-proxy --help`)": lambda: timed(
                    [CLI, "ssh-proxy", "--help"], env
                ),
            }
            times: dict = {name: [] for name in rtt}
            for _ in range(args.rtt_runs):
                for name, way in rtt.items():
                    times[name].append(way())
            base = median(times["`ssh true` to the loopback sshd"])
            print(f"\nNew connection round trips, median of {args.rtt_runs}:\n")
            print("| what | p50 (ms) | min (ms) | / loopback sshd |\n|---|---|---|---|")
            for name, values in times.items():
                print(
                    f"| {name} | {median(values) * 1000:.0f} | {min(values) * 1000:.0f} |"
                    f" {median(values) / base:.2f} |"
                )
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

"""The local Ray head as a hub-managed service: started after the hub listens, stopped with it.

    python -m jupyter_remote_dev.services.ray_head --client-port P --dashboard-port D \\
        --state-file F [--num-cpus N]

JupyterHub starts managed services once its own server listens, so the head's slow start (tens
of seconds) never delays the hub. Until the head answers, the state file says "starting" and the
user servers' ``GET ray`` reports that. The head stops when the hub stops this service, or when
the hub is gone. Quiet on success: its log goes to ``<state file folder>/ray-service.log``.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from ...ray.launcher import write_state
from ...ray.local_head import start_local_ray_head

log = logging.getLogger("jupyter_remote_dev.ray_head")
STOP_SECONDS = 8.0  # JupyterHub sends SIGTERM 10 s after SIGINT: be done by then
POLL_SECONDS = 1.0


class Stop(BaseException):
    """Raised in the main thread by the first SIGTERM/SIGINT."""


def _on_signal(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one stop at a time
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise Stop(signal.Signals(signum).name)


def _start_with_retries(args: argparse.Namespace, temp_dir: Path):
    """The started head. On a busy machine Ray's own start-up deadlines (its raylet waits for the
    dashboard agent, ``ray start`` for the raylet) can pass; a fresh attempt usually succeeds."""
    for attempt in range(1, args.attempts + 1):
        try:
            return start_local_ray_head(
                args.client_port, args.dashboard_port, num_cpus=args.num_cpus,
                temp_dir=str(temp_dir / f"attempt-{attempt}"), timeout=args.timeout,
            )  # fmt: skip
        except RuntimeError as e:
            if attempt == args.attempts:
                raise
            log.info("the Ray head did not start (attempt %d), trying again: %s", attempt, e)


def run(args: argparse.Namespace) -> int:
    state = args.state_file
    parent = os.getppid()
    # Ray's unix sockets live under the temp dir: keep its path short (AF_UNIX allows 107 bytes)
    temp_dir = Path(tempfile.mkdtemp(prefix="rd-ray-"))
    head = None
    try:
        write_state(state, "starting", "the Ray head is starting")
        log.info("starting the Ray head (temp dir %s)", temp_dir)
        started = time.monotonic()
        head = _start_with_retries(args, temp_dir)
        log.info("Ray head up in %.1f s at %s", time.monotonic() - started, head.address)
        write_state(state, "running", f"Ray head at {head.address}")
        while head.process.poll() is None and os.getppid() == parent:
            time.sleep(POLL_SECONDS)
        reason = "the hub exited" if os.getppid() != parent else "the Ray head exited"
        log.warning("stopping: %s", reason)
        write_state(state, "stopped", reason)
        return 1 if head.process.poll() is not None else 0
    except Stop as stop:
        log.info("stopping (%s)", stop)
        write_state(state, "stopped", "stopped with the hub")
        return 0
    except RuntimeError as e:
        log.warning("no local Ray head: %s", e)
        write_state(state, "failed", str(e)[-500:])
        return 1
    finally:
        if head is not None:
            head.stop(timeout=STOP_SECONDS)
        shutil.rmtree(temp_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client-port", type=int, required=True)
    parser.add_argument("--dashboard-port", type=int, required=True)
    parser.add_argument("--state-file", type=Path, required=True)
    parser.add_argument("--num-cpus", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--attempts", type=int, default=3)
    args = parser.parse_args(argv)
    args.state_file.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(args.state_file.parent / "ray-service.log")
    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.setLevel(logging.WARNING)
    logging.basicConfig(
        level=logging.INFO,
        format="[%(levelname).1s %(asctime)s %(name)s] %(message)s",
        handlers=[to_file, to_stderr],
    )
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    return run(args)

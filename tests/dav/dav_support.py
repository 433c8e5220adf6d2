"""Helpers of the drive's tests: a real ``jupyter server`` with the extension in a subprocess (so
real WebDAV clients, and the RSS probe, see a server of its own), litmus, a read-only policy."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from jupyter_server.auth.authorizer import Authorizer

from jupyter_remote_dev.embedded.ports import free_port

from ..support.processes import stop_group

REPO = Path(__file__).resolve().parents[2]


@dataclass
class DavServer:
    """A running server: its drive URL, token, root folder, process and log."""

    url: str
    dav: str
    token: str
    root: Path
    process: subprocess.Popen
    log: Path

    def client(self, **kwargs) -> httpx.Client:
        auth = kwargs.pop("auth", ("anyone", self.token))
        return httpx.Client(auth=auth, timeout=120, **kwargs)


@contextlib.contextmanager
def dav_server(home: Path, *args: str, config: dict | None = None) -> Iterator[DavServer]:
    """``jupyter server`` with our extension on a free port, token auth, root ``home/root``."""
    root, port, token = home / "root", free_port(), secrets.token_hex(16)
    root.mkdir(parents=True, exist_ok=True)
    (home / "config").mkdir(exist_ok=True)
    others = (
        "jupyterlab",
        "jupyter_lsp",
        "notebook_shim",
        "nbgitpuller",
        "jupyter_server_terminals",
    )
    extensions = {"jupyter_remote_dev": True, **dict.fromkeys(others, False)}  # a quick start
    settings = {"ServerApp": {"jpserver_extensions": extensions}}
    settings.update(config or {})
    (home / "config" / "jupyter_server_config.json").write_text(json.dumps(settings))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTER_DATA_DIR=str(home / "data"),
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]),
    )
    command = [
        sys.executable, "-m", "jupyter_server", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--ServerApp.allow_root=True",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", *args,
    ]  # fmt: skip
    log = home / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"{url}api/status", params={"token": token}).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "jupyter server did not start in 60 s"
            time.sleep(0.2)
        yield DavServer(url, f"{url}remote-dev/dav/", token, root, process, log)
    finally:
        stop_group(process)


GROUPS = ("basic", "copymove", "props", "locks", "http")


SUMMARY = re.compile(r"summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed")


def run_litmus(url: str, token: str, cwd) -> str:
    """litmus's whole output (it exits non-zero on any failure)."""
    done = subprocess.run(
        ["litmus", url, "anyone", token], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    return output


def assert_all_groups_pass(output: str) -> None:
    """Each of the five groups ran and passed whole; no test was skipped."""
    found = SUMMARY.findall(output)
    results = {group: (int(run), int(passed), int(failed)) for group, run, passed, failed in found}
    assert set(results) == set(GROUPS), output[-4000:]
    for group, (run, passed, failed) in results.items():
        assert failed == 0 and passed == run > 0, f"{group}: {output[-4000:]}"
    assert "SKIPPED" not in output, output[-4000:]


class ReadOnlyContents(Authorizer):
    """Everything may be read; nothing under ``contents`` may be written (a server loads it by
    name: ``tests.dav.dav_support.ReadOnlyContents``)."""

    def is_authorized(self, handler, user, action, resource):
        return not (resource == "contents" and action == "write")

"""A bounded, derandomized schemathesis run over the served openapi.json against a real
``jupyter server`` subprocess: no 5xx, and every status the server answers is documented.

The server runs with small limits so no case is slow or destructive: commands time out after 2 s,
``exec_shell`` only echoes, and children see an empty PATH (a generated argv[0] names no real
program); Ray, Git sync and cost are not configured. Everything happens in a temp root.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error, status_code_conformance
from schemathesis.config import SchemathesisConfig

from jupyter_remote_dev.ray.local_head import free_port

EXAMPLES = 8
SEED = 12
"""Generated cases per operation and phase: ~40 operations stay well under a minute."""

OTHER_EXTENSIONS = (
    "jupyterlab",
    "jupyter_lsp",
    "jupyter_server_terminals",
    "nbgitpuller",
    "notebook_shim",
    "notebook",
)
"""Installed server extensions this run does not need (a faster start)."""


def _start_server(tmp: Path) -> tuple[subprocess.Popen, str, str]:
    """A real Jupyter server with the extension; (process, API base URL, token)."""
    root, empty_path = tmp / "root", tmp / "no-programs"
    root.mkdir()
    empty_path.mkdir()
    token, port = secrets.token_hex(16), free_port()
    config = {
        "ServerApp": {
            "jpserver_extensions": {
                "jupyter_remote_dev": True,
                **{other: False for other in OTHER_EXTENSIONS},
            },
            "allow_root": True,
            "allow_unauthenticated_access": False,
            "open_browser": False,
            "port": port,
            "port_retries": 0,
            "ip": "127.0.0.1",
            "root_dir": str(root),
        },
        "IdentityProvider": {"token": token},
        "RemoteDevExtension": {
            "exec_max_timeout": 2.0,
            "exec_kill_grace": 0.2,
            "max_concurrent_exec": 2,
            "exec_shell": ["/bin/echo"],
            "max_upload_size": 64 * 1024,
            "upload_expiry": 60.0,
        },
    }
    config_file = tmp / "jupyter_server_config.json"
    config_file.write_text(json.dumps(config))
    env = {
        **os.environ,
        "PATH": str(empty_path),  # what a fuzzed argv[0] could name: nothing
        "GIT_PYTHON_GIT_EXECUTABLE": shutil.which("git") or "git",
        "JUPYTER_CONFIG_DIR": str(tmp),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTER_REMOTE_DEV_RAY_ADDRESS": "",
        "JUPYTER_REMOTE_DEV_RAY_DASHBOARD_URL": "",
        "JUPYTER_REMOTE_DEV_GIT_REPO": "",
    }
    with open(tmp / "server.log", "wb") as log:  # the child keeps its own copy open
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", f"--config={config_file}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    base = f"http://127.0.0.1:{port}/remote-dev/api"
    headers = {"Authorization": f"token {token}"}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/info", headers=headers, timeout=2).status_code == 200:
                return process, base, token
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the server did not start:\n{(tmp / 'server.log').read_text()[-3000:]}")


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory):
    """(API base URL, auth headers) of a real server, stopped after the module."""
    tmp = tmp_path_factory.mktemp("fuzz")
    process, base, token = _start_server(tmp)
    try:
        yield base, {"Authorization": f"token {token}"}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def served_schema(fuzzed_server):
    """The contract exactly as the server serves it (GET openapi.json), with a fixed seed."""
    base, headers = fuzzed_server
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "base-url": base,
            "headers": headers,
            "request-timeout": 30,
            "cache": {"enabled": False},  # no .schemathesis/ folder in the checkout
            "generation": {
                "mode": "all",  # valid and invalid requests
                "max-examples": EXAMPLES,
                "deterministic": True,
                "no-shrink": True,
                "database": "none",
            },
            "phases": {"stateful": {"enabled": False}},
        }
    )
    return schemathesis.openapi.from_url(f"{base}/openapi.json", config=config, headers=headers)


schema = schemathesis.pytest.from_fixture("served_schema")


@schemathesis.serializer("application/x-tar", "application/zip")
def _raw_bytes(ctx, value):
    """Archive bodies as generated: bytes as they are, anything else as its JSON text."""
    return value if isinstance(value, bytes) else json.dumps(value).encode()


@schema.parametrize()
def test_fuzz_api_no_server_error_and_only_documented_statuses(case):
    """Generated requests (valid and invalid) never get a 5xx or an undocumented status
    (``call_and_validate`` raises with the failing case and its reproduction otherwise)."""
    response = case.call_and_validate(checks=[not_a_server_error, status_code_conformance])
    assert response.status_code < 500

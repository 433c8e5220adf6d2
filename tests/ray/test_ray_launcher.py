"""GET ray while a local launcher (the one-machine hub's ray-head service) boots its head."""

import json
import os
import subprocess
import sys

import pytest

from jupyter_remote_dev.ray.launcher import read_state, write_state
from jupyter_remote_dev.ray.local_head import free_port

from ..support.openapi_check import assert_response_matches


@pytest.fixture
def state_file(tmp_path):
    return tmp_path / "ray" / "state.json"


@pytest.fixture
def remote_dev_config(state_file):
    """A head that is not there (closed loopback ports), and the launcher's state file."""
    state_file.parent.mkdir()
    return {
        "ray_address": f"ray://127.0.0.1:{free_port()}",
        "ray_dashboard_url": f"http://127.0.0.1:{free_port()}",
        "ray_state_file": str(state_file),
        "ray_timeout": 2.0,
    }


async def _ray(jp_fetch):
    response = await jp_fetch("remote-dev", "api", "ray")
    assert_response_matches(response, "GET", "/ray")
    return json.loads(response.body)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


async def test_ray_status_says_starting_while_the_launcher_boots(jp_fetch, state_file):
    """A live launcher that says "starting": state starting, not unreachable."""
    write_state(state_file, "starting", "the Ray head is starting")
    status = await _ray(jp_fetch)
    assert status["state"] == "starting" and status["reachable"] is False
    assert status["message"].startswith("The Ray head is starting")


async def test_ray_status_ignores_a_dead_launchers_starting(jp_fetch, state_file):
    """ "starting" written by a process that is gone is stale: plain unreachable."""
    write_state(state_file, "starting")
    record = json.loads(state_file.read_text())
    state_file.write_text(json.dumps({**record, "pid": _dead_pid()}))
    status = await _ray(jp_fetch)
    assert status["state"] == "unreachable"
    assert "Is the Ray cluster running" in status["message"]


async def test_ray_status_names_a_failed_start(jp_fetch, state_file):
    """A launcher that gave up: unreachable, with its reason."""
    write_state(state_file, "failed", "the Ray head did not start: out of memory")
    status = await _ray(jp_fetch)
    assert status["state"] == "unreachable"
    assert status["message"] == (
        "The local Ray head failed to start: the Ray head did not start: out of memory"
    )


async def test_ray_status_without_a_state_file(jp_fetch):
    """No launcher file (a cluster): reachability alone decides."""
    status = await _ray(jp_fetch)
    assert status["state"] == "unreachable" and status["configured"] is True


def test_ray_launcher_state_rejects_garbage(tmp_path):
    """Unreadable, non-JSON or unknown states read as no state; writing one is refused."""
    path = tmp_path / "state.json"
    assert read_state(path) is None and read_state("") is None
    for text in ("not json", "[]", '{"state": "exploded", "pid": 1}', '{"state": "running"}'):
        path.write_text(text)
        assert read_state(path) is None, text
    with pytest.raises(ValueError):
        write_state(path, "exploded")
    write_state(path, "running")
    assert read_state(path)["pid"] == os.getpid()
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temp file left

"""Ray against a real local Ray head: client connection, status, jobs, logs, stop, dashboard proxy.

One head (client server + dashboard on 127.0.0.1, free ports, 1 CPU) serves the whole session.
The server is configured the way the hub hooks configure it: through RAY_ADDRESS and
JUPYTER_REMOTE_DEV_RAY_DASHBOARD_URL in its environment.
"""

import asyncio
import json
import platform
import shutil
import subprocess
import sys
import textwrap
import time

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_remote_dev.client import profiles
from jupyter_remote_dev.ray.local_head import LocalRayHead, start_local_ray_head

from ..support.local_hub_support import is_loopback, listening_sockets, stack_processes
from ..support.openapi_check import assert_response_matches

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def ray_head():
    """A real Ray head for the session; every process of it is ended afterwards, even on failure."""
    head = start_local_ray_head(num_cpus=1)
    try:
        yield head
    finally:
        head.stop()
        shutil.rmtree(head.temp_dir, ignore_errors=True)


@pytest.fixture
def remote_dev_config(ray_head: LocalRayHead, monkeypatch):
    """No explicit Ray traits: the extension reads the environment the hub hooks set."""
    for name, value in ray_head.env().items():
        monkeypatch.setenv(name, value)
    return {"ray_log_poll_interval": 0.3}


def _client_server_errors(head: LocalRayHead) -> str:
    """The head's Ray client server error logs, to explain a failed ray.init()."""
    logs = sorted((head.temp_dir / "session_latest" / "logs").glob("ray_client_server*.err"))
    return "".join(f"\n== {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs)


async def _json(jp_fetch, *path, **kwargs):
    response = await jp_fetch("remote-dev", "api", *path, **kwargs)
    return response, json.loads(response.body)


async def _wait_for_status(jp_fetch, job_id, wanted, timeout=120.0):
    deadline = time.monotonic() + timeout
    while True:
        _, job = await _json(jp_fetch, "ray", "jobs", job_id)
        if job["status"] in wanted or time.monotonic() > deadline:
            return job
        await asyncio.sleep(0.5)


async def test_ray_status_reports_reachable_and_versions(jp_fetch, ray_head):
    """GET ray: configured from the environment, reachable, same versions both sides."""
    response, status = await _json(jp_fetch, "ray")
    assert_response_matches(response, "GET", "/ray")
    assert status["configured"] and status["reachable"], status["message"]
    assert status["address"] == ray_head.address
    assert status["dashboard_url"] == ray_head.dashboard_url
    assert status["cluster_ray_version"] == status["local_ray_version"] == "2.60.0"
    assert status["cluster_python_version"] == platform.python_version()
    assert status["local_python_version"] == platform.python_version()
    assert status["mismatch"] is False
    assert status["message"].startswith("Compatible")
    assert status["proxied_dashboard_url"].endswith("/remote-dev/api/ray/dashboard/")
    _, info = await _json(jp_fetch, "info")
    assert info["features"]["ray"] is True


async def test_ray_client_connects_with_the_hook_environment(jp_fetch, ray_head):
    """A process the server starts (POST exec) runs ray.init() and a remote task on the head.

    On a loaded machine the head's client proxy can fail to start the per-connection client
    server ("Starting Ray client server failed"); like a user, the script then tries once more,
    and prints the first failure so that a second one is reported with both reasons.
    """
    script = textwrap.dedent(
        """
        import os, ray
        print("address", os.environ["RAY_ADDRESS"])
        try:
            ray.init()
        except ConnectionError as first:
            print("first ray.init() failed, retrying once:", first, flush=True)
            ray.init()
        @ray.remote
        def double(x):
            return 2 * x
        print("result", ray.get(double.remote(21)))
        ray.shutdown()
        """
    )
    body = json.dumps({"argv": [sys.executable, "-c", script], "timeout": 170})
    response = await jp_fetch(
        "remote-dev", "api", "exec", method="POST", body=body, request_timeout=180
    )
    events = [json.loads(line) for line in response.body.decode().splitlines()]
    output = "".join(e.get("data", "") for e in events if e["type"] in ("stdout", "stderr"))
    exit_event = events[-1]
    assert exit_event == {**exit_event, "type": "exit", "code": 0}, output + _client_server_errors(
        ray_head
    )
    assert f"address {ray_head.address}" in output
    assert "result 42" in output


async def test_ray_job_runs_with_working_dir_and_logs_come_back(jp_fetch, jp_root_dir):
    """A job submitted through the server runs in the uploaded folder; its logs stream back."""
    project = jp_root_dir / "project"
    project.mkdir()
    (project / "data.txt").write_text("payload-7f3a")
    (project / ".env").write_text("SECRET=do-not-ship")
    (project / "job.py").write_text(
        "import os\n"
        "print('data', open('data.txt').read(), flush=True)\n"
        "print('dotenv shipped' if os.path.exists('.env') else 'dotenv kept', flush=True)\n"
    )
    body = json.dumps({"entrypoint": "python job.py", "working_dir": "project"})
    response, submitted = await _json(jp_fetch, "ray", "jobs", method="POST", body=body)
    assert response.code == 201
    assert_response_matches(response, "POST", "/ray/jobs", body.encode())
    assert submitted["working_dir"].startswith("gcs://_ray_pkg_")
    job_id = submitted["submission_id"]

    response = await jp_fetch(
        "remote-dev",
        "api",
        "ray",
        "jobs",
        job_id,
        "logs",
        params={"follow": "1"},
        request_timeout=180,
    )
    assert response.headers["Content-Type"].startswith("application/x-ndjson")
    events = [json.loads(line) for line in response.body.decode().splitlines()]
    streamed = "".join(e["data"] for e in events if e["type"] == "logs")
    assert events[-1] == {"type": "end", "status": "SUCCEEDED"}, streamed
    assert "data payload-7f3a" in streamed
    assert "dotenv kept" in streamed

    response, logs = await _json(jp_fetch, "ray", "jobs", job_id, "logs")
    assert_response_matches(response, "GET", f"/ray/jobs/{job_id}/logs")
    assert "data payload-7f3a" in logs["logs"]
    response, listing = await _json(jp_fetch, "ray", "jobs")
    assert_response_matches(response, "GET", "/ray/jobs")
    mine = {job["submission_id"]: job for job in listing["jobs"]}
    assert mine[job_id]["status"] == "SUCCEEDED"
    assert mine[job_id]["entrypoint"] == "python job.py"


async def test_ray_job_stop_ends_a_running_job(jp_fetch):
    """POST stop on a running job stops it."""
    body = json.dumps(
        {"entrypoint": "python -c \"import time; print('up', flush=True); time.sleep(600)\""}
    )
    _, submitted = await _json(jp_fetch, "ray", "jobs", method="POST", body=body)
    job_id = submitted["submission_id"]
    job = await _wait_for_status(jp_fetch, job_id, {"RUNNING", "FAILED"})
    assert job["status"] == "RUNNING", job
    response, stopped = await _json(
        jp_fetch, "ray", "jobs", job_id, "stop", method="POST", body=b""
    )
    assert_response_matches(response, "POST", f"/ray/jobs/{job_id}/stop", b"")
    assert stopped == {"stopped": True}
    job = await _wait_for_status(jp_fetch, job_id, {"STOPPED", "SUCCEEDED", "FAILED"}, 60)
    assert job["status"] == "STOPPED"


async def test_ray_dashboard_proxy_needs_a_token(jp_fetch):
    """The dashboard's /api/version comes through the server with a token, 403 without."""
    response, version = await _json(jp_fetch, "ray", "dashboard", "api", "version")
    assert version["ray_version"] == "2.60.0"
    head = await jp_fetch("remote-dev", "api", "ray", "dashboard", "api", "version", method="HEAD")
    assert head.code == 200 and head.body == b""
    page = await jp_fetch("remote-dev", "api", "ray", "dashboard/")
    assert b"Ray Dashboard" in page.body
    assert "default-src 'none'" not in page.headers.get("Content-Security-Policy", "")
    for header in ({"Authorization": ""}, {"Authorization": "token wrong"}):
        with pytest.raises(HTTPClientError) as refused:
            await jp_fetch(
                "remote-dev", "api", "ray", "dashboard", "api", "version", headers=header
            )
        assert refused.value.code == 403


async def test_ray_cli_submits_follows_and_lists(
    http_server_client, jp_http_port, jp_base_url, jp_auth_header, tmp_path
):
    """`ray submit --upload DIR` runs the local folder's code and exits 0; `jobs`/`logs` show it."""
    token = jp_auth_header["Authorization"].split(" ", 1)[1]
    url = f"http://localhost:{jp_http_port}{jp_base_url}"
    profiles.save(profiles.Profile(name="default", url=url, token=token))
    local = tmp_path / "laptop-project"
    local.mkdir()
    (local / "main.py").write_text("import sys\nprint('hello from', sys.argv[1])\n")

    async def cli(*args):
        process = await asyncio.create_subprocess_exec(
            "jupyter-remote-dev", "ray", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), 180)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        return process.returncode, out.decode(), err.decode()

    code, out, err = await cli("submit", f"--upload={local}", "--", "python", "main.py", "ray")
    assert code == 0, err
    assert "hello from ray" in out
    assert "SUCCEEDED" in err and "gcs://_ray_pkg_" in err
    job_id = out.splitlines()[0].strip()
    code, out, err = await cli("jobs")
    assert code == 0, err
    assert any(line.startswith(job_id) and "SUCCEEDED" in line for line in out.splitlines())
    code, out, err = await cli("logs", job_id)
    assert code == 0 and out.rstrip().endswith("\nhello from ray"), (code, out)
    code, out, err = await cli("stop", "raysubmit_does_not_exist")
    assert code == 1 and "does not exist" in err


def test_ray_local_head_listens_on_loopback_only(ray_head):
    """Every listening socket of the head (GCS, raylet, agents, client server, dashboard,
    workers) is on loopback, and none uses one of Ray's fixed default ports."""
    processes = stack_processes(ray_head.process.pid)
    sockets = listening_sockets(processes)
    names = {name for _, _, name in sockets}
    assert {"gcs_server", "raylet"} <= names, names
    assert [s for s in sockets if not is_loopback(s[0])] == []
    fixed_defaults = {6379, 8265, 10001, 52365, 44217, 44227}
    assert [s for s in sockets if s[1] in fixed_defaults] == []

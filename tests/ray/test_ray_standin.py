"""Ray status and job endpoints against a loopback stand-in dashboard, plus the pure helpers.

The stand-in answers like a Ray dashboard of another version (Ray 2.9.3 on Python 3.10), and
records every request, so a refused submission can be shown to have reached nothing.
"""

import json
import os
import socket
import time
import zipfile

import pytest
from jupyter_server.auth.authorizer import Authorizer
from tornado.httpclient import HTTPClientError

from jupyter_remote_dev.base.handlers import RAY_SERVICE
from jupyter_remote_dev.errors import ConflictError, NotFoundError, PathError
from jupyter_remote_dev.ray.dashboard import Dashboard, version_verdict
from jupyter_remote_dev.ray.local_head import free_port
from jupyter_remote_dev.ray.package import package_working_dir, resolve_inside

from ..support.files_support import connect
from ..support.openapi_check import assert_response_matches
from ..support.ray_dashboard import StandInDashboard


@pytest.fixture
def silent_port():
    """A port that accepts TCP connections but never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


class NoTerminals(Authorizer):
    """Allows everything except the terminals resource."""

    def is_authorized(self, handler, user, action, resource):
        return resource != "terminals"


@pytest.fixture
def ray(jp_serverapp):
    """The running server's :class:`~jupyter_remote_dev.ray.service.RayService`."""
    return jp_serverapp.web_app.settings[RAY_SERVICE]


@pytest.fixture
def remote_dev_config(standin):
    """Point the extension at the stand-in; tests that need otherwise change the server's
    RayService (the ``ray`` fixture)."""
    return {
        "ray_address": f"ray://{standin}",
        "ray_dashboard_url": f"http://{standin}",
        "ray_timeout": 1.0,
    }


async def test_ray_status_flags_version_mismatch(jp_fetch):
    """Another Ray and Python minor on the cluster: mismatch, and the message says what to do."""
    response = await jp_fetch("remote-dev", "api", "ray")
    assert_response_matches(response, "GET", "/ray")
    status = json.loads(response.body)
    assert status["reachable"] is True
    assert (status["cluster_ray_version"], status["cluster_python_version"]) == ("2.9.3", "3.10.14")
    assert status["mismatch"] is True
    assert "pip install 'ray[client]==2.9.3'" in status["message"]
    assert "Python 3.10" in status["message"]


async def test_ray_status_unreachable_answers_within_the_timeout(jp_fetch, ray, silent_port):
    """A closed client port and a dashboard that never answers: a clear message within 1 s."""
    ray.address = f"ray://127.0.0.1:{free_port()}"
    ray.dashboard_url = f"http://127.0.0.1:{silent_port}"
    started = time.monotonic()
    response = await jp_fetch("remote-dev", "api", "ray")
    elapsed = time.monotonic() - started
    status = json.loads(response.body)
    assert status["reachable"] is False and status["mismatch"] is False
    assert "cannot connect to 127.0.0.1" in status["message"]
    assert f"cannot reach the Ray dashboard at http://127.0.0.1:{silent_port}" in status["message"]
    assert "timed out" in status["message"]
    assert elapsed < ray.timeout + 1.0


async def test_ray_status_not_configured_says_how(jp_fetch, ray):
    """Without an address or dashboard: configured false and the variables to set; jobs 409."""
    ray.address = ray.dashboard_url = ""
    response = await jp_fetch("remote-dev", "api", "ray")
    status = json.loads(response.body)
    assert status["configured"] is False and status["reachable"] is False
    assert "RAY_ADDRESS" in status["message"]
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("remote-dev", "api", "ray", "jobs")
    assert refused.value.code == 409
    assert "not configured" in json.loads(refused.value.response.body)["message"]


@pytest.mark.parametrize(
    ("working_dir", "code"),
    [("..", 403), ("/etc", 400), ("missing", 404), ("project/../../outside", 403)],
)
async def test_ray_job_submit_refuses_bad_working_dir(jp_fetch, jp_root_dir, working_dir, code):
    """A working_dir outside the root or missing is refused before the dashboard hears of it."""
    (jp_root_dir / "project").mkdir()
    body = json.dumps({"entrypoint": "python x.py", "working_dir": working_dir})
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("remote-dev", "api", "ray", "jobs", method="POST", body=body)
    assert refused.value.code == code
    assert "working_dir" in json.loads(refused.value.response.body)["message"]
    assert StandInDashboard.requests == []


@pytest.mark.parametrize(
    "body",
    [{}, {"entrypoint": ""}, {"entrypoint": "x", "runtime_env": {"working_dir": "/data"}},
     {"entrypoint": "x", "bogus": 1}, {"entrypoint": "x", "metadata": {"a": 1}}],
)  # fmt: skip
async def test_ray_job_submit_refuses_bad_bodies(jp_fetch, body):
    """Malformed submissions answer 400 with a message and send nothing to the dashboard."""
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("remote-dev", "api", "ray", "jobs", method="POST", body=json.dumps(body))
    assert refused.value.code == 400
    assert json.loads(refused.value.response.body)["message"]
    assert StandInDashboard.requests == []


@pytest.mark.parametrize(
    "jp_server_config",
    [{"ServerApp": {"jpserver_extensions": {"jupyter_remote_dev": True},
                    "authorizer_class": NoTerminals}}],
)  # fmt: skip
async def test_ray_job_submit_needs_the_terminals_permission(jp_fetch, ray, standin):
    """An authorizer that forbids terminals forbids job submission, but not reading jobs."""
    ray.dashboard_url = f"http://{standin}"
    response = await jp_fetch("remote-dev", "api", "ray", "jobs")
    assert json.loads(response.body) == {"jobs": []}
    with pytest.raises(HTTPClientError) as refused:
        body = json.dumps({"entrypoint": "echo hi"})
        await jp_fetch("remote-dev", "api", "ray", "jobs", method="POST", body=body)
    assert refused.value.code == 403
    assert ("POST", "/api/jobs/") not in StandInDashboard.requests


async def test_ray_package_upload_stores_a_zip_once_checked(jp_fetch, ray, tmp_path):
    """PUT ray/package stores a zip under its content hash; non-zip or oversize bodies: refused."""
    archive = tmp_path / "p.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("main.py", "print(1)")
    body = archive.read_bytes()
    headers = {"Content-Type": "application/zip"}
    response = await jp_fetch(
        "remote-dev", "api", "ray", "package", method="PUT", body=body, headers=headers
    )
    assert response.code == 201
    assert_response_matches(response, "PUT", "/ray/package", body, "application/zip")
    answer = json.loads(response.body)
    assert answer["size"] == len(body)
    assert ("PUT", "/api/packages/gcs/" + answer["uri"].removeprefix("gcs://")) in (
        StandInDashboard.requests
    )
    StandInDashboard.requests.clear()
    for payload, limit, code in [(b"not a zip", 10**6, 400), (body, len(body) - 1, 413)]:
        ray.max_working_dir_size = limit
        with pytest.raises(HTTPClientError) as refused:
            await jp_fetch(
                "remote-dev", "api", "ray", "package", method="PUT", body=payload, headers=headers
            )
        assert refused.value.code == code
        assert json.loads(refused.value.response.body)["message"]
    assert StandInDashboard.requests == []


async def test_ray_job_stop_refuses_another_owners_job(jp_fetch):
    """Stopping a job recorded for another user answers 403 and sends no stop."""
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch(
            "remote-dev", "api", "ray", "jobs", "raysubmit_other", "stop", method="POST", body=b""
        )
    assert refused.value.code == 403
    assert "someone-else" in json.loads(refused.value.response.body)["message"]
    assert ("POST", "/api/jobs/raysubmit_other/stop") not in StandInDashboard.requests


async def test_ray_log_follow_ends_with_timeout_for_a_running_job(jp_fetch, ray):
    """Following a job that keeps running streams its logs, then a timeout event at the bound."""
    ray.log_poll_interval, ray.log_follow_timeout = 0.1, 0.5
    response = await jp_fetch(
        "remote-dev", "api", "ray", "jobs", "raysubmit_other", "logs", params={"follow": "1"}
    )
    events = [json.loads(line) for line in response.body.decode().splitlines()]
    assert events == [
        {"type": "logs", "data": "epoch 1\n"},
        {"type": "timeout", "status": "RUNNING"},
    ]


async def test_dashboard_follow_logs_sends_heartbeats_when_quiet(standin):
    """A quiet job yields heartbeats, so a handler notices a client that went away."""
    async with Dashboard(f"http://{standin}", 5.0) as dashboard:
        events = [e async for e in dashboard.follow_logs("raysubmit_other", 0.05, 0.6, 0.2)]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "logs" and kinds[-1] == "timeout"
    assert kinds.count("heartbeat") >= 1


async def test_ray_job_id_is_validated(jp_fetch):
    """A job id with characters no Ray id has is refused with 400."""
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("remote-dev", "api", "ray", "jobs", "bad id;rm")
    assert refused.value.code == 400


async def test_ray_dashboard_proxy_keeps_the_token_query_parameter(
    jp_serverapp, http_server_client, jp_http_port, jp_base_url
):
    """A ?token= (even percent-encoded) that authenticates a dashboard request is not passed on."""
    api = connect(jp_serverapp, jp_http_port, jp_base_url)
    query = f"token={api.token}&tok%65n={api.token}&view=summary"
    response = await api.request("GET", f"ray/dashboard/api/version?{query}", headers={})
    assert response.code == 404  # the stand-in knows /api/version only without a query
    assert StandInDashboard.requests == [("GET", "/api/version?view=summary")]


async def test_ray_dashboard_down_answers_502_with_message(jp_fetch, ray):
    """The dashboard proxy names the unreachable dashboard instead of hanging or crashing."""
    ray.dashboard_url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("remote-dev", "api", "ray", "dashboard", "api", "version")
    assert refused.value.code == 502
    assert "cannot reach the Ray dashboard" in json.loads(refused.value.response.body)["message"]


@pytest.mark.parametrize(
    ("local_ray", "local_py", "cluster_ray", "cluster_py", "mismatch", "words"),
    [
        ("2.60.0", "3.11.7", "2.60.0", "3.11.7", False, "Compatible"),
        ("2.60.0", "3.11.7", "2.60.0", "3.11.2", False, "patch level"),
        ("2.60.0", "3.11.7", "2.60.0", "3.10.14", True, "Python 3.10"),
        ("2.60.0", "3.11.7", "2.9.3", "3.11.7", True, "ray[client]==2.9.3"),
        (None, "3.11.7", "2.9.3", "3.11.7", False, "not installed"),
        ("2.60.0", "3.11.7", "2.60.0", None, False, "unknown"),
    ],
)
def test_version_verdict_follows_the_client_rule(
    local_ray, local_py, cluster_ray, cluster_py, mismatch, words
):
    """Same Ray and same Python major.minor pass; anything else is named with its fix."""
    verdict, message = version_verdict(local_ray, local_py, cluster_ray, cluster_py)
    assert verdict is mismatch
    assert words in message


def test_package_working_dir_leaves_out_ignored_hidden_and_escaping_files(tmp_path):
    """The zip holds the folder's files at top level, minus ignores and links out of the root."""
    root = tmp_path / "root"
    project = root / "project"
    (project / "pkg").mkdir(parents=True)
    (project / ".git").mkdir()
    (project / "train.py").write_text("print(1)")
    (project / "pkg" / "util.py").write_text("x = 1")
    (project / ".git" / "config").write_text("[core]")
    (project / ".env").write_text("SECRET=1")
    (tmp_path / "outside.txt").write_text("secret")
    os.symlink(tmp_path / "outside.txt", project / "link-out.txt")
    os.symlink(project / "train.py", project / "link-in.py")
    zip_path, uri = package_working_dir(root, project, [".git", ".*"], 10_000)
    try:
        names = sorted(zipfile.ZipFile(zip_path).namelist())
        again = package_working_dir(root, project, [".git", ".*"], 10_000)
        again[0].unlink()
    finally:
        zip_path.unlink()
    assert names == ["link-in.py", "pkg/util.py", "train.py"]
    assert uri.startswith("gcs://_ray_pkg_") and uri.endswith(".zip")
    assert again[1] == uri  # same content, same package: uploaded once
    with pytest.raises(ConflictError, match="larger than 5 bytes"):
        package_working_dir(root, project, [".git", ".*"], 5)


def test_resolve_inside_refuses_escapes(tmp_path):
    """Absolute paths, .. escapes, NUL bytes, links out and files are refused."""
    (tmp_path / "root" / "ok").mkdir(parents=True)
    (tmp_path / "root" / "file").write_text("x")
    os.symlink(tmp_path, tmp_path / "root" / "up")
    root = tmp_path / "root"
    assert resolve_inside(root, "ok") == (root / "ok").resolve()
    for bad, error in [("/etc", PathError), ("../", PathError), ("a\0b", PathError),
                       ("up", PathError), ("file", NotFoundError)]:  # fmt: skip
        with pytest.raises(error):
            resolve_inside(root, bad)

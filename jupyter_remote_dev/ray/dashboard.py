"""Ray connection facts, the version verdict and the dashboard's Jobs REST API (no tornado, no ray).

Nothing here imports ``ray``: the server must start fast and work where Ray is not installed. The
local Ray version comes from the installed distribution's metadata; the cluster's from its
dashboard (``/api/version`` and ``/api/v0/cluster_metadata``).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import math
import platform
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from ..errors import NotFoundError, RemoteDevError

TERMINAL_STATUSES = frozenset({"STOPPED", "SUCCEEDED", "FAILED"})
JOB_FIELDS = ("job_id", "submission_id", "status", "entrypoint", "start_time", "end_time")
OWNER_KEY = "jupyter_remote_dev_owner"
REMOTE_URI_SCHEMES = ("gcs", "s3", "gs", "https", "http")


class RayUnavailableError(RemoteDevError):
    """The Ray dashboard could not be reached or answered with a server error."""

    status = 502


def local_ray_version() -> str | None:
    """The installed Ray's version, read without importing ray; None if Ray is not installed."""
    try:
        return importlib.metadata.version("ray")
    except importlib.metadata.PackageNotFoundError:
        return None


def local_python_version() -> str:
    """This interpreter's version, e.g. ``3.11.7``."""
    return platform.python_version()


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def version_verdict(
    local_ray: str | None, local_python: str, cluster_ray: str, cluster_python: str | None
) -> tuple[bool, str]:
    """(mismatch, message) for Ray Client from here to a cluster (contracts 2.4's rule).

    Ray Client needs the same Ray version and the same Python major.minor on both sides; a patch
    difference in Python only warns.
    """
    here = f"Ray {local_ray} on Python {local_python}"
    there = f"Ray {cluster_ray}" + (f" on Python {cluster_python}" if cluster_python else "")
    if local_ray is None:
        return False, (
            f"The cluster runs {there}. Ray is not installed here, so ray.init() cannot connect: "
            f"pip install 'ray[client]=={cluster_ray}'. Jobs submitted through this server "
            "need no local Ray."
        )
    problems = []
    if local_ray != cluster_ray:
        problems.append(f"pip install 'ray[client]=={cluster_ray}'")
    if cluster_python and _minor(cluster_python) != _minor(local_python):
        problems.append(f"use a Python {_minor(cluster_python)} image or kernel")
    if problems:
        return True, (
            f"Version mismatch: the cluster runs {there}, this server has {here}. "
            f"ray.init('ray://...') will fail with 'Version mismatch'. To fix: "
            f"{' and '.join(problems)}; or submit the work as a job (jupyter remote-dev ray "
            "submit), which runs with the cluster's own Ray and Python."
        )
    if cluster_python is None:
        return False, f"Ray {cluster_ray} on both sides (the cluster's Python version is unknown)."
    if cluster_python != local_python:
        return False, (
            f"Compatible: Ray {cluster_ray} on both sides; Python {cluster_python} there and "
            f"{local_python} here differ only in the patch level (Ray warns, it still works)."
        )
    return False, f"Compatible: the cluster and this server both run {here}."


def default_dashboard_url(address: str) -> str:
    """The dashboard URL KubeRay pairs with a ``ray://host:10001`` address (port 8265), or ''."""
    parts = urlsplit(address)
    if parts.scheme == "ray" and parts.hostname:
        return f"http://{parts.hostname}:8265"
    return ""


def _host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of ``ray://host:port`` or ``host:port``; None for ``auto``/``local``/''."""
    parts = urlsplit(address if "://" in address else f"//{address}")
    try:
        port = parts.port
    except ValueError:
        return None
    return (parts.hostname, port) if parts.hostname and port else None


async def _tcp_reachable(address: str, timeout: float) -> str | None:
    """None if the address's port accepts a connection within ``timeout``, else the reason."""
    target = _host_port(address)
    if target is None:
        return None
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(*target), timeout)
    except (OSError, asyncio.TimeoutError) as e:
        reason = "timed out" if isinstance(e, asyncio.TimeoutError) else str(e) or type(e).__name__
        return f"cannot connect to {target[0]}:{target[1]} within {timeout:g} s ({reason})"
    writer.close()
    return None


def _describe(error: Exception) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    return str(error) or type(error).__name__


class Dashboard:
    """The Ray dashboard's REST API (jobs, packages, versions) at ``url``, through httpx."""

    def __init__(self, url: str, timeout: float, headers: dict[str, str] | None = None):
        self.url = url.rstrip("/")
        self.http = httpx.AsyncClient(
            base_url=self.url, timeout=timeout, headers=headers, follow_redirects=False
        )

    async def __aenter__(self) -> Dashboard:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; dashboard failures become RemoteDevErrors that name the problem."""
        try:
            response = await self.http.request(method, path, **kwargs)
        except httpx.HTTPError as e:
            raise RayUnavailableError(
                f"cannot reach the Ray dashboard at {self.url}: {_describe(e)}",
                504 if isinstance(e, httpx.TimeoutException) else 502,
            ) from e
        if response.status_code < 400:
            return response
        lines = [line for line in response.text.strip().splitlines() if line.strip()]
        detail = lines[-1].strip() if lines else response.reason_phrase
        if response.status_code == 404:
            raise NotFoundError(detail)
        if response.status_code < 500:
            raise RemoteDevError(f"the Ray dashboard refused the request: {detail}")
        raise RayUnavailableError(f"the Ray dashboard failed: {detail}")

    async def versions(self) -> tuple[str, str | None]:
        """(cluster Ray version, cluster Python version or None), both asked at once."""
        version, metadata = await asyncio.gather(
            self.call("GET", "/api/version"),
            self.call("GET", "/api/v0/cluster_metadata"),
            return_exceptions=True,
        )
        if isinstance(version, BaseException):
            raise version
        try:
            python_version = metadata.json()["data"]["pythonVersion"]
        except (AttributeError, ValueError, KeyError, TypeError):
            python_version = None  # an older dashboard without the endpoint
        return version.json()["ray_version"], python_version

    async def list_jobs(self) -> list[dict]:
        return (await self.call("GET", "/api/jobs/")).json()

    async def job(self, job_id: str) -> dict:
        return (await self.call("GET", f"/api/jobs/{quote(job_id, safe='')}")).json()

    async def logs(self, job_id: str) -> str:
        return (await self.call("GET", f"/api/jobs/{quote(job_id, safe='')}/logs")).json()["logs"]

    async def stop(self, job_id: str) -> bool:
        response = await self.call("POST", f"/api/jobs/{quote(job_id, safe='')}/stop")
        return bool(response.json().get("stopped"))

    async def submit(self, request: dict) -> dict:
        return (await self.call("POST", "/api/jobs/", json=request)).json()

    async def upload_package(self, zip_path: Path, uri: str) -> None:
        """Upload a working-dir zip as ``gcs://_ray_pkg_<hash>.zip`` unless the cluster has it."""
        path = "/api/packages/gcs/" + uri.removeprefix("gcs://")
        try:
            await self.call("GET", path)
            return
        except NotFoundError:
            pass

        async def chunks() -> AsyncIterator[bytes]:
            with open(zip_path, "rb") as f:
                while chunk := await asyncio.to_thread(f.read, 1 << 20):
                    yield chunk

        size = str(zip_path.stat().st_size)
        await self.call("PUT", path, content=chunks(), headers={"Content-Length": size})

    async def follow_logs(
        self, job_id: str, poll_interval: float, timeout: float, heartbeat: float = 15.0
    ) -> AsyncIterator[dict]:
        """Events as a job's logs grow: ``logs`` (new text), ``heartbeat`` when quiet for
        ``heartbeat`` seconds (so a gone client is noticed), then ``end`` or ``timeout``."""
        loop = asyncio.get_running_loop()
        sent, deadline, last_event = "", loop.time() + timeout, loop.time()
        while True:
            status = (await self.job(job_id)).get("status")
            logs = await self.logs(job_id)
            new = logs[len(sent) :] if logs.startswith(sent) else logs
            sent = logs
            if new:
                yield {"type": "logs", "data": new}
                last_event = loop.time()
            if status in TERMINAL_STATUSES:
                yield {"type": "end", "status": status}
                return
            if loop.time() + poll_interval > deadline:
                yield {"type": "timeout", "status": status}
                return
            if loop.time() - last_event >= heartbeat:
                yield {"type": "heartbeat", "status": status}
                last_event = loop.time()
            await asyncio.sleep(poll_interval)


async def connection_status(
    address: str,
    dashboard_url: str,
    timeout: float,
    proxied_dashboard_url: str | None = None,
) -> dict[str, Any]:
    """The ``GET ray`` answer: configuration, reachability within ``timeout``, versions, verdict."""
    local_ray, local_python = local_ray_version(), local_python_version()
    status: dict[str, Any] = {
        "configured": bool(address or dashboard_url),
        "state": "unreachable",
        "address": address or None,
        "dashboard_url": dashboard_url or None,
        "proxied_dashboard_url": proxied_dashboard_url if dashboard_url else None,
        "reachable": False,
        "cluster_ray_version": None,
        "cluster_python_version": None,
        "local_ray_version": local_ray,
        "local_python_version": local_python,
        "mismatch": False,
        "message": "",
    }
    if not status["configured"]:
        status["state"] = "not-configured"
        status["message"] = (
            "Ray is not configured: set RAY_ADDRESS (ray://<head>:10001) and "
            "JUPYTER_REMOTE_DEV_RAY_DASHBOARD_URL, or c.RemoteDevExtension.ray_address."
        )
        return status

    async def dashboard_versions() -> tuple[str, str | None] | str:
        if not dashboard_url:
            return "no dashboard URL is configured"
        async with Dashboard(dashboard_url, timeout) as dashboard:
            try:
                return await dashboard.versions()
            except RemoteDevError as e:
                return e.message

    tcp_problem, versions = await asyncio.gather(
        _tcp_reachable(address, timeout), dashboard_versions()
    )
    if tcp_problem or (dashboard_url and isinstance(versions, str)):
        problems = [f"Ray client address {address}: {tcp_problem}"] if tcp_problem else []
        problems += [versions] if isinstance(versions, str) and dashboard_url else []
        status["message"] = "; ".join(problems) + (
            ". Is the Ray cluster running, and are the address and dashboard URL right?"
        )
        return status
    if isinstance(versions, str):
        status["reachable"] = _host_port(address) is not None
        status["state"] = "reachable" if status["reachable"] else "unreachable"
        status["message"] = (
            f"The Ray client port at {address} accepts connections; set "
            "JUPYTER_REMOTE_DEV_RAY_DASHBOARD_URL to check versions and submit jobs."
        )
        return status
    cluster_ray, cluster_python = versions
    mismatch, message = version_verdict(local_ray, local_python, cluster_ray, cluster_python)
    status.update(
        reachable=True,
        state="reachable",
        cluster_ray_version=cluster_ray,
        cluster_python_version=cluster_python,
        mismatch=mismatch,
        message=message,
    )
    return status


def with_launcher_state(status: dict[str, Any], launcher: dict | None) -> dict[str, Any]:
    """``status`` told by a local launcher's record: "starting" while its head boots."""
    if status["reachable"] or not launcher:
        return status
    if launcher["state"] == "starting":
        waited = max(0, int(time.time() - float(launcher.get("since") or time.time())))
        status["state"] = "starting"
        status["message"] = (
            f"The Ray head is starting ({waited} s so far); this section turns live when it "
            "answers."
        )
    elif launcher["state"] in ("failed", "stopped") and launcher.get("message"):
        what = "failed to start" if launcher["state"] == "failed" else "stopped"
        status["message"] = f"The local Ray head {what}: {launcher['message']}"
    return status


def job_summary(job: dict) -> dict[str, Any]:
    """A dashboard job reduced to the fields the panel and CLI show."""
    summary = {field: job.get(field) for field in JOB_FIELDS}
    summary["type"] = job.get("type")
    summary["message"] = job.get("message")
    summary["owner"] = (job.get("metadata") or {}).get(OWNER_KEY)
    return summary


def _check_job_fields(body: dict[str, Any]) -> None:
    """Type-check the optional fields of a job submission: 400 naming the first wrong one."""
    for name in ("working_dir", "submission_id"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise RemoteDevError(f"{name} must be a string")
    resources = body.get("entrypoint_resources") or {}
    if not isinstance(resources, dict):
        raise RemoteDevError("entrypoint_resources must be an object of resource names to numbers")
    numbers = {
        "entrypoint_num_cpus": body.get("entrypoint_num_cpus"),
        "entrypoint_num_gpus": body.get("entrypoint_num_gpus"),
        "entrypoint_memory": body.get("entrypoint_memory"),
        **{f"entrypoint_resources[{k!r}]": v for k, v in resources.items()},
    }
    for name, value in numbers.items():
        kinds = int if name == "entrypoint_memory" else (int, float)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, kinds) or not 0 <= value < math.inf:
            raise RemoteDevError(f"{name} must be a finite number, 0 or more, got {value!r}")


def build_job_request(body: Any, owner: str) -> dict[str, Any]:
    """The dashboard submit request from our POST body (validated), tagged with the owner.

    ``working_dir`` (a server path) is handled by the caller; ``runtime_env.working_dir`` may only
    be a remote URI, since a local path there would name the head node's file system.
    """
    if not isinstance(body, dict):
        raise RemoteDevError("the body must be a JSON object")
    entrypoint = body.get("entrypoint")
    if not isinstance(entrypoint, str) or not entrypoint.strip():
        raise RemoteDevError("entrypoint is required: the shell command the job runs")
    allowed = {
        "entrypoint", "working_dir", "runtime_env", "submission_id", "metadata",
        "entrypoint_num_cpus", "entrypoint_num_gpus", "entrypoint_memory",
        "entrypoint_resources",
    }  # fmt: skip
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise RemoteDevError(f"unknown fields: {', '.join(unknown)}")
    runtime_env = body.get("runtime_env") or {}
    metadata = body.get("metadata") or {}
    if not isinstance(runtime_env, dict) or not isinstance(metadata, dict):
        raise RemoteDevError("runtime_env and metadata must be JSON objects")
    if not all(isinstance(v, str) for v in metadata.values()):
        raise RemoteDevError("metadata values must be strings")
    _check_job_fields(body)
    remote_dir = runtime_env.get("working_dir")
    if remote_dir is not None and urlsplit(str(remote_dir)).scheme not in REMOTE_URI_SCHEMES:
        raise RemoteDevError(
            "runtime_env.working_dir must be a remote URI (gcs://, s3://, https://...); for a "
            "folder on this server use the top-level working_dir field"
        )
    if body.get("working_dir") is not None and remote_dir is not None:
        raise RemoteDevError("give working_dir or runtime_env.working_dir, not both")
    request = {k: v for k, v in body.items() if k != "working_dir" and v is not None}
    request["runtime_env"] = dict(runtime_env)
    request["metadata"] = {**metadata, OWNER_KEY: owner}
    return request

"""Ray: connection status, jobs through the dashboard's REST API, and the dashboard itself.

Submitting a job runs arbitrary code on the cluster, with whatever the cluster's service account
may do: the same power a terminal gives. So ``POST ray/jobs`` is authorised on the core
``terminals`` resource (write), and an authorizer that forbids terminals forbids job submission
too. Reading status, jobs and logs, stopping a job and viewing the dashboard use ``remote_dev:ray``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import unquote_plus

import httpx
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.iostream import StreamClosedError

from ..base.handlers import RemoteDevHandler, api_path
from ..base.streaming import BodySink, StreamedBodyMixin
from ..errors import RemoteDevError
from .dashboard import (
    OWNER_KEY,
    Dashboard,
    RayUnavailableError,
    build_job_request,
    connection_status,
    job_summary,
    with_launcher_state,
)
from .launcher import read_state
from .package import package_working_dir, resolve_inside

AUTH_RESOURCE = "remote_dev:ray"
SUBMIT_RESOURCE = "terminals"
JOB_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
PROXY_REQUEST_HEADERS = ("Accept", "Accept-Encoding", "If-None-Match", "If-Modified-Since", "Range")
PROXY_RESPONSE_HEADERS = (
    "Content-Type", "Content-Encoding", "Content-Length", "Content-Range", "ETag",
    "Last-Modified", "Cache-Control",
)  # fmt: skip


class RayHandler(RemoteDevHandler):
    """Shared helpers: the configured dashboard, validated job ids, the proxied dashboard URL."""

    auth_resource = AUTH_RESOURCE

    def dashboard(self) -> Dashboard:
        return self.ray_service.dashboard()

    @staticmethod
    def checked_job_id(job_id: str) -> str:
        if not JOB_ID.match(job_id):
            raise RemoteDevError(f"not a Ray job or submission id: {job_id!r}")
        return job_id

    def proxied_dashboard_url(self) -> str:
        return url_path_join(self.base_url, api_path("ray/dashboard/"))


class RayStatusHandler(RayHandler):
    @web.authenticated
    @authorized
    async def get(self):
        ray = self.ray_service
        status = await connection_status(
            ray.address, ray.dashboard_url, ray.timeout, self.proxied_dashboard_url()
        )
        status["cluster_name"] = ray.cluster_name or None
        self.write_json(with_launcher_state(status, read_state(ray.state_file)))


class RayJobsHandler(RayHandler):
    @web.authenticated
    @authorized
    async def get(self):
        """This user's jobs, newest first (``?all=1``: every job on the cluster)."""
        everyone = self.get_argument("all", "0").lower() in ("1", "true", "yes")
        async with self.dashboard() as dashboard:
            jobs = [job_summary(job) for job in await dashboard.list_jobs()]
        if not everyone:
            jobs = [job for job in jobs if job["owner"] == self.ray_service.job_owner]
        jobs.sort(key=lambda job: job["start_time"] or 0, reverse=True)
        self.write_json({"jobs": jobs})

    @web.authenticated
    @authorized(resource=SUBMIT_RESOURCE)
    async def post(self):
        """Submit a job; ``working_dir`` (a folder under the server root) is zipped and uploaded."""
        ray = self.ray_service
        if not ray.allow_job_submission:
            raise RemoteDevError(
                "job submission is turned off (RemoteDevExtension.ray_allow_job_submission)", 403
            )
        body = self.get_json_body()
        request = build_job_request(body, ray.job_owner)
        async with self.dashboard() as dashboard:
            if body.get("working_dir") is not None:
                request["runtime_env"]["working_dir"] = await self._upload(
                    dashboard, body["working_dir"]
                )
            answer = await dashboard.submit(request)
        self.log.info("Ray job %s submitted", answer.get("submission_id"))  # not the command
        self.write_json(
            {
                "job_id": answer.get("job_id"),
                "submission_id": answer.get("submission_id"),
                "working_dir": request["runtime_env"].get("working_dir"),
            },
            status=201,
        )

    async def _upload(self, dashboard: Dashboard, working_dir: str) -> str:
        """Package the server folder ``working_dir``, upload it, and return its gcs:// URI."""
        root = Path(self.ray_service.root)
        folder = resolve_inside(root, working_dir, self.contents_manager.allow_hidden)
        ignore = list(self.files_service.ignore_patterns)
        if not self.contents_manager.allow_hidden:
            ignore.append(".*")  # hidden files (.env, keys) stay on the server
        zip_path, uri = await asyncio.to_thread(
            package_working_dir, root, folder, ignore, self.ray_service.max_working_dir_size
        )
        try:
            await dashboard.upload_package(zip_path, uri)
        finally:
            zip_path.unlink(missing_ok=True)
        return uri


@web.stream_request_body
class RayPackageHandler(StreamedBodyMixin, RayHandler):
    """PUT ray/package: a zip of a local folder, streamed to disk, then stored on the cluster.

    The answer's ``uri`` goes into a submission's ``runtime_env.working_dir``. Authentication,
    authorisation and the size limit are checked in ``prepare()``, before a byte of body is read.
    """

    async def prepare(self):
        await super().prepare()
        if self.request.method != "PUT":
            return
        await self.authorize_before_body()
        self.ray_service.checked_dashboard_url()  # 409 before the upload when Ray is off
        limit = self.ray_service.max_working_dir_size
        declared = self.request.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise RemoteDevError(
                f"package of {declared} bytes exceeds ray_max_working_dir_size ({limit})", 413
            )
        self.request.connection.set_max_body_size(limit + (1 << 20))
        self.spool = tempfile.NamedTemporaryFile(prefix="remote-dev-ray-", suffix=".zip")
        self.release = self.spool.close  # deletes the temp file
        self.digest = hashlib.sha256()
        self.sink = BodySink(self._spool, limit, True, "ray_max_working_dir_size")

    def _spool(self, chunk: bytes) -> None:
        self.spool.write(chunk)
        self.digest.update(chunk)

    @web.authenticated
    @authorized
    async def put(self):
        self.spool.flush()
        if not zipfile.is_zipfile(self.spool.name):
            raise RemoteDevError("the body is not a zip archive")
        uri = f"gcs://_ray_pkg_{self.digest.hexdigest()[:32]}.zip"
        async with self.dashboard() as dashboard:
            await dashboard.upload_package(Path(self.spool.name), uri)
        self.write_json({"uri": uri, "size": self.sink.received}, status=201)


class RayJobHandler(RayHandler):
    @web.authenticated
    @authorized
    async def get(self, job_id):
        async with self.dashboard() as dashboard:
            self.write_json(job_summary(await dashboard.job(self.checked_job_id(job_id))))


class RayJobLogsHandler(RayHandler):
    @web.authenticated
    @authorized
    async def get(self, job_id):
        """``{"logs"}``; with ``?follow=1`` an ndjson stream of events until the job ends."""
        job_id = self.checked_job_id(job_id)
        follow = self.get_argument("follow", "0").lower() in ("1", "true", "yes")
        async with self.dashboard() as dashboard:
            if not follow:
                self.write_json({"logs": await dashboard.logs(job_id)})
                return
            await dashboard.job(job_id)  # 404 as JSON before the stream starts
            self.set_header("Content-Type", "application/x-ndjson")
            self.set_header("Cache-Control", "no-cache")
            self.set_header("X-Accel-Buffering", "no")  # nginx ingress: do not buffer the stream
            ray = self.ray_service
            events = dashboard.follow_logs(job_id, ray.log_poll_interval, ray.log_follow_timeout)
            try:
                try:
                    async for event in events:
                        self.write(json.dumps(event) + "\n")
                        await self.flush()
                except RemoteDevError as e:
                    self.write(json.dumps({"type": "error", "message": e.message}) + "\n")
            except StreamClosedError:
                return  # the client went away; the job itself keeps running
            finally:
                await events.aclose()
        self.finish(set_content_type="application/x-ndjson")


class RayJobStopHandler(RayHandler):
    @web.authenticated
    @authorized
    async def post(self, job_id):
        """Stop a job; refused for a job recorded as submitted by another user."""
        job_id = self.checked_job_id(job_id)
        owner = self.ray_service.job_owner
        async with self.dashboard() as dashboard:
            recorded = ((await dashboard.job(job_id)).get("metadata") or {}).get(OWNER_KEY)
            if recorded and recorded != owner:
                raise RemoteDevError(f"job {job_id} belongs to {recorded}, not {owner}", 403)
            self.write_json({"stopped": await dashboard.stop(job_id)})


class RayDashboardRedirectHandler(RayHandler):
    @web.authenticated
    @authorized
    def get(self):
        self.redirect(self.proxied_dashboard_url())


class RayDashboardProxyHandler(RayHandler):
    """The Ray dashboard, read-only (GET/HEAD), under this server's URL and its authentication.

    The Jupyter token or cookie is checked here and never forwarded; the dashboard itself needs no
    ingress. Mutating dashboard calls (POST/PUT/DELETE) are not proxied: jobs go through the
    endpoints above, with their authorisation.
    """

    @property
    def content_security_policy(self) -> str:
        return JupyterHandler.content_security_policy.fget(self)  # a page, not JSON

    @web.authenticated
    @authorized
    async def get(self, path):
        await self._proxy(path)

    @web.authenticated
    @authorized
    async def head(self, path):
        await self._proxy(path)

    async def _proxy(self, path: str) -> None:
        base = self.ray_service.checked_dashboard_url()
        query = "&".join(  # a ?token= that authenticated this request stays here
            pair
            for pair in self.request.query.split("&")
            if pair and unquote_plus(pair.split("=", 1)[0]) != "token"
        )
        target = httpx.URL(f"{base}/{path}", query=query.encode())
        if target.netloc != httpx.URL(base).netloc or ".." in path.split("/"):
            raise RemoteDevError(f"not a dashboard path: {path!r}")
        headers = {
            k: self.request.headers[k] for k in PROXY_REQUEST_HEADERS if k in self.request.headers
        }
        timeout = httpx.Timeout(self.ray_service.request_timeout)
        try:
            async with httpx.AsyncClient(timeout=timeout) as http:
                async with http.stream(self.request.method, target, headers=headers) as upstream:
                    self.set_status(upstream.status_code, upstream.reason_phrase or None)
                    for name in PROXY_RESPONSE_HEADERS:
                        if name in upstream.headers:
                            self.set_header(name, upstream.headers[name])
                    location = upstream.headers.get("Location", "")
                    if location.startswith("/"):
                        self.set_header("Location", self.proxied_dashboard_url() + location[1:])
                    async for chunk in upstream.aiter_raw():
                        self.write(chunk)
                        await self.flush()
        except httpx.HTTPError as e:
            raise RayUnavailableError(f"cannot reach the Ray dashboard at {base}: {e}") from e
        except StreamClosedError:
            return
        self.finish(set_content_type=self._headers.get("Content-Type", "text/plain"))


default_handlers = [
    (api_path("ray"), RayStatusHandler),
    (api_path("ray/jobs"), RayJobsHandler),
    (api_path("ray/package"), RayPackageHandler),
    (api_path("ray/jobs/([^/]+)"), RayJobHandler),
    (api_path("ray/jobs/([^/]+)/logs"), RayJobLogsHandler),
    (api_path("ray/jobs/([^/]+)/stop"), RayJobStopHandler),
    (api_path("ray/dashboard"), RayDashboardRedirectHandler),
    (api_path("ray/dashboard/(.*)"), RayDashboardProxyHandler),
]

"""``jupyter remote-dev ray``: submit, list, follow and stop Ray jobs through the Jupyter server.

The laptop needs no access to the cluster: every call goes to the server's ``remote-dev/api/ray``
endpoints with the profile's URL and token, and the server talks to the Ray dashboard.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from datetime import datetime
from pathlib import Path

from traitlets import Bool, Float, Int, Unicode

from ...cliapp import SubcommandApp, described
from ...errors import RemoteDevError
from ...files.manifest import DEFAULT_IGNORE_PATTERNS
from ...ray.package import package_working_dir
from ..api import RemoteDevClient
from ..errors import ClientError
from ..sync.state import StateError, SyncState, find_root
from .base import JSON_FLAG, START_FLAG, CommandLineError, RemoteDevCommand

TERMINAL = {"STOPPED", "SUCCEEDED", "FAILED"}
UPLOAD_LIMIT = 1024**3  # the server applies its own, smaller, ray_max_working_dir_size


class RayCommand(RemoteDevCommand):
    """The shared CLI base (profile, errors, --json) plus a client for the profile."""

    flags = {**RemoteDevCommand.flags, **START_FLAG}

    def client(self) -> RemoteDevClient:
        """A client for the folder's profile whose server answered (see folder_client)."""
        return self.folder_client()

    def fail(self, message: str) -> None:
        raise ClientError(message)

    def follow(self, client: RemoteDevClient, job_id: str) -> int:
        """Print a job's logs as they come; 0 if it succeeded, 1 if not, 2 if the stream ended."""
        url = client.api_url(f"ray/jobs/{job_id}/logs")
        try:
            with client.stream("GET", url, params={"follow": "1"}, timeout=None) as response:
                for line in response.iter_lines():
                    if not line:
                        continue
                    event = json.loads(line)
                    if event["type"] == "logs":
                        sys.stdout.write(event["data"])
                        sys.stdout.flush()
                    elif event["type"] == "end":
                        print(f"--- job {job_id} {event['status']}", file=sys.stderr)
                        return 0 if event["status"] == "SUCCEEDED" else 1
                    elif event["type"] in ("timeout", "error"):
                        detail = event.get("message") or "the follow time limit passed"
                        print(f"--- stopped following job {job_id}: {detail}", file=sys.stderr)
                        return 2
        except KeyboardInterrupt:
            print(
                f"\n--- job {job_id} keeps running; stop it with "
                f"`jupyter remote-dev ray stop {job_id}`",
                file=sys.stderr,
            )
            return 130
        print(
            f"--- the log stream of job {job_id} ended early; the job may still run",
            file=sys.stderr,
        )
        return 2


class RayStatusApp(RayCommand):
    """Ray cluster status through the server: address, reachability, versions.

    Exits 0 when jobs can run, 1 when Ray is not configured, unreachable or of another version.
    """

    name = "jupyter-remote-dev-ray-status"
    description = __doc__
    flags = {**RayCommand.flags, **JSON_FLAG}

    def run(self) -> int:
        with self.client() as client:
            status = client.request("GET", client.api_url("ray"), idempotent=True).json()
        if self.json_output:
            print(json.dumps(status, indent=2))
        else:
            for line in describe_ray_status(status):
                print(line)
        return 0 if status.get("reachable") and not status.get("mismatch") else 1


def describe_ray_status(status: dict) -> list[str]:
    """Human lines for a ``GET ray`` answer."""
    if not status.get("configured"):
        return [
            "not configured: set RAY_ADDRESS (ray://<head>:10001) and "
            "JUPYTER_REMOTE_DEV_RAY_DASHBOARD_URL on the server "
            "(or c.RemoteDevExtension.ray_address)"
        ]
    name = f" {status['cluster_name']}" if status.get("cluster_name") else ""
    state = "reachable" if status.get("reachable") else "unreachable"
    if status.get("mismatch"):
        state = "reachable, but the versions differ"
    lines = [f"cluster{name}: {state}", f"address: {status.get('address') or '-'}"]
    if status.get("dashboard_url"):
        lines.append(
            f"dashboard: {status['dashboard_url']} (through the server: "
            f"{status.get('proxied_dashboard_url') or '-'})"
        )
    if status.get("cluster_ray_version"):
        lines.append(
            f"versions: cluster Ray {status['cluster_ray_version']}, Python "
            f"{status.get('cluster_python_version') or '?'}; server Ray "
            f"{status.get('local_ray_version') or 'not installed'}, Python "
            f"{status.get('local_python_version')}"
        )
    if status.get("message"):
        lines.append(status["message"])
    return lines


class RaySubmitApp(RayCommand):
    """Submit a job; everything from CMD on is the job's entrypoint."""

    name = "jupyter-remote-dev-ray-submit"
    description = __doc__
    synopsis = "[--working-dir=DIR | --upload=DIR] [OPTIONS] CMD [ARGS...]"
    command_at_first_word = True
    working_dir = Unicode(
        None,
        allow_none=True,
        config=True,
        help="""Folder on the server (relative to its root) uploaded as the job's working dir.
        Default: the remote folder of the synced folder you are in (run `sync` first), else
        none.""",
    )
    upload = Unicode(
        None,
        allow_none=True,
        config=True,
        help="""Local folder zipped and uploaded through the server as the job's working dir
        (dot-files and the sync's ignore patterns left out).""",
    )
    runtime_env_json = Unicode(
        "", config=True, help="""Ray runtime_env as JSON, e.g. '{"pip": ["numpy"]}'."""
    )
    submission_id = Unicode(
        "", config=True, help="Your own submission id (default: Ray picks one)."
    )
    num_cpus = Float(0.0, config=True, help="CPUs reserved for the entrypoint (0: Ray's default).")
    num_gpus = Int(0, config=True, help="GPUs reserved for the entrypoint.")
    no_wait = Bool(
        False, config=True, help="Return after submitting instead of following the logs."
    )
    aliases = {
        **RayCommand.aliases,
        "working-dir": "RaySubmitApp.working_dir",
        "upload": "RaySubmitApp.upload",
        "runtime-env-json": "RaySubmitApp.runtime_env_json",
        "submission-id": "RaySubmitApp.submission_id",
        "num-cpus": "RaySubmitApp.num_cpus",
        "num-gpus": "RaySubmitApp.num_gpus",
    }
    flags = {
        **RayCommand.flags,
        "no-wait": ({"RaySubmitApp": {"no_wait": True}}, "Do not follow the job's logs."),
    }

    def default_working_dir(self) -> str | None:
        root = find_root(Path.cwd())
        if root is None:
            return None
        try:
            return SyncState.load(root).remote_dir
        except StateError:
            return None

    def upload_folder(self, client: RemoteDevClient, folder: Path) -> str:
        """Zip a local folder, upload it through the server, and return its package URI."""
        if not folder.is_dir():
            self.fail(f"--upload {folder}: not a folder")
        ignore = [*client.info().get("ignore_patterns", DEFAULT_IGNORE_PATTERNS), ".*"]
        try:
            zip_path, _ = package_working_dir(folder, folder, ignore, UPLOAD_LIMIT)
        except RemoteDevError as e:
            self.fail(e.message)
        try:
            with open(zip_path, "rb") as f:
                headers = {"Content-Type": "application/zip"}
                url = client.api_url("ray/package")
                answer = client.request("PUT", url, content=f, headers=headers).json()
        finally:
            zip_path.unlink()
        print(f"uploaded {folder} ({answer['size']} bytes zipped)", file=sys.stderr)
        return answer["uri"]

    def run(self) -> int:
        argv = list(self.extra_args)
        if not argv:
            raise CommandLineError(f"nothing to run: {self.usage}")
        entrypoint = shlex.join(argv)  # Ray runs the entrypoint through a shell
        try:
            runtime_env = json.loads(self.runtime_env_json or "{}")
        except ValueError as e:
            self.fail(f"--runtime-env-json is not JSON: {e}")
        body: dict = {"entrypoint": entrypoint, "runtime_env": runtime_env}
        if self.upload is not None and self.working_dir is not None:
            self.fail("give --upload (a local folder) or --working-dir (a server folder), not both")
        working_dir = None if self.upload is not None else self.working_dir
        if working_dir is None and self.upload is None:
            working_dir = self.default_working_dir()
        if working_dir is not None:
            body["working_dir"] = working_dir
        if self.submission_id:
            body["submission_id"] = self.submission_id
        if self.num_cpus:
            body["entrypoint_num_cpus"] = self.num_cpus
        if self.num_gpus:
            body["entrypoint_num_gpus"] = self.num_gpus
        with self.client() as client:
            if self.upload is not None:
                body["runtime_env"]["working_dir"] = self.upload_folder(client, Path(self.upload))
            answer = client.request("POST", client.api_url("ray/jobs"), json=body).json()
            job_id = answer["submission_id"]
            where = f"{working_dir or '/'!r} on the server" if working_dir is not None else "none"
            where = answer.get("working_dir") if self.upload is not None else where
            print(f"submitted {job_id} (working dir: {where})", file=sys.stderr)
            print(job_id)
            if self.no_wait:
                return 0
            return self.follow(client, job_id)


class RayJobsApp(RayCommand):
    """List your Ray jobs (--all: every job on the cluster)."""

    name = "jupyter-remote-dev-ray-jobs"
    description = __doc__
    all = Bool(False, config=True, help="List every job on the cluster, not only yours.")
    flags = {
        **RayCommand.flags,
        **JSON_FLAG,
        "all": ({"RayJobsApp": {"all": True}}, "List every job on the cluster."),
    }

    def run(self) -> int:
        with self.client() as client:
            params = {"all": "1"} if self.all else {}
            jobs = client.request(
                "GET", client.api_url("ray/jobs"), params=params, idempotent=True
            ).json()["jobs"]
        if self.json_output:
            print(json.dumps(jobs, indent=2))
            return 0
        for job in jobs:
            started = job.get("start_time")
            when = (
                datetime.fromtimestamp(started / 1000).isoformat(" ", "seconds") if started else "-"
            )
            ident = job.get("submission_id") or job.get("job_id")
            status = job.get("status") or "-"
            print(f"{ident:<32} {status:<10} {when:<20} {job.get('entrypoint') or ''}")
        if not jobs:
            print("no jobs", file=sys.stderr)
        return 0


class RayLogsApp(RayCommand):
    """Print a job's logs (--follow: until it ends)."""

    name = "jupyter-remote-dev-ray-logs"
    description = __doc__
    synopsis = "ID [--follow]"
    follow_logs = Bool(False, config=True, help="Keep printing until the job ends.")
    flags = {
        **RayCommand.flags,
        "follow": ({"RayLogsApp": {"follow_logs": True}}, "Follow until the job ends."),
    }

    def run(self) -> int:
        job_id = _one_id(self)
        with self.client() as client:
            if self.follow_logs:
                return self.follow(client, job_id)
            url = client.api_url(f"ray/jobs/{job_id}/logs")
            sys.stdout.write(client.request("GET", url, idempotent=True).json()["logs"])
        return 0


class RayStopApp(RayCommand):
    """Stop a job."""

    name = "jupyter-remote-dev-ray-stop"
    description = __doc__
    synopsis = "ID"

    def run(self) -> int:
        job_id = _one_id(self)
        with self.client() as client:
            stopped = client.request("POST", client.api_url(f"ray/jobs/{job_id}/stop")).json()
            if not stopped["stopped"]:
                print(f"job {job_id} was not running", file=sys.stderr)
                return 0
            for _ in range(20):  # show the final state when it comes quickly
                status = client.request(
                    "GET", client.api_url(f"ray/jobs/{job_id}"), idempotent=True
                ).json()["status"]
                if status in TERMINAL:
                    break
                time.sleep(0.5)
        print(f"job {job_id}: {status}")
        return 0


class RayApp(SubcommandApp):
    """Ray through the Jupyter server: status, submit, jobs, logs, stop."""

    name = "jupyter-remote-dev-ray"
    description = __doc__
    subcommands = described(
        status=RayStatusApp, submit=RaySubmitApp, jobs=RayJobsApp, logs=RayLogsApp, stop=RayStopApp
    )


def _one_id(app: RayCommand) -> str:
    if len(app.extra_args) != 1:
        app.fail("give exactly one job id (see `jupyter remote-dev ray jobs`)")
    return app.extra_args[0]

"""The remote-dev server extension: configuration, route table and background lifecycle."""

from __future__ import annotations

import os

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, Int, List, TraitError, Unicode, default, validate

from . import __version__
from .gitsync.config import DEFAULT_EXCLUDE as DEFAULT_GIT_EXCLUDE
from .handlers import batch, cost, exec_, files, git, info, ray, tree


class RemoteDevExtension(ExtensionApp):
    """Authenticated REST endpoints for a local IDE: files, trees, exec, git sync, cost and Ray."""

    name = "remote_dev"
    version = __version__
    description = __doc__
    load_other_extensions = True

    # ----- files and trees -----
    _upload_sweeper = None
    max_upload_size = Int(
        10 * 1024**3,
        config=True,
        help="""Largest body accepted by PUT files/ and POST batch, in bytes.

        Decided from Content-Length before a byte of body is read; a chunked body is cut off as soon
        as it passes the limit. An ingress in front of the hub may impose a smaller limit of its own
        (nginx: proxy-body-size).""",
    )
    ignore_patterns = List(
        Unicode(),
        default_value=[".git", ".ipynb_checkpoints", "__pycache__", ".jupyter-remote-dev"],
        config=True,
        help="""Glob patterns (fnmatch, matched against each path component and against the whole
        relative path) left out of tree manifests.""",
    )
    upload_expiry = Float(
        24 * 3600.0,
        config=True,
        help="Seconds after which an abandoned partial (resumable) upload is deleted.",
    )

    # ----- exec -----
    allow_exec = Bool(
        True,
        config=True,
        help="""Allow POST exec. Turn off to make the server files-only; exec is also bound by the
        authorizer's rules for the 'terminals' resource.""",
    )
    max_concurrent_exec = Int(
        8,
        config=True,
        help="How many commands may run at once; more answer 429.",
    )
    exec_shell = List(
        Unicode(),
        config=True,
        help="""argv prefix that runs a POST exec "shell" command line (the line is appended).
        Default: ["/bin/bash", "-c"] where bash exists, else ["/bin/sh", "-c"]. A login shell
        (["/bin/bash", "-lc"]) reads profiles, e.g. conda activation, at a start-up cost.""",
    )
    exec_heartbeat_interval = Float(
        15.0,
        config=True,
        help="""Seconds of silence after which an exec stream sends a {"type": "heartbeat"} line,
        so proxies with idle timeouts (an nginx ingress cuts at 60 s) keep a quiet job's stream
        open. Also how often a running command marks the server active for the idle culler.""",
    )
    exec_kill_grace = Float(
        5.0,
        config=True,
        help="""Seconds between SIGTERM and SIGKILL when a command's process group is stopped
        (client disconnect, timeout, DELETE exec/<id>, server shutdown, or leftovers after the
        command itself exited).""",
    )
    exec_max_timeout = Float(
        0.0,
        config=True,
        help="""Longest run time, in seconds, a command may ask for; also the timeout of a command
        that asks for none. 0 means no limit.""",
    )
    exec_output_buffer = Int(
        2 * 1024**2,
        config=True,
        help="""Bytes of output each command may hold in memory. While a client reads, a full
        buffer pauses the command's output (backpressure); while none does (a detached job), the
        oldest output is dropped, so a reattaching client sees the most recent this many bytes.""",
    )
    exec_retention = Float(
        3600.0,
        config=True,
        help="""Seconds a finished detachable command's last output and exit status are kept for
        a client that reattaches (GET exec/<id>); collected at once when a client read the exit.""",
    )

    @default("exec_shell")
    def _exec_shell_default(self):
        return ["/bin/bash", "-c"] if os.path.exists("/bin/bash") else ["/bin/sh", "-c"]

    @validate("exec_max_timeout")
    def _exec_max_timeout_valid(self, proposal):
        if proposal.value < 0:
            raise ValueError(f"exec_max_timeout must be 0 (no limit) or more, got {proposal.value}")
        return proposal.value

    @validate("exec_shell")
    def _exec_shell_valid(self, proposal):
        if not proposal.value:
            raise ValueError("exec_shell must name a program, e.g. ['/bin/sh', '-c']")
        return proposal.value

    _exec_jobs = None

    @property
    def exec_jobs(self):
        """The server's :class:`~jupyter_remote_dev.exec_jobs.JobRegistry` (made on first use)."""
        if self._exec_jobs is None:
            from .exec_jobs import JobRegistry

            self._exec_jobs = JobRegistry(
                max_running=self.max_concurrent_exec,
                output_buffer=self.exec_output_buffer,
                kill_grace=self.exec_kill_grace,
                retention=self.exec_retention,
                activity_interval=self.exec_heartbeat_interval,
                on_activity=self._mark_exec_activity,
            )
        return self._exec_jobs

    def _mark_exec_activity(self):
        from jupyter_server._tz import utcnow

        # the server counts every "*_last_activity" setting (ServerWebApplication.last_activity)
        self.serverapp.web_app.settings["remote_dev_exec_last_activity"] = utcnow()

    # ----- cost -----
    cost_backend = Unicode(
        config=True,
        help="""Where spend comes from: 'kubecost' or 'opencost'; empty means the spend panel shows
        "not configured". Default: $JUPYTER_REMOTE_DEV_COST_BACKEND (set by the hub hooks).""",
    )
    cost_url = Unicode(
        config=True,
        help="""Base URL of the cost backend, without /allocation. Kubecost through its frontend:
        http://kubecost-cost-analyzer.kubecost:9090/model (the cost-model container directly:
        http://<pod>:9003); OpenCost: http://opencost.opencost:9003. Never shown with credentials.
        Default: $JUPYTER_REMOTE_DEV_COST_URL.""",
    )
    cost_label = Unicode(
        config=True,
        help="""The pod label the backend aggregates users by (the hub hooks put it on the user pod,
        its volumes and any Ray cluster started for the user). Sanitised the Prometheus way
        ('hub.jupyter.org/username' -> 'hub_jupyter_org_username') before it is sent.
        Default: $JUPYTER_REMOTE_DEV_COST_LABEL, else 'owner' (a label Kubecost maps by
        default).""",
    )
    cost_user = Unicode(
        config=True,
        help="""This server's value of cost_label: the escaped value the hub hooks labelled the pod
        with. The spend shown is always this user's, never one named by a request.
        Default: $JUPYTER_REMOTE_DEV_COST_USER.""",
    )
    cost_currency = Unicode(
        "USD",
        config=True,
        help="""ISO 4217 code of the backend's prices (the allocation API does not report it),
        used to format amounts in the panel.""",
    )
    cost_request_timeout = Float(
        10.0,
        config=True,
        help="Seconds a cost backend request may take in all; slower answers 504 with the reason.",
    )
    cost_cache_ttl = Float(
        300.0,
        config=True,
        help="""Seconds a spend report is served from memory. However many panels refresh at
        once, each window costs the backend one call per this period (Kubecost's ETL refreshes
        hourly).""",
    )
    cost_includes_ray = Bool(
        config=True,
        help="""Whether the reported spend includes the user's own Ray cluster (true when the hub
        started a per-user RayCluster carrying the user's cost label). Default: true when
        $JUPYTER_REMOTE_DEV_RAY_CLUSTER is set.""",
    )

    @default("cost_backend")
    def _cost_backend_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_COST_BACKEND", "").strip().lower()

    @default("cost_url")
    def _cost_url_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_COST_URL", "")

    @default("cost_label")
    def _cost_label_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_COST_LABEL") or "owner"

    @default("cost_user")
    def _cost_user_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_COST_USER", "")

    @default("cost_includes_ray")
    def _cost_includes_ray_default(self):
        return bool(os.environ.get("JUPYTER_REMOTE_DEV_RAY_CLUSTER"))

    @validate("cost_backend")
    def _cost_backend_lower(self, proposal):
        return proposal.value.strip().lower()

    # ----- ray -----
    ray_address = Unicode(
        config=True,
        help="""Ray Client address of the user's cluster, e.g.
        ray://<cluster>-head-svc.<namespace>.svc.cluster.local:10001 (what ray.init() reads from
        RAY_ADDRESS). Shown in the panel and probed for reachability. Default: $RAY_ADDRESS (set by
        the hub hooks).""",
    )
    ray_dashboard_url = Unicode(
        config=True,
        help="""Base URL of the Ray dashboard (port 8265), used for the version check, job
        submission and the proxied dashboard. Default: $JUPYTER_REMOTE_DEV_RAY_DASHBOARD_URL, else
        http://<host of ray_address>:8265 when ray_address is a ray:// URL (KubeRay's layout).""",
    )
    ray_cluster_name = Unicode(
        config=True,
        help="""Name of the user's RayCluster, for display only.
        Default: $JUPYTER_REMOTE_DEV_RAY_CLUSTER.""",
    )
    ray_timeout = Float(
        3.0,
        config=True,
        help="""Seconds GET ray waits for the client port and the dashboard before it reports the
        cluster unreachable (both are probed at once, so the answer comes within this bound).""",
    )
    ray_request_timeout = Float(
        30.0,
        config=True,
        help="""Seconds a Jobs API or proxied dashboard request may take; slower answers 504.""",
    )
    ray_log_poll_interval = Float(
        1.0,
        config=True,
        help="""Seconds between polls of a job's logs while GET ray/jobs/<id>/logs?follow=1
        streams them.""",
    )
    ray_log_follow_timeout = Float(
        6 * 3600.0,
        config=True,
        help="""Longest a log-follow stream stays open; it then ends with a "timeout" event (the
        job keeps running; follow again to continue).""",
    )
    ray_max_working_dir_size = Int(
        100 * 1024**2,
        config=True,
        help="""Largest working_dir (total file bytes before compression) a job submission may
        upload to the cluster. Ray keeps packages in its GCS, which refuses more than 512 MiB;
        put data sets in object storage instead.""",
    )
    ray_allow_job_submission = Bool(
        True,
        config=True,
        help="""Allow POST ray/jobs. A job runs arbitrary code on the cluster, so submission is
        also bound by the authorizer's rules for the 'terminals' resource.""",
    )
    ray_job_owner = Unicode(
        config=True,
        help="""Name recorded in the metadata of jobs submitted through this server; GET ray/jobs
        lists that owner's jobs (?all=1 lists every job) and stop refuses jobs recorded for another
        owner. Default: $JUPYTERHUB_USER, else the local user name.""",
    )

    @default("ray_address")
    def _ray_address_default(self):
        return os.environ.get("RAY_ADDRESS", "").strip()

    @default("ray_dashboard_url")
    def _ray_dashboard_url_default(self):
        from .ray import default_dashboard_url

        url = os.environ.get("JUPYTER_REMOTE_DEV_RAY_DASHBOARD_URL", "").strip()
        return url or default_dashboard_url(self.ray_address)

    @default("ray_cluster_name")
    def _ray_cluster_name_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_RAY_CLUSTER", "")

    @default("ray_job_owner")
    def _ray_job_owner_default(self):
        import getpass

        try:
            return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()
        except (KeyError, OSError):  # a uid without a passwd entry, as in some images
            return f"uid-{os.getuid()}"

    @validate("ray_dashboard_url")
    def _ray_dashboard_url_valid(self, proposal):
        from urllib.parse import urlsplit

        parts = urlsplit(proposal.value)
        if proposal.value and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise ValueError(f"ray_dashboard_url must be an http(s) URL, got {proposal.value!r}")
        if parts.username or parts.password:
            raise ValueError("ray_dashboard_url must not carry credentials")
        return proposal.value.rstrip("/")

    # ----- git sync -----
    git_repo = Unicode(
        config=True,
        help="""Repository the workspace syncs with: an https:// URL (credentials never in it; see
        git_token_file), ssh://, file:// or an absolute path. Empty turns git sync off. URLs
        starting with '-' and '<transport>::' helpers such as ext:: are refused at start-up.
        Default: $JUPYTER_REMOTE_DEV_GIT_REPO (set by the hub hooks).""",
    )
    git_upstream = Unicode(
        config=True,
        help="""Branch of git_repo merged into the sync branch on every cycle (e.g. 'main'); empty
        merges only the sync branch. Default: $JUPYTER_REMOTE_DEV_GIT_UPSTREAM.""",
    )
    git_sync_branch = Unicode(
        config=True,
        help="""The per-user branch the workspace is committed to and pushed to (never
        force-pushed). '{username}' is replaced by the user's name made ref-safe. Default:
        $JUPYTER_REMOTE_DEV_GIT_SYNC_BRANCH, else 'remote-dev/{username}'.""",
    )
    git_workspace = Unicode(
        config=True,
        help="""Folder of the working tree, absolute or relative to the server's root_dir.
        Default: $JUPYTER_REMOTE_DEV_GIT_WORKSPACE, else the root_dir itself.""",
    )
    git_interval = Float(
        config=True,
        help="""Seconds between automatic cycles; 0 turns the timer off (POST git/sync and the
        final cycle at shutdown still run). Default: $JUPYTER_REMOTE_DEV_GIT_INTERVAL, else 300.""",
    )
    git_max_file_size = Int(
        50 * 1024**2,
        config=True,
        help="""Files larger than this many bytes are never committed automatically; they stay in
        the workspace and are listed under 'skipped' in git/status. GitHub refuses files over
        100 MB and warns above 50 MB.""",
    )
    git_include = List(
        Unicode(),
        config=True,
        help="""Glob patterns (git pathspec glob syntax, relative to the workspace) of the files
        auto-committed; empty means everything .gitignore does not exclude.""",
    )
    git_exclude = List(
        Unicode(),
        default_value=list(DEFAULT_GIT_EXCLUDE),
        config=True,
        help="""Glob patterns never auto-committed, on top of .gitignore. A bare name such as
        '.ipynb_checkpoints' also matches that folder at any depth. The defaults keep caches and
        per-user state out even when the workspace is the home folder itself.""",
    )
    git_http_username = Unicode(
        config=True,
        help="""HTTP user name sent with the token. Default: $JUPYTER_REMOTE_DEV_GIT_USERNAME,
        else 'x-access-token' (GitHub App tokens; GitLab accepts any name with a token).""",
    )
    git_token_file = Unicode(
        config=True,
        help="""File holding the access token (e.g. a mounted Secret), read by git's askpass
        helper at each fetch/push, so a rotated token is picked up. The token may instead come
        from $JUPYTER_REMOTE_DEV_GIT_TOKEN; it is deliberately not a config option, and is never
        written to .git/config, remote URLs, logs or status. Default:
        $JUPYTER_REMOTE_DEV_GIT_TOKEN_FILE.""",
    )
    git_author_name = Unicode(
        config=True,
        help="""Author and committer name of automatic commits. Default:
        $JUPYTER_REMOTE_DEV_GIT_AUTHOR_NAME, else the user name.""",
    )
    git_author_email = Unicode(
        config=True,
        help="""Author and committer e-mail of automatic commits. Default:
        $JUPYTER_REMOTE_DEV_GIT_AUTHOR_EMAIL, else <user>@remote-dev.invalid.""",
    )
    git_stop_timeout = Float(
        60.0,
        config=True,
        help="""Longest the server waits at shutdown for the final sync cycle (and for a running
        one to finish first). Keep it below the pod's terminationGracePeriodSeconds.""",
    )

    @default("git_repo")
    def _git_repo_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_GIT_REPO", "").strip()

    @default("git_upstream")
    def _git_upstream_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_GIT_UPSTREAM", "").strip()

    @default("git_sync_branch")
    def _git_sync_branch_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_GIT_SYNC_BRANCH", "").strip() or (
            "remote-dev/{username}"
        )

    @default("git_workspace")
    def _git_workspace_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_GIT_WORKSPACE", "").strip()

    @default("git_interval")
    def _git_interval_default(self):
        text = os.environ.get("JUPYTER_REMOTE_DEV_GIT_INTERVAL", "").strip() or "300"
        try:
            return float(text)
        except ValueError:
            raise TraitError(f"JUPYTER_REMOTE_DEV_GIT_INTERVAL is not a number: {text!r}") from None

    @default("git_http_username")
    def _git_http_username_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_GIT_USERNAME", "").strip() or "x-access-token"

    @default("git_token_file")
    def _git_token_file_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_GIT_TOKEN_FILE", "").strip()

    @default("git_author_name")
    def _git_author_name_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_GIT_AUTHOR_NAME", "").strip() or _user_name()

    @default("git_author_email")
    def _git_author_email_default(self):
        email = os.environ.get("JUPYTER_REMOTE_DEV_GIT_AUTHOR_EMAIL", "").strip()
        return email or f"{_user_name()}@remote-dev.invalid"

    @validate("git_repo", "git_upstream", "git_sync_branch", "git_include", "git_exclude")
    def _git_safe(self, proposal):
        from .gitsync import config as gitsync_config
        from .gitsync.errors import GitSyncConfigError

        value, name = proposal.value, proposal.trait.name
        try:
            if name == "git_repo" and value:
                gitsync_config.validate_repo_url(value)
            elif name == "git_upstream" and value:
                gitsync_config.validate_branch(value, "upstream branch")
            elif name == "git_sync_branch":
                gitsync_config.validate_branch(value.replace("{username}", "user"), "sync branch")
            elif name in ("git_include", "git_exclude"):
                for pattern in value:
                    gitsync_config.validate_pattern(pattern)
        except GitSyncConfigError as error:
            raise TraitError(f"RemoteDevExtension.{name}: {error.message}") from None
        return value

    @validate("git_interval", "git_stop_timeout")
    def _git_non_negative(self, proposal):
        if proposal.value < 0:
            raise TraitError(f"{proposal.trait.name} must not be negative, got {proposal.value}")
        return proposal.value

    _git_service = None

    @property
    def git_sync_service(self):
        """The :class:`~jupyter_remote_dev.gitsync.service.SyncService` (created on first use)."""
        if self._git_service is None:
            from .gitsync import GitSync, SyncSettings
            from .gitsync.config import expand_sync_branch
            from .gitsync.service import SyncService

            root = os.path.expanduser(self.serverapp.root_dir)
            workspace = os.path.normpath(os.path.join(root, self.git_workspace))
            sync = None
            if self.git_repo:
                settings = SyncSettings(
                    repo=self.git_repo,
                    workspace=workspace,
                    sync_branch=expand_sync_branch(self.git_sync_branch, _user_name()),
                    upstream=self.git_upstream or None,
                    interval=self.git_interval,
                    max_file_size=self.git_max_file_size,
                    include=tuple(self.git_include),
                    exclude=tuple(self.git_exclude),
                    http_username=self.git_http_username,
                    token_file=self.git_token_file or None,
                    author_name=self.git_author_name,
                    author_email=self.git_author_email,
                )
                sync = GitSync(settings, logger=self.log)
            self._git_service = SyncService(sync, self.git_interval, workspace, self.log)
        return self._git_service

    @validate(
        "max_upload_size",
        "max_concurrent_exec", "exec_heartbeat_interval", "exec_kill_grace", "exec_output_buffer",
        "exec_retention",
        "cost_request_timeout", "cost_cache_ttl",
        "ray_timeout", "ray_request_timeout", "ray_log_poll_interval", "ray_log_follow_timeout",
        "ray_max_working_dir_size",
        "git_max_file_size",
    )  # fmt: skip
    def _positive(self, proposal):
        """Sizes, counts, intervals and timeouts of every area must be above zero."""
        if proposal.value <= 0:
            raise TraitError(f"{proposal.trait.name} must be positive, got {proposal.value}")
        return proposal.value

    def initialize_handlers(self):
        for module in (files, tree, batch, exec_, info, cost, ray, git):
            self.handlers.extend(module.default_handlers)

    def initialize_settings(self):
        self.settings["remote_dev_config"] = self

    def feature_flags(self) -> dict[str, bool]:
        """What this server offers, for GET info and the clients."""
        return {
            "files": True,
            "batch": True,
            "resumable_uploads": True,
            "exec": self.allow_exec,
            "cost": bool(self.cost_backend),
            "ray": bool(self.ray_address or self.ray_dashboard_url),
            "git": bool(self.git_repo),
        }

    async def _start_jupyter_server_extension(self, serverapp):
        """Background work once the event loop runs: the git sync timer."""
        self.git_sync_service.start_timer()
        self._upload_sweeper = files.start_upload_sweeper(serverapp.web_app.settings)

    async def stop_extension(self):
        """Server shutdown: stop every running command (SIGTERM, SIGKILL after the grace)."""
        if self._exec_jobs is not None:
            await self._exec_jobs.shutdown()
        if self._git_service is not None:  # one last git sync cycle, bounded in time
            await self._git_service.stop(timeout=self.git_stop_timeout)
        if self._upload_sweeper is not None:  # abandoned resumable uploads
            self._upload_sweeper.cancel()


def _user_name() -> str:
    """The server's user: $JUPYTERHUB_USER under JupyterHub, else the local account name."""
    import getpass

    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()

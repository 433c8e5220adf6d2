"""The remote-dev server extension: the table of contents of the server side.

One package per capability, as jupyter_server lays out ``services/<area>/``: core modules (no
tornado), ``handlers.py`` and a ``settings.py`` mixin together. The mixins' traits are configured as
``c.RemoteDevExtension.<name>``.

- :mod:`~jupyter_remote_dev.files`: push/pull, resumable uploads, batch uploads, tree manifests
- :mod:`~jupyter_remote_dev.exec`: remote commands with streamed output and detachable jobs
- :mod:`~jupyter_remote_dev.gitsync`: two-way Git sync of the workspace
- :mod:`~jupyter_remote_dev.cost`: the user's spend from Kubecost or OpenCost
- :mod:`~jupyter_remote_dev.ray`: Ray connection, jobs and the dashboard proxy
- :mod:`~jupyter_remote_dev.dav`: the root as a WebDAV drive
- :mod:`~jupyter_remote_dev.api`: ``GET info`` and the OpenAPI contract
- :mod:`~jupyter_remote_dev.base`: the handler base class and streamed request bodies
"""

from __future__ import annotations

import os

from jupyter_server.extension.application import ExtensionApp

from . import __version__
from .api import handlers as api_handlers
from .cost import handlers as cost_handlers
from .cost.settings import CostSettings
from .dav import handlers as dav_handlers
from .dav.service import DavService
from .dav.settings import DavSettings
from .exec import handlers as exec_handlers
from .exec.settings import ExecSettings
from .files import batch_handlers, tree_handlers
from .files import handlers as files_handlers
from .files.settings import FilesSettings
from .gitsync import handlers as git_handlers
from .gitsync.settings import GitSyncSettings, user_name
from .ray import handlers as ray_handlers
from .ray.settings import RaySettings

AREA_SETTINGS = (
    FilesSettings, ExecSettings, GitSyncSettings, CostSettings, RaySettings, DavSettings
)  # fmt: skip
"""Every area's settings mixin, in the order RemoteDevExtension inherits them."""

ROUTES = (
    files_handlers,
    tree_handlers,
    batch_handlers,
    exec_handlers,
    api_handlers,
    cost_handlers,
    ray_handlers,
    git_handlers,
    dav_handlers,
)
"""The modules whose ``default_handlers`` make up the REST API."""


class RemoteDevExtension(
    FilesSettings, ExecSettings, GitSyncSettings, CostSettings, RaySettings, DavSettings,
    ExtensionApp,
):  # fmt: skip
    """Authenticated REST endpoints for a local IDE: files, trees, exec, git sync, cost and Ray."""

    name = "remote_dev"
    version = __version__
    description = __doc__
    load_other_extensions = True

    _upload_sweeper = None
    _exec_jobs = None
    _git_service = None

    def initialize_handlers(self):
        for module in ROUTES:
            self.handlers.extend(module.default_handlers)

    def initialize_settings(self):
        self.settings["remote_dev_config"] = self
        # ExtensionApp reads only the class's own traits while loading; read the areas' too, so a
        # bad environment variable fails loading the extension rather than a later request
        for area in AREA_SETTINGS:
            for name in area.class_own_traits():
                getattr(self, name)
        contents = self.serverapp.contents_manager
        self.settings[dav_handlers.SERVICE_KEY] = DavService(
            contents.root_dir, self.serverapp.base_url,
            cache=files_handlers.hash_cache(self.settings), allow_hidden=contents.allow_hidden,
            max_size=self.max_upload_size, workers=self.dav_workers,
        )  # fmt: skip

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

    @property
    def exec_jobs(self):
        """The server's :class:`~jupyter_remote_dev.exec.jobs.JobRegistry` (made on first use)."""
        if self._exec_jobs is None:
            from .exec.jobs import JobRegistry

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
                    sync_branch=expand_sync_branch(self.git_sync_branch, user_name()),
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
            self._git_service = SyncService(
                sync, self.git_interval, workspace, self.log, self.serverapp.runtime_dir
            )
        return self._git_service

    async def _start_jupyter_server_extension(self, serverapp):
        """Background work once the event loop runs: git sync (settings record, timer), sweeper."""
        self.git_sync_service.start()
        self._upload_sweeper = files_handlers.start_sweeper(serverapp.web_app.settings)

    async def stop_extension(self):
        """Server shutdown: stop every running command (SIGTERM, SIGKILL after the grace)."""
        if self._exec_jobs is not None:
            await self._exec_jobs.shutdown()
        if self._git_service is not None:  # one last git sync cycle, bounded in time
            await self._git_service.stop(timeout=self.git_stop_timeout)
        if self._upload_sweeper is not None:  # abandoned uploads and temp files
            self._upload_sweeper.cancel()
        if dav_handlers.SERVICE_KEY in self.settings:  # absent if loading failed
            self.settings[dav_handlers.SERVICE_KEY].shutdown()

"""The remote-dev server extension: the table of contents of the server side.

One package per capability, as jupyter_server lays out ``services/<area>/``: core modules (no
tornado), ``handlers.py`` and a ``settings.py`` mixin together. The mixins' traits are configured as
``c.RemoteDevExtension.<name>``.

How an area plugs in (dav/, ssh/ and any new one follow this):

1. ``<area>/settings.py``: a ``HasTraits`` mixin (``config=True`` traits named ``<area>_...``)
   with a ``make_<area>_service(...)`` method, the ONLY place its traits are read into an object;
   add the mixin to :data:`AREA_SETTINGS` (:class:`RemoteDevExtension`'s bases).
2. ``<area>/service.py``: the area's owner object (settings it needs, long-lived state such as
   caches or tasks, ``start()`` and ``async stop()``); no tornado.
3. :meth:`RemoteDevExtension.initialize_settings` builds it once (with :meth:`root` for the
   server root) and stores it in ``self.settings`` under ``base.handlers.<AREA>_SERVICE``; it is in
   :meth:`RemoteDevExtension.services`, so start-up and shutdown start and stop it.
4. ``base/handlers.py``: a ``<area>_service`` property reading that key; handlers use only it
   (as jupyter_server's use ``self.contents_manager``), never the extension's traits.
5. ``<area>/handlers.py`` with ``default_handlers``, listed in :data:`ROUTES`.

- :mod:`~jupyter_remote_dev.files`: push/pull, resumable uploads, batch uploads, tree manifests
- :mod:`~jupyter_remote_dev.exec`: remote commands with streamed output and detachable jobs
- :mod:`~jupyter_remote_dev.gitsync`: two-way Git sync of the workspace
- :mod:`~jupyter_remote_dev.cost`: the user's spend from Kubecost or OpenCost
- :mod:`~jupyter_remote_dev.ray`: Ray connection, jobs and the dashboard proxy
- :mod:`~jupyter_remote_dev.ssh`: SSH (exec, pty, SFTP, forwarding) through a WebSocket
- :mod:`~jupyter_remote_dev.dav`: the root as a WebDAV drive
- :mod:`~jupyter_remote_dev.api`: ``GET info`` and the OpenAPI contract (no state of its own)
- :mod:`~jupyter_remote_dev.base`: the handler base class and streamed request bodies
"""

from __future__ import annotations

import os

from jupyter_server.extension.application import ExtensionApp

from . import __version__
from .api import handlers as api_handlers
from .base.handlers import (
    COST_SERVICE,
    DAV_SERVICE,
    EXEC_SERVICE,
    FILES_SERVICE,
    GIT_SERVICE,
    RAY_SERVICE,
    SSH_SERVICE,
)
from .cost import handlers as cost_handlers
from .cost.settings import CostSettings
from .dav import handlers as dav_handlers
from .dav.settings import DavSettings
from .exec import handlers as exec_handlers
from .exec.settings import ExecSettings
from .files import batch_handlers, tree_handlers
from .files import handlers as files_handlers
from .files.settings import FilesSettings
from .gitsync import handlers as git_handlers
from .gitsync.settings import GitSyncSettings
from .ray import handlers as ray_handlers
from .ray.settings import RaySettings
from .ssh import handlers as ssh_handlers
from .ssh.settings import SshSettings

AREA_SETTINGS = (
    FilesSettings,
    ExecSettings,
    GitSyncSettings,
    CostSettings,
    RaySettings,
    SshSettings,
    DavSettings,
)
"""Every area's settings mixin: RemoteDevExtension's bases, in this order."""

ROUTES = (
    files_handlers,
    tree_handlers,
    batch_handlers,
    exec_handlers,
    api_handlers,
    cost_handlers,
    ray_handlers,
    git_handlers,
    ssh_handlers,
    dav_handlers,
)
"""The modules whose ``default_handlers`` make up the REST API."""


class RemoteDevExtension(*AREA_SETTINGS, ExtensionApp):
    """Authenticated REST endpoints for a local IDE: files, trees, exec, git sync, cost and Ray,
    SSH through a WebSocket and the root as a WebDAV drive."""

    name = "remote_dev"
    version = __version__
    description = __doc__
    load_other_extensions = True

    def initialize_handlers(self):
        for module in ROUTES:
            self.handlers.extend(module.default_handlers)

    def initialize_settings(self):
        """Build each area's owner object once, from its traits (see the module docstring)."""
        self.settings["remote_dev_config"] = self
        # ExtensionApp reads only the class's own traits while loading; read the areas' too, so a
        # bad environment variable fails loading the extension rather than a later request
        for area in AREA_SETTINGS:
            for name in area.class_own_traits():
                getattr(self, name)
        root, runtime_dir = self.root(), self.serverapp.runtime_dir
        self.settings[FILES_SERVICE] = self.make_files_service(root, runtime_dir)
        self.settings[EXEC_SERVICE] = self.make_exec_service(root, self._mark_exec_activity)
        self.settings[GIT_SERVICE] = self.make_git_service(root, runtime_dir, self.log)
        self.settings[COST_SERVICE] = self.make_cost_service()
        self.settings[RAY_SERVICE] = self.make_ray_service(root)
        self.settings[SSH_SERVICE] = self.make_ssh_service(
            root, self.settings[EXEC_SERVICE], self.log
        )
        self.settings[DAV_SERVICE] = self.make_dav_service(
            root, self.serverapp.base_url, self.settings[FILES_SERVICE]
        )

    def root(self) -> str:
        """The server root every area works under: the contents manager's root_dir."""
        return os.path.expanduser(self.serverapp.contents_manager.root_dir)

    def services(self) -> list:
        """Every area's owner object, in start and stop order (commands end before the last git
        sync cycle commits the workspace; SSH connections end first, their processes with them)."""
        keys = (
            SSH_SERVICE,
            EXEC_SERVICE,
            GIT_SERVICE,
            FILES_SERVICE,
            COST_SERVICE,
            RAY_SERVICE,
            DAV_SERVICE,
        )
        return [self.settings[key] for key in keys if key in self.settings]

    def feature_flags(self) -> dict[str, bool]:
        """What this server offers, for GET info and the clients."""
        return api_handlers.feature_flags(self.settings)

    def _mark_exec_activity(self):
        from jupyter_server._tz import utcnow

        # the server counts every "*_last_activity" setting (ServerWebApplication.last_activity)
        self.serverapp.web_app.settings["remote_dev_exec_last_activity"] = utcnow()

    async def _start_jupyter_server_extension(self, serverapp):
        """Background work once the event loop runs: the sweeper, git sync (record, timer)."""
        for service in self.services():
            service.start()

    async def stop_extension(self):
        """Server shutdown: SSH connections ended, running commands stopped (SIGTERM, SIGKILL
        after the grace), one last git sync cycle (bounded in time), the sweeper cancelled."""
        for service in self.services():
            await service.stop()

"""GET git/status and POST git/sync: thin HTTP over :mod:`jupyter_remote_dev.gitsync`."""

from __future__ import annotations

import asyncio

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base.handlers import RemoteDevHandler, api_path
from .errors import GitSyncConfigError

AUTH_RESOURCE = "remote_dev:git"


class GitStatusHandler(RemoteDevHandler):
    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized
    async def get(self):
        service = self.git_service
        self.write_json(await asyncio.to_thread(service.status))


class GitSyncHandler(RemoteDevHandler):
    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized
    async def post(self):
        service = self.git_service
        if not service.configured:
            raise GitSyncConfigError(
                "git sync is not configured (set RemoteDevExtension.git_repo or "
                "$JUPYTER_REMOTE_DEV_GIT_REPO)"
            )
        await service.run_cycle()  # GitSyncBusyError answers 409
        self.write_json(await asyncio.to_thread(service.status))


default_handlers = [
    (api_path("git/status"), GitStatusHandler),
    (api_path("git/sync"), GitSyncHandler),
]

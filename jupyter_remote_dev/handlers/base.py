"""The base class every remote-dev handler derives from."""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from ..errors import RemoteDevError

API_PREFIX = "/remote-dev/api"


def api_path(pattern: str) -> str:
    """The route regex for ``pattern`` under our API prefix (the server adds its base_url)."""
    return f"{API_PREFIX}/{pattern}"


class RemoteDevHandler(ExtensionHandlerMixin, APIHandler):
    """JSON API handler bound to the remote_dev extension.

    Subclasses set ``auth_resource`` and decorate every verb with ``@web.authenticated`` and
    ``@authorized``. Domain errors (:class:`RemoteDevError`) raised by a verb become JSON answers
    ``{"message": ...}`` with the error's status, never a traceback.
    """

    auth_resource = "remote_dev:status"

    def initialize(self, name: str = "remote_dev", *args: Any, **kwargs: Any) -> None:
        super().initialize(name, *args, **kwargs)

    @property
    def remote_dev(self):
        """The running :class:`~jupyter_remote_dev.extension.RemoteDevExtension`."""
        return self.extensionapp

    def write_json(self, payload: Any, status: int = 200) -> None:
        """Finish with ``payload`` as JSON."""
        self.set_status(status)
        self.finish(json.dumps(payload))

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, RemoteDevError):
            try:
                raise web.HTTPError(e.status, e.message) from e
            except web.HTTPError as http_error:  # re-raised so sys.exc_info() names it
                return super()._handle_request_exception(http_error)
        return super()._handle_request_exception(e)

"""The base class every remote-dev handler derives from, and how handlers reach their area.

Each server area has one owner object (its service), built once by
``RemoteDevExtension.initialize_settings`` and stored in the web app's settings under the key
below; a handler reaches it through the matching property (``self.files_service``, ...), the way
jupyter_server's handlers reach ``self.contents_manager``. Handlers never read the extension's
traits themselves.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.utils import HTTP_METHOD_TO_AUTH_ACTION
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from ..errors import RemoteDevError
from .jsonbody import parse_json_body

if TYPE_CHECKING:
    from ..cost.service import CostService
    from ..exec.service import ExecService
    from ..files.service import FilesService
    from ..gitsync.service import GitSyncService
    from ..ray.service import RayService

API_PREFIX = "/remote-dev/api"
FILES_SERVICE = "remote_dev_files"
EXEC_SERVICE = "remote_dev_exec"
GIT_SERVICE = "remote_dev_git"
COST_SERVICE = "remote_dev_cost"
RAY_SERVICE = "remote_dev_ray"


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
    def files_service(self) -> FilesService:
        return self.settings[FILES_SERVICE]

    @property
    def exec_service(self) -> ExecService:
        return self.settings[EXEC_SERVICE]

    @property
    def git_service(self) -> GitSyncService:
        return self.settings[GIT_SERVICE]

    @property
    def cost_service(self) -> CostService:
        return self.settings[COST_SERVICE]

    @property
    def ray_service(self) -> RayService:
        return self.settings[RAY_SERVICE]

    def get_json_body(self) -> Any:
        """The request's JSON body; 400 naming the problem for anything unusable (jupyter_server's
        own reader answers 500 for a body that is not UTF-8). See :func:`parse_json_body`."""
        return parse_json_body(self.request.body or b"")

    def write_json(self, payload: Any, status: int = 200) -> None:
        """Finish with ``payload`` as JSON."""
        self.set_status(status)
        self.finish(json.dumps(payload))

    async def authorize_before_body(self) -> None:
        """Authenticate and authorize in ``prepare()``, before a byte of a streamed body is read
        (the verb's decorators run again once the body is in)."""
        action = HTTP_METHOD_TO_AUTH_ACTION[self.request.method.upper()]
        user = self.current_user
        if not user or not await ensure_async(
            self.authorizer.is_authorized(self, user, action, self.auth_resource)
        ):
            raise web.HTTPError(403, f"not authorized to {action} {self.auth_resource}")

    def refuse(self, error: RemoteDevError) -> None:
        """Answer an error in the middle of a streamed body; tornado then drops the connection."""
        if not self._finished:
            self.set_status(error.status)
            self.finish(json.dumps({"message": error.message}))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """APIHandler's JSON error, but with the message as raised.

        Since tornado 6.5 ``HTTPError.log_message`` doubles every ``%`` of a message given without
        format arguments (it is a log format string); APIHandler answers with ``log_message``, so a
        path like ``a%2eb`` came back as ``a%%2eb``. ``get_message()`` is the message itself.
        """
        error = (kwargs.get("exc_info") or (None, None, None))[1]
        get_message = getattr(error, "get_message", None)  # tornado >= 6.5
        if not isinstance(error, web.HTTPError) or get_message is None or not get_message():
            return super().write_error(status_code, **kwargs)
        self.set_header("Content-Type", "application/json")
        reply = {"message": get_message(), "reason": error.reason}
        self.log.warning("wrote error: %r", reply["message"])
        self.finish(json.dumps(reply))

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, RemoteDevError):
            try:
                raise web.HTTPError(e.status, e.message, reason=e.reason) from e
            except web.HTTPError as http_error:  # re-raised so sys.exc_info() names it
                return super()._handle_request_exception(http_error)
        return super()._handle_request_exception(e)

"""An authorizer making the contents resource read-only (loaded by a test server by name)."""

from jupyter_server.auth.authorizer import Authorizer


class ReadOnlyContents(Authorizer):
    """Everything may be read; nothing under ``contents`` may be written."""

    def is_authorized(self, handler, user, action, resource):
        return not (resource == "contents" and action == "write")

"""The client's errors: each one carries a one-line, user-facing message."""

from __future__ import annotations


class ClientError(Exception):
    """A failure with a one-line, user-facing message; ``exit_code`` for the CLI."""

    exit_code = 1

    def __init__(self, message: str, status: int | None = None, answer: dict | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.answer = answer or {}
        """The server's JSON error answer (``message``, ``reason``), when it gave one."""


class AuthError(ClientError):
    """The token was refused (invalid, expired, or not allowed here)."""


class ServerNotRunning(ClientError):
    """The hub answered for the user server: it is not running."""


class NotFoundError(ClientError):
    """The file or folder does not exist on the server."""


class PreconditionFailed(ClientError):
    """If-Match / If-None-Match did not hold: the remote file changed."""


class VSCodeError(Exception):
    """A ``.vscode`` file that cannot be merged (not JSON or not an object)."""


class ChangedDuringSync(ClientError):
    """A file changed between planning and doing; the next sync will see it."""


class Cancelled(Exception):
    """The transfer was cancelled (Ctrl-C) while this request was in flight."""

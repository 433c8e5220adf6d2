"""Domain errors shared by the server modules; handlers turn them into HTTP answers."""


class RemoteDevError(Exception):
    """A problem with a request that the caller can fix; ``status`` is the HTTP status to answer."""

    status = 400
    reason: str | None = None
    """A short, stable reason a client may act on (the JSON answer's ``reason``)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class PathError(RemoteDevError):
    """A path that is malformed (400) or points outside the root or at a hidden file (403)."""


class HiddenPathError(PathError):
    """A dot-name refused because the caller's hidden-file setting is off (403)."""

    status = 403


class NotFoundError(RemoteDevError):
    status = 404


class ConflictError(RemoteDevError):
    status = 409


class PreconditionFailedError(RemoteDevError):
    status = 412

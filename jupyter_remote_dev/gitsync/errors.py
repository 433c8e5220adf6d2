"""Errors raised by the git sync engine; handlers map ``status`` to the HTTP answer."""

from __future__ import annotations

from ..errors import RemoteDevError


class GitSyncError(RemoteDevError):
    """A git sync failure whose message is safe to show (credentials already redacted)."""

    status = 500


class GitSyncConfigError(GitSyncError):
    """Settings that are missing, malformed or unsafe (refused before git ever runs)."""

    status = 400


class GitSyncBusyError(GitSyncError):
    """Another cycle (in this process or another one) holds the workspace lock."""

    status = 409

"""Two-way Git sync between the server workspace and a per-user branch of a repository.

Nothing here imports tornado or jupyter_server: the engine runs the same in the server, an init
container (``python -m jupyter_remote_dev.gitsync init``) and a preStop hook (``... cycle``).
"""

from .config import SyncSettings
from .engine import GitSyncEngine
from .errors import GitSyncBusyError, GitSyncConfigError, GitSyncError

__all__ = [
    "GitSyncEngine",
    "GitSyncBusyError",
    "GitSyncConfigError",
    "GitSyncError",
    "SyncSettings",
]

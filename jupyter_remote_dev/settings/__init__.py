"""RemoteDevExtension's settings, one mixin per area.

Each mixin is a plain :class:`~traitlets.HasTraits` class (no tornado, no jupyter_server), so its
traits belong to the class that inherits it: they are configured as ``c.RemoteDevExtension.<name>``
and documented under RemoteDevExtension. A Configurable mixin would open a second config section
of its own name instead.
"""

from .cost import CostSettings
from .exec import ExecSettings
from .files import FilesSettings
from .gitsync import GitSyncSettings
from .ray import RaySettings

AREA_SETTINGS = (FilesSettings, ExecSettings, GitSyncSettings, CostSettings, RaySettings)
"""Every area's mixin, in the order RemoteDevExtension inherits them."""

__all__ = [
    "AREA_SETTINGS",
    "CostSettings",
    "ExecSettings",
    "FilesSettings",
    "GitSyncSettings",
    "RaySettings",
]

"""Per-user spend from Kubecost or OpenCost: backends, normalisation, a single-flight TTL cache.

Tornado-free but for ``handlers.py``, which turns these calls and errors into HTTP.
"""

from .backend import CostBackendError, CostTimeoutError
from .model import WINDOWS
from .service import CostService, CostServiceConfig

__all__ = [
    "WINDOWS",
    "CostBackendError",
    "CostService",
    "CostServiceConfig",
    "CostTimeoutError",
]

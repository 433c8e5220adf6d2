"""Prices of metered resources: OpenCost's defaults unless configured otherwise."""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3


@dataclass(frozen=True)
class Rates:
    """Hourly prices, as OpenCost's custom pricing sheet states them (``configs/default.json``).

    OpenCost's defaults are GCP us-central1 on-demand prices: USD 0.031611 per core-hour and USD
    0.004237 per GiB-hour of memory.
    """

    cpu_core_hour: float = 0.031611
    ram_gib_hour: float = 0.004237

    def __post_init__(self):
        for name in ("cpu_core_hour", "ram_gib_hour"):
            value = getattr(self, name)
            if not (value >= 0 and value != float("inf")):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")

    def cpu_cost(self, core_seconds: float) -> float:
        """Cost of ``core_seconds`` of CPU time."""
        return core_seconds / 3600 * self.cpu_core_hour

    def ram_cost(self, byte_seconds: float) -> float:
        """Cost of ``byte_seconds`` of resident memory."""
        return byte_seconds / 3600 / GIB * self.ram_gib_hour

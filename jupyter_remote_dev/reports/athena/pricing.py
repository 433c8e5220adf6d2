"""What one Athena query costs, from the bytes it scanned.

The rules, from the Amazon Athena pricing page (SQL queries, per query billing):

- a price per TB scanned, 5 USD in most regions (set per region and per workgroup here);
- bytes scanned are rounded up to the nearest megabyte, with a 10 MB minimum per query;
- DDL statements (CREATE/ALTER/DROP TABLE, partition management) and failed queries are free;
- cancelled queries are billed for the data they scanned before they stopped;
- workgroups assigned to a capacity reservation are billed per DPU-hour for the reservation,
  not per query: they get no per-query cost here.

Megabyte and terabyte are taken as binary units (2**20 and 2**40 bytes), as AWS bills data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

MB = 2**20
TB = 2**40
MINIMUM_BYTES = 10 * MB
DEFAULT_PRICE_PER_TB = Decimal("5")

#: Query states that are billed for what they scanned (QUEUED/RUNNING have not finished yet).
BILLED_STATES = frozenset({"SUCCEEDED", "CANCELLED"})


def billed_bytes(scanned: int) -> int:
    """Bytes billed for a query that scanned ``scanned`` bytes: up to the MB, 10 MB at least."""
    rounded = -(-max(scanned, 0) // MB) * MB
    return max(rounded, MINIMUM_BYTES)


def is_billed(state: str, statement_type: str) -> bool:
    """Whether a finished query in ``state`` of ``statement_type`` is charged per data scanned."""
    return statement_type != "DDL" and state in BILLED_STATES


@dataclass(frozen=True)
class Pricing:
    """On-demand price per TB scanned: a default, per-region and per-workgroup overrides.

    A workgroup override wins over its region's, which wins over the default.
    """

    default: Decimal = DEFAULT_PRICE_PER_TB
    regions: Mapping[str, Decimal] = field(default_factory=dict)
    workgroups: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self):
        for where, price in [
            ("default", self.default),
            *self.regions.items(),
            *self.workgroups.items(),
        ]:
            if Decimal(price) < 0:
                raise ValueError(f"price per TB for {where} must not be negative, got {price}")

    def price_per_tb(self, region: str, workgroup: str) -> Decimal:
        if workgroup in self.workgroups:
            return Decimal(self.workgroups[workgroup])
        return Decimal(self.regions.get(region, self.default))

    def cost(self, scanned: int, price_per_tb: Decimal) -> Decimal:
        """Dollars for one billed query that scanned ``scanned`` bytes, at ``price_per_tb``."""
        return Decimal(billed_bytes(scanned)) * Decimal(price_per_tb) / TB

    def to_json(self) -> dict:
        return {
            "default_per_tb": float(self.default),
            "regions_per_tb": {k: float(v) for k, v in self.regions.items()},
            "workgroups_per_tb": {k: float(v) for k, v in self.workgroups.items()},
            "minimum_bytes": MINIMUM_BYTES,
            "rounding_bytes": MB,
            "bytes_per_tb": TB,
        }


def parse_prices(items: list[str]) -> dict[str, Decimal]:
    """``["us-east-1=5", "eu-west-1=5.5"]`` as a dict; a clear ValueError naming a bad item."""
    prices = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            price = Decimal(value.strip())
        except ArithmeticError:
            price = None
        if not sep or not name.strip() or price is None or not price.is_finite() or price < 0:
            raise ValueError(f"price {item!r} is not NAME=USD_PER_TB (e.g. us-east-1=5)")
        prices[name.strip()] = price
    return prices

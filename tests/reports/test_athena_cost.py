"""The cost rules, each pinned to the AWS documentation it comes from.

Sources (read 2026-12 through stored copies; the pricing page itself was reachable only as quoted):
- Amazon Athena pricing, https://aws.amazon.com/athena/pricing/ ("SQL queries, per query
  billing"), quoted at https://rcpedia.stanford.edu/services/athena.html: "$5 per TB of data
  scanned; rounded up to the nearest megabyte; 10MB minimum per query; no charges for Data
  Definition Language (DDL) statements like CREATE/ALTER/DROP TABLE", and by athena.guide
  ("a flat $5 per TB of data scanned, rounded to the nearest MB, with a 10 MB minimum").
- Failed queries free, cancelled ones billed for what they scanned: the pricing page's notes, as
  restated at https://awsnegotiations.com/athena-query-cost-reduction.html ("Failed queries are
  free ..., but cancelled mid-scan queries still bill scanned bytes"). No AWS-hosted copy of this
  sentence was in the stored corpus: re-check it against the live pricing page.
- Athena user guide, "Manage query processing capacity"
  (https://docs.aws.amazon.com/athena/latest/ug/capacity-management.html): workgroups assigned to
  a capacity reservation are billed for the reservation's DPUs ("you selectively assign capacity
  to workgroups so that you control how the queries for each workgroup behave and how they are
  billed"), not per query.
"""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jupyter_remote_dev.reports.athena.pricing import (
    MB,
    TB,
    Pricing,
    billed_bytes,
    is_billed,
    parse_prices,
)


def test_cost_default_is_five_dollars_per_tb():
    """Pricing page: "$5 per TB of data scanned" (the default; regions may differ)."""
    assert Pricing().price_per_tb("us-east-1", "primary") == Decimal(5)
    assert Pricing().cost(TB, Decimal(5)) == Decimal(5)


def test_cost_rounds_up_to_the_megabyte():
    """Pricing page: bytes scanned are "rounded up to the nearest megabyte"."""
    assert billed_bytes(100 * MB + 1) == 101 * MB
    assert billed_bytes(100 * MB) == 100 * MB
    assert billed_bytes(100 * MB - 1) == 100 * MB


def test_cost_ten_megabyte_minimum_per_query():
    """Pricing page: "10MB minimum per query", even for a query that scanned nothing."""
    assert billed_bytes(0) == 10 * MB
    assert billed_bytes(1) == 10 * MB
    assert billed_bytes(10 * MB + 1) == 11 * MB
    assert Pricing().cost(0, Decimal(5)) == Decimal(5) * 10 * MB / TB


def test_cost_ddl_and_failed_queries_are_free():
    """Pricing page: no charge for DDL statements or failed queries."""
    assert not is_billed("SUCCEEDED", "DDL")
    assert not is_billed("FAILED", "DML")
    assert not is_billed("FAILED", "UTILITY")


def test_cost_cancelled_queries_billed_for_what_they_scanned():
    """Pricing page: cancelled queries are charged for the data scanned before cancelling."""
    assert is_billed("CANCELLED", "DML")
    assert is_billed("SUCCEEDED", "DML")
    assert is_billed("SUCCEEDED", "UTILITY")  # SHOW/DESCRIBE/EXPLAIN scan metadata, billed


def test_cost_unfinished_queries_not_billed_yet():
    """A query still QUEUED or RUNNING at report time has no final scan figure: no cost yet."""
    assert not is_billed("RUNNING", "DML") and not is_billed("QUEUED", "DML")


def test_cost_price_per_region_and_workgroup():
    """Prices are configurable per region, and per workgroup over that."""
    pricing = Pricing(
        regions={"sa-east-1": Decimal("9")}, workgroups={"negotiated": Decimal("3.5")}
    )
    assert pricing.price_per_tb("sa-east-1", "etl") == Decimal(9)
    assert pricing.price_per_tb("sa-east-1", "negotiated") == Decimal("3.5")
    assert pricing.price_per_tb("us-east-1", "etl") == Decimal(5)


def test_cost_parse_prices_names_bad_items():
    """``NAME=USD`` items parse; anything else is a ValueError that quotes the item."""
    assert parse_prices(["us-east-1=5", " eu-west-1 = 5.5"]) == {
        "us-east-1": Decimal(5),
        "eu-west-1": Decimal("5.5"),
    }
    for bad in ("us-east-1", "=5", "x=abc", "x=-1", "x=nan", "x=inf"):
        with pytest.raises(ValueError, match="NAME=USD_PER_TB"):
            parse_prices([bad])


def test_cost_negative_price_refused():
    with pytest.raises(ValueError, match="negative"):
        Pricing(default=Decimal(-1))


@given(st.integers(min_value=0, max_value=10 * TB))
def test_cost_billed_bytes_properties(scanned):
    """Billed bytes: a whole number of MB, at least 10 MB, at least what was scanned, and less
    than one MB over it once past the minimum."""
    billed = billed_bytes(scanned)
    assert billed % MB == 0 and billed >= 10 * MB and billed >= scanned
    assert billed == 10 * MB or billed - scanned < MB

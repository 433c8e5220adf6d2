"""Right-sizing hints from allocation request and usage averages (contracts.md 1.6 fields)."""

import pytest

from jupyter_remote_dev.budgets.rightsizing import (
    GIB,
    Part,
    Profile,
    Rules,
    accumulate,
    hints,
    items_by_key,
)


def allocation(minutes, cpu_req, cpu_use, cpu_cost, ram_req=0, ram_use=0, ram_cost=0, **extra):
    """An allocation object as both products send it (numbers may also be null)."""
    return {
        "minutes": minutes,
        "cpuCoreRequestAverage": cpu_req,
        "cpuCoreUsageAverage": cpu_use,
        "cpuCost": cpu_cost,
        "ramByteRequestAverage": ram_req,
        "ramByteUsageAverage": ram_use,
        "ramCost": ram_cost,
        "totalCost": None,
        **extra,
    }


def test_far_below_request_gives_the_issue_sentence():
    """4 CPU requested, 0.3 used: 92.5 % of $10 unused; memory well used gives no part."""
    usage = accumulate([("alice", allocation(10080, 4, 0.3, 10.0, 8 * GIB, 6 * GIB, 3.0))])
    [hint] = hints(usage)
    assert hint.name == "alice" and hint.profile is None
    assert hint.parts == (Part("cpu", 4.0, 0.3, 10.0, pytest.approx(9.25)),)
    assert hint.message() == (
        "requested 4 CPU, used 0.3 on average this week: about $9.25 of the $10.00 was unused;"
        " a smaller profile would do"
    )


def test_days_are_weighted_by_minutes():
    """A busy short day and an idle long day combine by their minutes."""
    usage = accumulate(
        [
            ("bob", allocation(60, 2, 2, 1.0)),  # one hour at full use
            ("bob", allocation(1380, 2, 0, 23.0)),  # 23 hours idle
        ]
    )
    cpu = usage["bob"]["cpu"]
    assert cpu.request_average == pytest.approx(2.0)
    assert cpu.usage_average == pytest.approx(2 * 60 / 1440)
    assert cpu.cost == pytest.approx(24.0)
    [hint] = hints(usage)
    assert hint.parts[0].unused_cost == pytest.approx(24.0 * (1 - (120 / 1440) / 2))


def test_nothing_requested_means_no_hint_and_no_hundred_percent():
    """Usage without a request (best effort) and absent GPU fields never give a hint."""
    usage = accumulate(
        [("carol", allocation(1440, 0, 1.5, 0.9, 0, 2 * GIB, 0.2)), ("dave", {"minutes": 60})]
    )
    assert hints(usage) == []
    assert "gpu" not in usage["carol"] and usage["dave"] == {}


def test_close_to_request_or_cheap_gives_no_hint():
    """Usage at or above the ratio, or waste below min_unused: nothing to say."""
    usage = accumulate(
        [
            ("erin", allocation(1440, 2, 0.5, 1.0)),  # exactly 25 %
            ("fred", allocation(1440, 4, 0.1, 0.005)),  # waste under a cent
            ("gina", allocation(1440, 4, None, None)),  # null numbers (NaN in Go)
        ]
    )
    assert hints(usage) == []
    assert [h.name for h in hints(usage, Rules(ratio=0.3))] == ["erin"]


def test_memory_and_gpu_parts_and_ordering():
    """Unused memory and GPU are named too; the costliest waste comes first."""
    big = allocation(
        1440,
        1,
        0.9,
        1.0,
        16 * GIB,
        1 * GIB,
        8.0,
        gpuRequestAverage=1,
        gpuUsageAverage=0.05,
        gpuCost=50.0,
    )
    small = allocation(1440, 8, 0.2, 4.0)
    [first, second] = hints(accumulate([("small", small), ("big", big)]))
    assert first.name == "big" and second.name == "small"
    assert [p.resource for p in first.parts] == ["ram", "gpu"]
    assert first.unused_cost == pytest.approx(8.0 * 15 / 16 + 50.0 * 0.95)
    assert "requested 16 GiB memory, used 1 on average" in first.message()
    assert "requested 1 GPU, used 0.05 on average" in first.message()


def test_smaller_profile_is_named_when_one_fits():
    """The smallest profile offering twice the average use, below the current request."""
    profiles = (
        Profile("tiny", 0.5, 1 * GIB),
        Profile("small", 1, 4 * GIB),
        Profile("large", 4, 16 * GIB),
    )
    usage = accumulate([("alice", allocation(1440, 4, 0.3, 10.0, 16 * GIB, 1.5 * GIB, 4.0))])
    [hint] = hints(usage, Rules(profiles=profiles))
    assert hint.profile == "small"
    assert hint.message("this month", "EUR").endswith("; the small profile would do")
    assert "about EUR 9.25 of the EUR 10.00 was unused" in hint.message("this month", "EUR")


def test_items_by_key_skips_idle_and_unallocated():
    """Idle capacity and unlabelled pods are nobody's server."""
    sets = [
        {"alice": {"a": 1}, "__idle__": {"b": 2}, "__unallocated__": {"c": 3}},
        {"cluster-one/__idle__": {"d": 4}, "bob": {"e": 5}, "broken": None},
        None,
    ]
    assert list(items_by_key(sets)) == [("alice", {"a": 1}), ("bob", {"e": 5})]

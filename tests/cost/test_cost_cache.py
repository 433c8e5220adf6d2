"""The TTL cache with single-flight, alone and in front of a real (stand-in) backend."""

import asyncio

import pytest

from jupyter_remote_dev.cost import CostService, CostServiceConfig
from jupyter_remote_dev.cost.cache import SingleFlightCache
from jupyter_remote_dev.errors import RemoteDevError

from ..support.cost_standin import CostStandIn


@pytest.fixture
def standin():
    """An OpenCost stand-in that takes 0.3 s per answer, so cold requests overlap."""
    server = CostStandIn(dialect="opencost").start()
    server.delay = 0.3
    yield server
    server.stop()


def service_for(standin, ttl=60.0):
    settings = CostServiceConfig("opencost", standin.base_url, "owner", "alice", ttl=ttl)
    return CostService(settings)


async def test_cache_hundred_cold_requests_make_one_upstream_call(standin):
    """100 concurrent requests for a cold window cost the backend exactly one call."""
    service = service_for(standin)
    reports = await asyncio.gather(*(service.report("7d") for _ in range(100)))
    assert standin.calls == 1
    assert all(report is reports[0] for report in reports)
    await service.report("7d")
    assert standin.calls == 1


async def test_cache_windows_are_cached_separately(standin):
    """Each window is its own entry: two windows, two calls."""
    service = service_for(standin)
    await asyncio.gather(service.report("7d"), service.report("30d"), service.report("7d"))
    assert standin.calls == 2


async def test_cache_failure_is_shared_then_retried(standin):
    """Concurrent waiters share one failure; it is not cached, so the next request tries again."""
    standin.mode = "json500"
    service = service_for(standin)
    results = await asyncio.gather(
        *(service.report("7d") for _ in range(10)), return_exceptions=True
    )
    assert all(isinstance(r, RemoteDevError) and r.status == 502 for r in results)
    assert standin.calls == 1
    standin.mode = "ok"
    report = await service.report("7d")
    assert report["total"] > 0 and standin.calls == 2


async def test_cache_entry_expires_after_ttl():
    """A value is served until ttl has passed on the clock, then loaded again."""
    now = [0.0]
    cache = SingleFlightCache(ttl=10, clock=lambda: now[0])
    loads = []

    async def load():
        loads.append(now[0])
        return len(loads)

    assert await cache.get("k", load) == 1
    now[0] = 9.9
    assert await cache.get("k", load) == 1
    now[0] = 10.0
    assert await cache.get("k", load) == 2
    assert loads == [0.0, 10.0]


async def test_cache_cancelled_waiter_does_not_cancel_the_load():
    """A client that goes away leaves the shared load running for the others."""
    cache = SingleFlightCache(ttl=10)
    release = asyncio.Event()

    async def load():
        await release.wait()
        return "value"

    first = asyncio.ensure_future(cache.get("k", load))
    second = asyncio.ensure_future(cache.get("k", load))
    await asyncio.sleep(0.01)
    first.cancel()
    release.set()
    assert await second == "value"
    assert first.cancelled()
    assert cache.peek("k") == "value"

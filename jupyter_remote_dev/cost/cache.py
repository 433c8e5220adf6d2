"""A small TTL cache with single-flight loading for asyncio.

Many panel refreshes at once must cost the backend one call: the first caller for a cold key starts
the load, everyone else awaits the same task. Successes are kept for ``ttl`` seconds; failures are
handed to every waiter of that flight and not kept, so the next request tries again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlightCache(Generic[T]):
    """Values per key, fresh for ``ttl`` seconds, loaded at most once at a time per key."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._values: dict[Hashable, tuple[float, T]] = {}
        self._flights: dict[Hashable, asyncio.Task[T]] = {}

    def peek(self, key: Hashable) -> T | None:
        """The fresh cached value for ``key``, or None."""
        entry = self._values.get(key)
        if entry is None:
            return None
        stored_at, value = entry
        if self._clock() - stored_at >= self.ttl:
            del self._values[key]
            return None
        return value

    async def get(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """The cached value, or the result of the one running (or a new) ``load()`` for ``key``.

        A waiter that is cancelled (its client went away) does not cancel the shared load.
        """
        value = self.peek(key)
        if value is not None:
            return value
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._load(key, load))
            self._flights[key] = flight
            flight.add_done_callback(_retrieve_exception)
        return await asyncio.shield(flight)

    async def _load(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        try:
            value = await load()
            self._values[key] = (self._clock(), value)
            return value
        finally:
            del self._flights[key]


def _retrieve_exception(task: asyncio.Task) -> None:
    """Mark a failed flight's error as seen even when every waiter was cancelled."""
    if not task.cancelled():
        task.exception()

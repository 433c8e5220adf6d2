"""Deliver messages on every channel without ever blocking the caller or the other channels.

Each channel has its own bounded queue and worker task: ``submit`` only enqueues (a full queue
drops the message, logged); a failing send is retried with exponential back-off, then given up.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .channels import Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """How one message fared on one channel: ``sent``, ``given_up`` or ``dropped``."""

    channel: str
    subject: str
    result: str
    attempts: int
    error: str = ""


class Dispatcher:
    """Start inside the event loop with :meth:`start`; :meth:`close` when done."""

    def __init__(
        self,
        channels: Sequence,
        queue_size: int = 100,
        retries: int = 4,
        backoff: float = 2.0,
        max_backoff: float = 300.0,
        attempt_timeout: float = 60.0,
    ):
        self.channels = list(channels)
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.attempt_timeout = attempt_timeout
        self.queues = {c.name: asyncio.Queue(queue_size) for c in self.channels}
        self.outcomes: deque[Outcome] = deque(maxlen=500)
        self.tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self._work(c)) for c in self.channels]

    def submit(self, message: Message, only: Iterable[str] | None = None) -> bool:
        """Queue ``message`` for every channel (or those in ``only``); False if one dropped it."""
        names = set(only) if only is not None else set(self.queues)
        queued = True
        for name in names & set(self.queues):
            try:
                self.queues[name].put_nowait(message)
            except asyncio.QueueFull:
                queued = False
                log.warning("%s queue is full; dropped %r", name, message.subject)
                self.outcomes.append(Outcome(name, message.subject, "dropped", 0))
        return queued

    async def join(self) -> None:
        """Wait until every queued message was sent or given up."""
        await asyncio.gather(*(queue.join() for queue in self.queues.values()))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _work(self, channel) -> None:
        queue = self.queues[channel.name]
        while True:
            message = await queue.get()
            try:
                self.outcomes.append(await self._deliver(channel, message))
            finally:
                queue.task_done()

    async def _deliver(self, channel, message: Message) -> Outcome:
        error = ""
        for attempt in range(1, self.retries + 2):
            try:
                await asyncio.wait_for(channel.send(message), self.attempt_timeout)
                return Outcome(channel.name, message.subject, "sent", attempt)
            except asyncio.CancelledError:
                raise
            except Exception as failure:  # any failure of a channel is retried, then given up
                error = str(failure) or type(failure).__name__
            if attempt <= self.retries:
                await asyncio.sleep(min(self.backoff * 2 ** (attempt - 1), self.max_backoff))
        log.warning("%s gave up on %r: %s", channel.name, message.subject, error)
        return Outcome(channel.name, message.subject, "given_up", self.retries + 1, error)

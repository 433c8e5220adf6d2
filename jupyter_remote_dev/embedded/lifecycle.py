"""How a service of the embedded default ends: on SIGTERM/SIGINT, or when the hub is gone.

JupyterHub stops managed services with SIGINT, then SIGTERM. A hub killed outright cannot, so
each service also watches its parent and ends itself when re-parented.
"""

from __future__ import annotations

import asyncio
import os
import signal

PARENT_POLL_SECONDS = 2.0


async def until_stopped(poll: float = PARENT_POLL_SECONDS) -> str:
    """Return the reason (a signal name, or "the hub exited") once this service should stop."""
    loop = asyncio.get_running_loop()
    stopped: asyncio.Future[str] = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda sig=sig: stopped.done() or stopped.set_result(sig.name))
    parent = os.getppid()
    try:
        while not stopped.done():
            if os.getppid() != parent:
                return "the hub exited"
            await asyncio.wait([stopped], timeout=poll)
        return stopped.result()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)

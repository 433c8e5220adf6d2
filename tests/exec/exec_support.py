"""Plain helpers of the exec tests: ndjson events checked against the schema, process liveness."""

import asyncio
import json
import time
from pathlib import Path


def parse_events(body: bytes, validator) -> list[dict]:
    """The events of an ndjson body, each checked against the schema."""
    assert body.endswith(b"\n")
    events = [json.loads(line) for line in body.splitlines()]
    for event in events:
        validator.validate(event)
    return events


def alive(pids: list[int]) -> list[int]:
    """Those of ``pids`` that still exist and are not zombies."""
    still = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in (b"Z", b"X"):
            still.append(pid)
    return still


async def wait_dead(pids: list[int], within: float) -> list[int]:
    """Poll until every pid is dead or ``within`` seconds pass; the survivors."""
    deadline = time.monotonic() + within
    while alive(pids) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return alive(pids)

"""The command runner on its own: output encoding, backpressure, kill escalation, reattach."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import itertools
import os
import signal
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jupyter_remote_dev.errors import RemoteDevError
from jupyter_remote_dev.exec.jobs import JobRegistry
from jupyter_remote_dev.exec.output import OutputEncoder
from jupyter_remote_dev.exec.request import parse_exec_request
from jupyter_remote_dev.exec.runner import group_members

from .exec_support import alive, wait_dead


def rebuild(chunks: list[bytes]) -> tuple[bytes, list[dict]]:
    """Encode ``chunks`` as one stream would; the bytes the events carry, and the events."""
    encoder, events = OutputEncoder(), []
    for index, chunk in enumerate([*chunks, b""]):
        encoded = encoder.encode(chunk, final=index == len(chunks))
        if encoded:
            events.append(encoded[0])
    data = b"".join(
        e["data"].encode() if "data" in e else base64.b64decode(e["data_b64"]) for e in events
    )
    return data, events


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


@given(st.binary(max_size=300), st.lists(st.integers(min_value=0), max_size=8))
def test_output_encoder_keeps_any_bytes_exactly(data, cuts):
    """Whatever the bytes and however reads split them, the events carry them exactly."""
    assert rebuild(split(data, cuts))[0] == data


@given(st.text(max_size=200), st.lists(st.integers(min_value=0), max_size=8))
def test_output_encoder_sends_text_as_data_even_when_split_mid_character(text, cuts):
    """Valid UTF-8 never falls back to base64, even cut inside a multi-byte character."""
    data = text.encode()
    rebuilt, events = rebuild(split(data, cuts))
    assert rebuilt == data and all("data" in event for event in events)


@pytest.fixture
def registry(jp_asyncio_loop):
    """A JobRegistry with small limits; every job is stopped afterwards."""
    jobs = JobRegistry(
        max_running=4, output_buffer=256 * 1024, kill_grace=0.5, retention=60, activity_interval=1
    )
    yield jobs
    jp_asyncio_loop.run_until_complete(jobs.shutdown())


def request(tmp_path, **body):
    return parse_exec_request(body, root=tmp_path, shell=["/bin/sh", "-c"], max_timeout=0)


async def collect(reader, heartbeat: float = 5.0) -> list[dict]:
    return [event async for event in reader.events(heartbeat) if event["type"] != "heartbeat"]


async def test_runner_pauses_output_while_the_reader_does_not_read(registry, tmp_path):
    """An attached reader that stops reading stops the pipes being read: memory stays bounded."""
    job, reader = await registry.start(
        request(tmp_path, argv=["head", "-c", "50000000", "/dev/zero"])
    )
    await asyncio.sleep(0.5)
    assert job.running and job.bytes_read < 4 * 1024**2
    events = await collect(reader)
    assert sum(len(e["data"]) for e in events if e["type"] == "stdout") == 50_000_000
    assert events[-1]["code"] == 0


async def test_runner_kills_children_that_ignore_sigterm(registry, tmp_path):
    """Children that ignore SIGTERM are SIGKILLed after the grace period."""
    script = "trap '' TERM; sleep 1000 & sleep 1000 & echo ready; wait"
    job, reader = await registry.start(request(tmp_path, shell=script))
    events = reader.events(5)
    while (await anext(events))["type"] != "stdout":
        pass
    pids = group_members(job.pid)
    assert len(pids) == 3
    started = time.monotonic()
    job.terminate("stop")
    rest = [event async for event in events]
    assert rest[-1]["signal_name"] == "SIGKILL" and rest[-1]["stopped_by"] == "stop"
    assert 0.4 < time.monotonic() - started < 3
    assert alive(pids) == []


async def test_runner_stops_leftovers_when_the_command_exits(registry, tmp_path):
    """A background child left behind is stopped; the exit code is the command's own."""
    job, reader = await registry.start(request(tmp_path, shell="sleep 1000 & echo $!; exit 7"))
    events = await collect(reader)
    child = int(events[0]["data"])
    assert events[-1] == {"type": "exit", "code": 7, "seq": events[-1]["seq"]}
    assert await wait_dead([child], within=2.0) == []


async def test_runner_detached_job_drops_oldest_output_and_says_so(registry, tmp_path):
    """With no reader the oldest output is dropped; a reattach reports how much."""
    job, reader = await registry.start(request(tmp_path, shell="seq 1 100000", detachable=True))
    reader.close()
    await job.finished.wait()
    events = await collect(registry.reattach(job.id, after=0))
    assert events[0]["type"] == "dropped" and events[0]["events"] > 0
    text = "".join(e["data"] for e in events if e["type"] == "stdout")
    everything = "".join(f"{i}\n" for i in range(1, 100_001))
    assert everything.endswith(text) and 0 < len(text) <= 256 * 1024 < len(everything)
    assert events[-1]["type"] == "exit" and events[-1]["code"] == 0


async def test_runner_does_not_hang_on_a_process_that_left_the_group(registry, tmp_path):
    """A daemon that calls setsid() and keeps stdout open does not keep the job from ending."""
    script = "setsid sleep 1000 & echo $! > escaped.pid"
    job, reader = await registry.start(request(tmp_path, shell=script))
    try:
        events = await asyncio.wait_for(collect(reader), timeout=10)
        assert events[-1] == {"type": "exit", "code": 0, "seq": events[-1]["seq"]}
    finally:
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            os.kill(int((tmp_path / "escaped.pid").read_text()), signal.SIGKILL)


async def test_runner_reattach_takes_over_from_the_previous_reader(registry, tmp_path):
    """A second client reattaching ends the first one's stream (without an exit event)."""
    script = "echo one; read line; echo two"
    job, first = await registry.start(request(tmp_path, shell=script, detachable=True, stdin="x\n"))
    second = registry.reattach(job.id, after=0)
    assert first.closed and [event async for event in first.events(5)] == []
    events = await collect(second)
    assert "".join(e["data"] for e in events if e["type"] == "stdout") == "one\ntwo\n"
    assert events[-1]["type"] == "exit" and events[-1]["code"] == 0


@pytest.mark.parametrize(
    "change",
    [
        {"argv": ["echo", "x\ud800"]},  # UnicodeEncodeError inside the spawn
        {"env": {"A": "x\ud800"}},
        {"env": {"A": "nul\0byte"}},  # ValueError inside the spawn
        {"argv": ["./no-such-program"]},  # OSError
    ],
)
async def test_runner_failed_starts_leak_no_descriptors(registry, tmp_path, change):
    """A start that fails inside the spawn answers 400 and closes its pipes: the open descriptor
    count is the same after 100 failed starts (it grew by 2 per start with a lone surrogate)."""
    base = request(tmp_path, argv=["true"])
    failing = dataclasses.replace(base, **change)  # past parsing: the runner's own guard
    with pytest.raises(RemoteDevError) as first:
        await registry.start(failing)
    assert first.value.status == 400 and "cannot run" in first.value.message
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(100):
        with pytest.raises(RemoteDevError):
            await registry.start(failing)
    assert len(os.listdir("/proc/self/fd")) - before < 5
    assert registry.running() == []


@pytest.mark.parametrize("field", ["argv", "shell", "cwd", "env", "stdin"])
def test_runner_request_refuses_lone_surrogates(tmp_path, field):
    """parse_exec_request on its own names a field holding a lone surrogate (400), rather than
    failing later with a UnicodeEncodeError."""
    bad = "x\ud800"
    body = {"argv": ["true"]}
    if field == "argv":
        body["argv"] = ["echo", bad]
    elif field == "shell":
        body = {"shell": bad}
    elif field == "env":
        body["env"] = {"A": bad}
    else:
        body[field] = bad
    with pytest.raises(RemoteDevError) as refused:
        request(tmp_path, **body)
    assert refused.value.status == 400 and "lone surrogate" in refused.value.message


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), -1.0, 0, "5", True, 10**400])
@pytest.mark.parametrize("max_timeout", [0.0, 60.0])
def test_runner_request_refuses_non_finite_timeouts(tmp_path, timeout, max_timeout):
    """NaN passed both limit comparisons and ran unbounded; infinities, non-positive numbers,
    strings, booleans and ints too big for a float are refused as well, with or without a cap."""
    with pytest.raises(RemoteDevError) as refused:
        parse_exec_request(
            {"argv": ["true"], "timeout": timeout},
            root=tmp_path,
            shell=["/bin/sh", "-c"],
            max_timeout=max_timeout,
        )
    assert refused.value.status == 400 and "timeout" in refused.value.message

"""POST exec and its list/reattach/stop routes on a real Jupyter server."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from tornado.httpclient import HTTPClientError

from jupyter_remote_dev.base.handlers import EXEC_SERVICE

from ..support.openapi_check import assert_response_matches
from .exec_support import alive, parse_events, wait_dead


def output_bytes(events: list[dict], stream: str) -> bytes:
    """A stream's output, rebuilt byte for byte from its events."""
    chunks = []
    for event in events:
        if event["type"] == stream:
            text = event.get("data")
            chunks.append(
                text.encode() if text is not None else base64.b64decode(event["data_b64"])
            )
    return b"".join(chunks)


async def run(jp_fetch, validator, body: dict) -> list[dict]:
    """POST exec ``body``, check the answer against the contract, return its events."""
    raw = json.dumps(body).encode()
    response = await jp_fetch("remote-dev", "api", "exec", method="POST", body=raw)
    assert response.headers["Content-Type"].startswith("application/x-ndjson")
    assert_response_matches(response, "POST", "/exec", request_body=raw)
    events = parse_events(response.body, validator)
    assert events[0]["type"] == "start" and events[-1]["type"] == "exit"
    seqs = [event["seq"] for event in events if "seq" in event]
    assert seqs == list(range(1, len(seqs) + 1))
    return events


async def refused(jp_fetch, body: bytes, **kwargs) -> tuple[int, str]:
    """POST exec expecting an error: (status, message), checked against the contract."""
    with pytest.raises(HTTPClientError) as failure:
        await jp_fetch("remote-dev", "api", "exec", method="POST", body=body, **kwargs)
    response = failure.value.response
    assert_response_matches(response, "POST", "/exec", request_body=body)
    return failure.value.code, json.loads(response.body)["message"]


def group_pids(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that are still alive (not zombies), from /proc."""
    alive = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = Path(f"/proc/{name}/stat").read_bytes().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
                alive.append(int(name))
    return alive


async def read_until(lines, predicate) -> list[dict]:
    """Events from an httpx line iterator up to and including the first matching one.

    Keep ``lines`` referenced while the response should stay open: httpx closes the connection
    when an abandoned iterator is finalised.
    """
    seen = []
    while not seen or not predicate(seen[-1]):
        try:
            seen.append(json.loads(await anext(lines)))
        except StopAsyncIteration:
            raise AssertionError(f"stream ended before the expected event: {seen}") from None
    return seen


def check_contract(response: httpx.Response, method: str, path: str) -> None:
    """assert_response_matches for an httpx response."""
    headers = SimpleNamespace(get_all=response.headers.multi_items)
    shim = SimpleNamespace(code=response.status_code, body=response.content, headers=headers)
    assert_response_matches(shim, method, path)


async def test_exec_separates_stdout_and_stderr_in_order(jp_fetch, event_validator):
    """stdout and stderr arrive as separate streams, each in the order written."""
    script = "for i in $(seq 1 200); do echo out$i; echo err$i >&2; done"
    events = await run(jp_fetch, event_validator, {"shell": script})
    assert output_bytes(events, "stdout").decode() == "".join(f"out{i}\n" for i in range(1, 201))
    assert output_bytes(events, "stderr").decode() == "".join(f"err{i}\n" for i in range(1, 201))
    assert events[-1] == {"type": "exit", "code": 0, "seq": events[-1]["seq"]}


@pytest.mark.parametrize(
    "argv, ending",
    [
        (["true"], {"code": 0}),
        (["sh", "-c", "exit 1"], {"code": 1}),
        (["sh", "-c", "exit 255"], {"code": 255}),
        (["sh", "-c", "kill -KILL $$"], {"signal": 9, "signal_name": "SIGKILL"}),
    ],
)
async def test_exec_reports_the_true_exit(jp_fetch, event_validator, argv, ending):
    """exit carries the exit code, or the signal that killed the command."""
    events = await run(jp_fetch, event_validator, {"argv": argv})
    exit_event = {k: v for k, v in events[-1].items() if k not in ("type", "seq")}
    assert exit_event == ending


async def test_exec_keeps_non_utf8_output_byte_for_byte(jp_fetch, event_validator, jp_root_dir):
    """Binary output and text split mid-character both come back exactly."""
    rng = random.Random(3)
    binary = bytes(rng.getrandbits(8) for _ in range(300_000)) + b"\xc3"  # ends mid-character
    text = ("héllo wörld € 😀 " * 40_000).encode()  # > 1 MiB of multi-byte text
    (jp_root_dir / "blob.bin").write_bytes(binary)
    (jp_root_dir / "text.txt").write_bytes(text)
    events = await run(jp_fetch, event_validator, {"argv": ["cat", "blob.bin"]})
    assert output_bytes(events, "stdout") == binary
    assert any("data_b64" in event for event in events)
    events = await run(jp_fetch, event_validator, {"shell": "cat text.txt >&2"})
    assert output_bytes(events, "stderr") == text
    assert not any("data_b64" in event for event in events), "text must travel as data"


async def test_exec_passes_cwd_env_and_stdin(jp_fetch, event_validator, jp_root_dir):
    """cwd, env additions and stdin (text and base64) reach the command."""
    (jp_root_dir / "sub").mkdir()
    body = {"shell": 'pwd; echo "$GREETING"; cat', "cwd": "sub/", "env": {"GREETING": "hi"}}
    events = await run(jp_fetch, event_validator, {**body, "stdin": "from stdin"})
    lines = output_bytes(events, "stdout").decode().splitlines()
    assert lines == [str((jp_root_dir / "sub").resolve()), "hi", "from stdin"]
    raw = b"\x00\xffbytes"
    events = await run(
        jp_fetch, event_validator, {"argv": ["cat"], "stdin_b64": base64.b64encode(raw).decode()}
    )
    assert output_bytes(events, "stdout") == raw


async def test_exec_sends_heartbeats_during_silence(jp_fetch, event_validator):
    """A quiet command's stream carries heartbeat lines (interval 0.3 s here)."""
    events = await run(jp_fetch, event_validator, {"shell": "sleep 1.2; echo done"})
    types = [event["type"] for event in events]
    assert types.count("heartbeat") >= 2
    assert types.index("heartbeat") < types.index("stdout")


async def test_exec_200mb_output_keeps_server_memory_bounded(api, remote_dev):
    """200 MB through a slow reader: server RSS stays flat and every byte arrives."""
    total = 200_000_000
    line = "abcdefghijklmnopqrstuvwxyz0123456789"
    body = {"shell": f"yes {line} | head -c {total}"}

    def rss() -> int:
        status = Path("/proc/self/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) * 1024

    base = rss()
    peak = base
    received = 0
    async with api.stream("POST", "exec", json=body) as response:
        assert response.status_code == 200
        lines = response.aiter_lines()
        start = json.loads(await anext(lines))
        await asyncio.sleep(1.5)  # a reader that stalls: the command must wait, not the server grow
        job = remote_dev.settings[EXEC_SERVICE].jobs.get(start["id"])
        assert job.bytes_read < 8 * 1024**2, "output was read on without a reader"
        async for text in lines:
            event = json.loads(text)
            if event["type"] == "stdout":
                received += len(event["data"])
            peak = max(peak, rss())
    assert event == {"type": "exit", "code": 0, "seq": event["seq"]}
    assert received == total
    assert peak - base < 64 * 1024**2, f"RSS grew by {(peak - base) / 2**20:.0f} MiB"


async def test_exec_client_disconnect_kills_the_whole_tree(api):
    """Closing the connection kills the command and its background children within 2 s."""
    script = "sleep 1000 & sleep 1000 & (sleep 1000 &) ; echo started; wait"
    async with api.stream("POST", "exec", json={"shell": script}) as response:
        lines = response.aiter_lines()
        seen = await read_until(lines, lambda e: e["type"] == "stdout")
        leader = seen[0]["pid"]
        pids = group_pids(leader)
        assert len(pids) >= 4, pids  # the shell and three sleeps
    assert await wait_dead(pids, within=2.0) == []
    deadline = time.monotonic() + 2.0
    while Path(f"/proc/{leader}").exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert not Path(f"/proc/{leader}").exists(), "the server left its child a zombie"


async def test_exec_timeout_sends_timeout_then_exit_and_kills_the_tree(jp_fetch, event_validator):
    """timeout: a timeout event, then exit by SIGTERM, and no process of the group survives."""
    script = "sleep 1000 & sleep 1000 & echo $$ $!; wait"
    events = await run(jp_fetch, event_validator, {"shell": script, "timeout": 0.5})
    types = [event["type"] for event in events]
    assert types[-2:] == ["timeout", "exit"]
    assert events[-2]["timeout"] == 0.5
    assert events[-1]["signal_name"] == "SIGTERM" and events[-1]["stopped_by"] == "timeout"
    shell_pid, sleep_pid = map(int, output_bytes(events, "stdout").split())
    assert alive([shell_pid, sleep_pid]) == [] and group_pids(shell_pid) == []


@pytest.mark.parametrize(
    "cwd", ["..", "/etc", "escape", "escape/", "sub/../..", ".hidden", "missing", "file.txt"]
)
async def test_exec_refuses_cwd_outside_the_root(jp_fetch, jp_root_dir, tmp_path, cwd):
    """A cwd outside the root (by .., absolute or a symlink) or not a folder: 400, nothing run."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (jp_root_dir / "escape").symlink_to(outside)
    (jp_root_dir / "sub").mkdir()
    (jp_root_dir / ".hidden").mkdir()
    (jp_root_dir / "file.txt").write_text("x")
    body = json.dumps({"argv": ["touch", "ran"], "cwd": cwd}).encode()
    status, message = await refused(jp_fetch, body)
    assert status == 400 and "cwd" in message
    assert not list(tmp_path.rglob("ran")) and not Path("/etc/ran").exists()


@pytest.mark.parametrize(
    "body, words",
    [
        (b'{"argv": ["touch", "ran"]', "JSON"),
        (b"", "JSON"),
        (b'["touch", "ran"]', "JSON object"),
        (b'{"argv": "touch ran"}', "argv"),
        (b'{"argv": []}', "argv"),
        (b'{"argv": ["touch", "ran"], "shell": "touch ran"}', "exactly one"),
        (b'{"args": ["touch", "ran"]}', "unknown field"),
        (b'{"argv": ["touch", "ran"], "timeout": -1}', "timeout"),
        (b'{"argv": ["touch", "ran"], "env": {"A=B": "x"}}', "env"),
        (b'{"argv": ["touch", "ran"], "stdin_b64": "***"}', "base64"),
        (b'{"argv": ["./no-such-program"]}', "cannot run"),
    ],
)
async def test_exec_refuses_bad_requests(jp_fetch, jp_root_dir, body, words):
    """Malformed bodies answer 400 with a message naming the problem, and run nothing."""
    status, message = await refused(jp_fetch, body)
    assert status == 400 and words in message
    assert not (jp_root_dir / "ran").exists()


async def test_exec_without_token_is_refused(jp_fetch, jp_root_dir):
    """No token: 403 and nothing runs."""
    body = json.dumps({"argv": ["touch", "ran"]}).encode()
    status, _ = await refused(jp_fetch, body, headers={"Authorization": ""})
    assert status == 403
    assert not (jp_root_dir / "ran").exists()


@pytest.mark.parametrize("remote_dev_config", [{"allow_exec": False}])
async def test_exec_disabled_answers_403(jp_fetch, jp_root_dir):
    """allow_exec = False: 403 naming the setting, nothing runs."""
    body = json.dumps({"argv": ["touch", "ran"]}).encode()
    status, message = await refused(jp_fetch, body)
    assert status == 403 and "allow_exec" in message
    assert not (jp_root_dir / "ran").exists()


@pytest.mark.parametrize("remote_dev_config", [{"max_concurrent_exec": 1}])
async def test_exec_over_the_limit_answers_429(api, jp_fetch):
    """One running command with max_concurrent_exec = 1: the next answers 429."""
    async with api.stream("POST", "exec", json={"argv": ["sleep", "30"]}) as response:
        lines = response.aiter_lines()
        await read_until(lines, lambda e: e["type"] == "start")
        status, message = await refused(jp_fetch, json.dumps({"argv": ["true"]}).encode())
        assert status == 429 and "max_concurrent_exec" in message


async def test_exec_detachable_job_survives_disconnect_and_reattaches(api, event_validator):
    """A detachable job runs on after a disconnect; reattaching resumes after the last seq."""
    script = "for i in 1 2 3 4 5 6; do echo line$i; sleep 0.2; done"
    async with api.stream("POST", "exec", json={"shell": script, "detachable": True}) as response:
        seen = await read_until(response.aiter_lines(), lambda e: e.get("seq") == 1)
    # leaving the block disconnected the client
    job_id, last = seen[0]["id"], seen[-1]["seq"]
    listing = await api.get("exec")
    check_contract(listing, "GET", "/exec")
    (job,) = [job for job in listing.json()["jobs"] if job["id"] == job_id]
    assert job["running"] and job["detachable"] and job["shell"] == script
    response = await api.get(f"exec/{job_id}", params={"after": last})
    check_contract(response, "GET", f"/exec/{job_id}?after={last}")
    events = parse_events(response.content, event_validator)
    assert events[0] == {"type": "start", "id": job_id, "pid": seen[0]["pid"], "detachable": True}
    replayed = [event for event in seen + events if event["type"] == "stdout"]
    text = "".join(event["data"] for event in replayed)
    assert text == "".join(f"line{i}\n" for i in range(1, 7))
    assert events[-1]["type"] == "exit" and events[-1]["code"] == 0
    assert (await api.get(f"exec/{job_id}")).status_code == 404  # exit read: collected


async def test_exec_delete_stops_a_detached_job(api):
    """DELETE exec/<id> stops the whole group and answers its exit; the id is then gone."""
    body = {"shell": "sleep 1000 & sleep 1000 & echo started; wait", "detachable": True}
    async with api.stream("POST", "exec", json=body) as response:
        start, *_ = await read_until(response.aiter_lines(), lambda e: e["type"] == "stdout")
    pids = group_pids(start["pid"])
    assert len(pids) >= 3
    response = await api.delete(f"exec/{start['id']}")
    check_contract(response, "DELETE", f"/exec/{start['id']}")
    job = response.json()
    assert job["exit"]["stopped_by"] == "stop" and job["exit"]["signal_name"] == "SIGTERM"
    assert alive(pids) == []
    assert (await api.get(f"exec/{start['id']}")).status_code == 404
    missing = await api.delete(f"exec/{start['id']}")
    assert missing.status_code == 404
    check_contract(missing, "DELETE", f"/exec/{start['id']}")


async def test_exec_reattach_to_an_attached_job_is_refused(api):
    """A job started without detachable cannot be reattached: 409."""
    async with api.stream("POST", "exec", json={"argv": ["sleep", "30"]}) as response:
        lines = response.aiter_lines()
        start = json.loads(await anext(lines))
        conflict = await api.get(f"exec/{start['id']}")
        assert conflict.status_code == 409 and "detachable" in conflict.json()["message"]
        check_contract(conflict, "GET", f"/exec/{start['id']}")


async def test_exec_running_command_keeps_the_server_active(api, jp_serverapp):
    """While a silent command runs, the server's last activity keeps moving."""
    web_app = jp_serverapp.web_app
    async with api.stream("POST", "exec", json={"argv": ["sleep", "30"]}) as response:
        lines = response.aiter_lines()
        await read_until(lines, lambda e: e["type"] == "start")
        first = web_app.last_activity()
        await asyncio.sleep(1.0)  # heartbeat interval is 0.3 s here
        assert (web_app.last_activity() - first).total_seconds() >= 0.5


async def test_exec_server_shutdown_stops_running_commands(api, remote_dev):
    """stop_extension (server shutdown) kills every running command's group."""
    body = {"shell": "sleep 1000 & sleep 1000 & echo started; wait", "detachable": True}
    async with api.stream("POST", "exec", json=body) as response:
        start, *_ = await read_until(response.aiter_lines(), lambda e: e["type"] == "stdout")
    pids = group_pids(start["pid"])
    assert len(pids) >= 3
    await remote_dev.stop_extension()
    assert alive(pids) == []
    assert (
        remote_dev.settings[EXEC_SERVICE].jobs.get(start["id"]).exit_event()["stopped_by"]
        == "shutdown"
    )


@pytest.mark.parametrize("remote_dev_config", [{"exec_max_timeout": 0.5, "exec_kill_grace": 0.5}])
async def test_exec_max_timeout_caps_and_defaults_the_timeout(jp_fetch, event_validator):
    """exec_max_timeout refuses longer timeouts (400) and applies when none is asked for."""
    status, message = await refused(jp_fetch, json.dumps({"argv": ["true"], "timeout": 5}).encode())
    assert status == 400 and "limit" in message
    events = await run(jp_fetch, event_validator, {"argv": ["sleep", "30"]})
    assert [event["type"] for event in events][-2:] == ["timeout", "exit"]
    assert events[-1]["stopped_by"] == "timeout"

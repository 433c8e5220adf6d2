"""Malformed JSON bodies and fields on every JSON endpoint: a 400 naming the problem, never a 5xx,
nothing run or written."""

from __future__ import annotations

import json
import os

import pytest

from ..support.files_support import Api, snapshot
from ..support.openapi_check import assert_response_matches

SURROGATE = "x\\ud800"  # a lone surrogate, as a JSON escape (valid JSON, not valid Unicode)


async def refused(api: Api, path: str, body: bytes) -> tuple[int, str]:
    """POST ``body`` expecting an error: (status, message), checked against the contract."""
    response = await api.request("POST", path, body, {"Content-Type": "application/json"})
    assert response.code < 500, response.body
    assert_response_matches(response, "POST", f"/{path}", request_body=body)
    return response.code, json.loads(response.body)["message"]


EXEC_BODIES = [
    (b'{"argv": ["touch", "' + SURROGATE.encode() + b'"]}', "argv"),
    (b'{"argv": ["' + SURROGATE.encode() + b'"]}', "argv"),
    (b'{"shell": "touch ' + SURROGATE.encode() + b'"}', "shell"),
    (b'{"argv": ["touch", "ran"], "cwd": "' + SURROGATE.encode() + b'"}', "cwd"),
    (b'{"argv": ["touch", "ran"], "env": {"' + SURROGATE.encode() + b'": "1"}}', "env"),
    (b'{"argv": ["touch", "ran"], "env": {"A": "' + SURROGATE.encode() + b'"}}', "env"),
    (b'{"argv": ["touch", "ran"], "stdin": "' + SURROGATE.encode() + b'"}', "stdin"),
    ('{"argv": ["touch", "ran"], "stdin_b64": "é"}'.encode(), "stdin_b64"),
    (b'{"argv": ["touch", "ran"], "stdin_b64": 5}', "stdin_b64"),
    (b'{"argv": ["touch", "ran"], "timeout": NaN}', "NaN"),
    (b'{"argv": ["touch", "ran"], "timeout": Infinity}', "Infinity"),
    (b'{"argv": ["touch", "ran"], "timeout": 1e400}', "timeout"),
    (b'{"argv": ["touch", "ran"], "timeout": 1' + b"0" * 400 + b"}", "timeout"),
    (b'{"argv": ["touch", "ran"], "timeout": "5"}', "timeout"),
    (b'{"argv": ["touch", "ran"], "timeout": true}', "timeout"),
    (b'{"argv": ["touch", "ran"], "timeout": -1}', "timeout"),
    (b'{"argv": ["touch", "\xff\xfe"]}', "UTF-8"),
]


@pytest.mark.parametrize("body, words", EXEC_BODIES)
async def test_hostile_exec_bodies_answer_400(api, jp_root_dir, body, words):
    """Lone surrogates, bad base64, non-finite or non-number timeouts, non-UTF-8: 400, no run."""
    status, message = await refused(api, "exec", body)
    assert status == 400 and words in message, message
    assert not (jp_root_dir / "ran").exists() and not list(jp_root_dir.iterdir())


UPLOAD_BODIES = [
    (b'{"path": "a.txt", "size": 3, "sha256": {}}', "sha256"),
    (b'{"path": "a.txt", "size": 3, "sha256": 12}', "sha256"),
    (b'{"path": "a.txt", "size": 3, "mode": {}}', "mode"),
    (b'{"path": "a.txt", "size": 3, "mode": true}', "mode"),
    (b'{"path": "a.txt", "size": 3, "mode": 1.5}', "mode"),
    (b'{"path": "' + SURROGATE.encode() + b'", "size": 3}', "path"),
    (b'{"path": "a.txt", "size": 3.0}', "size"),
    (b'{"path": "a.txt", "size": NaN}', "NaN"),
    (b'{"path": "\xff.txt", "size": 3}', "UTF-8"),
    (b'["a.txt", 3]', "object"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b"", "empty"),
]


@pytest.mark.parametrize("body, words", UPLOAD_BODIES)
async def test_hostile_upload_bodies_answer_400(api, jp_root_dir, body, words):
    """POST uploads type-checks every field: 400 naming it, no part file created."""
    before = snapshot(jp_root_dir)
    status, message = await refused(api, "uploads", body)
    assert status == 400 and words in message, message
    assert snapshot(jp_root_dir) == before


@pytest.mark.parametrize(
    "body, words",
    [
        (b'{"entrypoint": "\xff"}', "UTF-8"),
        (b'{"entrypoint": "echo ' + SURROGATE.encode() + b'"}', "surrogate"),
        (b'{"entrypoint": "echo", "entrypoint_num_cpus": NaN}', "NaN"),
    ],
)
async def test_hostile_ray_job_bodies_answer_400(api, body, words):
    """POST ray/jobs reads its body safely too (Ray not configured: the body is checked first)."""
    status, message = await refused(api, "ray/jobs", body)
    assert status == 400 and words in message, message


async def test_hostile_exec_starts_leak_no_descriptors(api, jp_root_dir):
    """100 refused or failed exec starts leave the server's open descriptor count where it was."""
    bodies = [body for body, _ in EXEC_BODIES] + [b'{"argv": ["./no-such-program"]}']
    for body in bodies:  # warm-up: lazily opened descriptors (loggers, caches) open now
        await api.request("POST", "exec", body)
    before = len(os.listdir("/proc/self/fd"))
    for round_ in range(100):
        response = await api.request("POST", "exec", bodies[round_ % len(bodies)])
        assert 400 <= response.code < 500, response.body
    after = len(os.listdir("/proc/self/fd"))
    assert after - before < 5, f"{after - before} descriptors leaked over 100 failed starts"

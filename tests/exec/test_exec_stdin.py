"""POST exec with ``stdin_stream`` and POST exec/<id>/stdin on a real Jupyter server; the refused
cases of POST exec that name a shell's exit code (``reason``)."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

from ..support.openapi_check import assert_response_matches
from .exec_support import parse_events


async def send_stdin(jp_fetch, job_id: str, piece: bytes, eof: bool = False, code: int = 200):
    """POST a stdin piece; check the status and the contract; return the JSON answer."""
    query = f"?eof={int(eof)}"
    try:
        response = await jp_fetch(
            "remote-dev", "api", "exec", job_id, "stdin", method="POST", body=piece,
            params={"eof": str(int(eof))}, headers={"Content-Type": "application/octet-stream"},
        )  # fmt: skip
    except HTTPClientError as error:
        response = error.response
    assert response.code == code, response.body
    assert_response_matches(
        response, "POST", f"/exec/{job_id}/stdin{query}", piece, "application/octet-stream"
    )
    return json.loads(response.body)


async def read_stdout(lines, expected: str) -> None:
    """Read events until the stdout seen is ``expected`` (heartbeats and all skipped)."""
    seen = ""
    while len(seen) < len(expected):
        event = json.loads(await anext(lines))
        seen += event.get("data", "") if event["type"] == "stdout" else ""
    assert seen == expected


async def test_exec_stdin_stream_feeds_pieces_in_order(api, jp_fetch, event_validator):
    """Pieces reach the command in order while it runs; eof ends its input; afterwards a
    piece is not accepted."""
    code = "import sys\nprint('ready', flush=True)\nfor l in sys.stdin: print(l.upper(), end='', flush=True)"  # noqa: E501
    body = {"argv": ["python3", "-c", code], "stdin_stream": True}
    async with api.stream("POST", "exec", json=body) as response:
        lines = response.aiter_lines()
        start = json.loads(await anext(lines))
        await read_stdout(lines, "ready\n")
        assert await send_stdin(jp_fetch, start["id"], b"one\n") == {"accepted": True}
        await read_stdout(lines, "ONE\n")
        assert await send_stdin(jp_fetch, start["id"], b"t\xc3\xa9\n", eof=True) == {
            "accepted": True
        }
        rest = "\n".join([line async for line in lines]) + "\n"
    events = parse_events(rest.encode(), event_validator)
    assert "".join(e.get("data", "") for e in events if e["type"] == "stdout") == "TÉ\n"
    assert events[-1] == {"type": "exit", "code": 0, "seq": events[-1]["seq"]}


async def test_exec_stdin_refusals(api, jp_fetch):
    """A job without stdin_stream: 409; an unknown job: 404; a piece over 1 MiB: 413; eof not
    0/1, or stdin and stdin_stream together: 400."""
    async with api.stream("POST", "exec", json={"argv": ["sleep", "30"]}) as response:
        lines = response.aiter_lines()  # kept: a dropped iterator closes the stream
        start = json.loads(await anext(lines))
        answer = await send_stdin(jp_fetch, start["id"], b"x", code=409)
        assert "stdin_stream" in answer["message"]
    await send_stdin(jp_fetch, "no-such-job", b"x", code=404)
    body = {"argv": ["sleep", "30"], "stdin_stream": True}
    async with api.stream("POST", "exec", json=body) as response:
        lines = response.aiter_lines()  # kept: a dropped iterator closes the stream
        start = json.loads(await anext(lines))
        await send_stdin(jp_fetch, start["id"], b"\0" * (1024 * 1024 + 1), code=413)
        with pytest.raises(HTTPClientError) as bad_eof:
            await jp_fetch(
                "remote-dev", "api", "exec", start["id"], "stdin", method="POST", body=b"x",
                params={"eof": "yes"},
            )  # fmt: skip
        assert bad_eof.value.code == 400
    both = json.dumps({"argv": ["cat"], "stdin": "x", "stdin_stream": True}).encode()
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("remote-dev", "api", "exec", method="POST", body=both)
    assert error.value.code == 400


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["no-such-program-xyz"], "command not found"),
        (["./plain.txt"], "not executable"),
        (["./folder"], "not executable"),
    ],
)
async def test_exec_cannot_run_gives_the_shell_reason(jp_fetch, jp_root_dir, argv, reason):
    """A program that cannot start: 400 with reason "command not found" or "not executable"."""
    (jp_root_dir / "plain.txt").write_text("echo hi\n")
    (jp_root_dir / "folder").mkdir()
    raw = json.dumps({"argv": argv}).encode()
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("remote-dev", "api", "exec", method="POST", body=raw)
    assert error.value.code == 400
    answer = json.loads(error.value.response.body)
    assert answer["reason"] == reason and argv[0] in answer["message"]
    assert_response_matches(error.value.response, "POST", "/exec", raw)

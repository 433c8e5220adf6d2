"""Resumable uploads: POST uploads, PUT with Content-Range, resume after a drop, expiry."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest

from ..support.files_support import raw_request, request_head, sha256, temp_litter
from ..support.openapi_check import assert_response_matches

KiB = 1024


async def start(api, path: str, data: bytes, headers=None, **extra) -> dict:
    body = json.dumps({"path": path, "size": len(data), "sha256": sha256(data), **extra}).encode()
    response = await api.request("POST", "uploads", body, headers)
    assert response.code == 201, response.body
    assert_response_matches(response, "POST", "/uploads", body)
    return json.loads(response.body)


async def send(api, upload_id: str, data: bytes, start_at: int, stop: int):
    content_range = f"bytes {start_at}-{stop - 1}/{len(data)}"
    return await api.request(
        "PUT", f"uploads/{upload_id}", data[start_at:stop], {"Content-Range": content_range}
    )


async def test_uploads_in_two_parts(api, jp_root_dir):
    """Two ranges complete the upload; offsets are reported in between; the record is gone after."""
    data = os.urandom(300 * KiB)
    upload = await start(api, "up/two.bin", data, mode="755")
    assert upload["offset"] == 0 and len(upload["id"]) == 32
    first = await send(api, upload["id"], data, 0, 100 * KiB)
    assert first.code == 202 and first.headers["Upload-Offset"] == str(100 * KiB)
    assert_response_matches(first, "PUT", f"/uploads/{upload['id']}")
    head = await api.request("HEAD", f"uploads/{upload['id']}")
    assert head.headers["Upload-Offset"] == str(100 * KiB)
    state = await api.request("GET", f"uploads/{upload['id']}")
    assert json.loads(state.body)["offset"] == 100 * KiB
    assert_response_matches(state, "GET", f"/uploads/{upload['id']}")
    assert not (jp_root_dir / "up" / "two.bin").exists()
    last = await send(api, upload["id"], data, 100 * KiB, len(data))
    assert last.code == 201, last.body
    assert_response_matches(last, "PUT", f"/uploads/{upload['id']}")
    assert json.loads(last.body)["sha256"] == sha256(data)
    assert (jp_root_dir / "up" / "two.bin").read_bytes() == data
    assert os.stat(jp_root_dir / "up" / "two.bin").st_mode & 0o777 == 0o755
    assert (await api.request("GET", f"uploads/{upload['id']}")).code == 404
    assert temp_litter(jp_root_dir) == []


async def test_uploads_resume_after_client_dies(api, jp_root_dir):
    """A client killed mid-range resumes from the server's offset and the hash checks out."""
    data = os.urandom(2 * 1024 * KiB)
    upload = await start(api, "resumed.bin", data)
    head = request_head(
        api, "PUT", f"uploads/{upload['id']}",
        {"Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}", "Content-Length": str(len(data))},
    )  # fmt: skip
    await asyncio.to_thread(raw_request, api.port, head, data[: 1200 * KiB], 0.5)
    offset = 0
    for _ in range(50):  # the server notices the drop and fsyncs what it got
        answer = await api.request("HEAD", f"uploads/{upload['id']}")
        offset = int(answer.headers["Upload-Offset"])
        if offset == 1200 * KiB:
            break
        await asyncio.sleep(0.1)
    assert offset == 1200 * KiB
    assert not (jp_root_dir / "resumed.bin").exists()
    rest = await send(api, upload["id"], data, offset, len(data))
    assert rest.code == 201, rest.body
    assert (jp_root_dir / "resumed.bin").read_bytes() == data
    assert temp_litter(jp_root_dir) == []


async def test_uploads_wrong_offset_is_409(api, jp_root_dir):
    """A range that does not start at the held offset is refused and changes nothing."""
    data = b"abcdefgh" * 1000
    upload = await start(api, "gap.bin", data)
    response = await send(api, upload["id"], data, 100, len(data))
    assert response.code == 409 and "offset 0" in json.loads(response.body)["message"]
    assert_response_matches(response, "PUT", f"/uploads/{upload['id']}")
    held = await api.request("HEAD", f"uploads/{upload['id']}")
    assert held.headers["Upload-Offset"] == "0"


async def test_uploads_hash_mismatch_discards(api, jp_root_dir):
    """Bytes that do not match the announced sha256 are discarded; no file, no part left."""
    data = b"x" * 5000
    body = json.dumps({"path": "bad.bin", "size": len(data), "sha256": "0" * 64}).encode()
    upload = json.loads((await api.request("POST", "uploads", body)).body)
    response = await send(api, upload["id"], data, 0, len(data))
    assert response.code == 400 and "sha256" in json.loads(response.body)["message"]
    assert not (jp_root_dir / "bad.bin").exists()
    assert temp_litter(jp_root_dir) == []
    assert (await api.request("HEAD", f"uploads/{upload['id']}")).code == 404


async def test_uploads_preconditions_checked_at_start_and_end(api, jp_root_dir):
    """If-None-Match: * fails at POST for an existing file, and at the end if one appeared."""
    await api.put("exists.txt", b"old")
    body = json.dumps({"path": "exists.txt", "size": 3}).encode()
    refused = await api.request("POST", "uploads", body, {"If-None-Match": "*"})
    assert refused.code == 412
    data = b"new"
    upload = await start(api, "later.txt", data, {"If-None-Match": "*"})
    await api.put("later.txt", b"someone else")
    late = await send(api, upload["id"], data, 0, len(data))
    assert late.code == 412
    assert (jp_root_dir / "later.txt").read_bytes() == b"someone else"
    assert temp_litter(jp_root_dir) == []


@pytest.mark.parametrize(
    "body, status",
    [
        ({"path": "a.bin"}, 400),
        ({"path": "a.bin", "size": 0}, 400),
        ({"path": "../a.bin", "size": 3}, 400),
        ({"path": "a.bin", "size": 10 * 1024**4}, 413),
        ({"path": "a.bin", "size": 3, "sha256": "zz"}, 400),
    ],
)
async def test_uploads_bad_start_refused(api, jp_root_dir, body, status):
    """Malformed, hostile or oversized upload requests are refused with nothing created."""
    response = await api.request("POST", "uploads", json.dumps(body).encode())
    assert response.code == status, response.body
    assert_response_matches(response, "POST", "/uploads", json.dumps(body).encode())
    assert list(jp_root_dir.iterdir()) == []


async def test_uploads_cancel(api, jp_root_dir):
    """DELETE uploads/<id> removes the partial data."""
    data = b"y" * 4000
    upload = await start(api, "cancel.bin", data)
    await send(api, upload["id"], data, 0, 1000)
    assert len(temp_litter(jp_root_dir)) == 1
    assert (await api.request("DELETE", f"uploads/{upload['id']}")).code == 204
    assert temp_litter(jp_root_dir) == []
    assert (await api.request("HEAD", f"uploads/{upload['id']}")).code == 404


@pytest.mark.parametrize("remote_dev_config", [{"upload_expiry": 0.5}])
async def test_uploads_abandoned_are_swept(api, jp_root_dir, jp_serverapp, remote_dev):
    """The extension's sweeper deletes uploads idle for longer than upload_expiry."""
    data = b"z" * 4000
    upload = await start(api, "abandoned.bin", data)
    await send(api, upload["id"], data, 0, 1000)
    await remote_dev._start_jupyter_server_extension(jp_serverapp)
    deadline = time.monotonic() + 10
    while temp_litter(jp_root_dir) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert temp_litter(jp_root_dir) == []
    assert (await api.request("HEAD", f"uploads/{upload['id']}")).code == 404

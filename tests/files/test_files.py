"""PUT/GET/HEAD/DELETE files/<path> against a real Jupyter server."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import stat

import pytest

from ..support.files_support import (
    raw_request,
    request_head,
    sha256,
    snapshot,
    spec_path,
    temp_litter,
)
from ..support.openapi_check import assert_response_matches

MiB = 1024 * 1024


@pytest.mark.parametrize(
    "path, data",
    [
        ("empty.txt", b""),
        ("one.bin", b"\x00"),
        ("binary.bin", bytes(range(256)) * 17),
        ("données/ü ñ 日本 #?.txt", "héllo wörld".encode()),
        ("new/nested/deep/folder/file.py", b"print('hi')\n"),
    ],
)
async def test_files_round_trip(api, jp_root_dir, path, data):
    """What is PUT is stored byte for byte, and GET returns it with the same ETag."""
    put = await api.put(path, data)
    assert put.code == 201, put.body
    assert_response_matches(put, "PUT", f"/files/{spec_path(path)}")
    assert json.loads(put.body) == {"path": path, "size": len(data), "sha256": sha256(data)}
    assert put.headers["ETag"] == f'"{sha256(data)}"'
    assert (jp_root_dir / path).read_bytes() == data
    got = await api.get(path)
    assert got.code == 200
    assert got.body == data
    assert got.headers["ETag"] == put.headers["ETag"]
    assert got.headers["Content-Type"] == "application/octet-stream"
    if data:  # openapi-core reports an empty binary body as "missing data"
        assert_response_matches(got, "GET", f"/files/{spec_path(path)}")
    assert temp_litter(jp_root_dir) == []


async def test_files_replace_answers_200_and_keeps_mode(api, jp_root_dir):
    """Replacing a file answers 200 and keeps its permission bits unless X-File-Mode says."""
    assert (await api.put("run.sh", b"v1", {"X-File-Mode": "755"})).code == 201
    assert stat.S_IMODE((jp_root_dir / "run.sh").stat().st_mode) == 0o755
    again = await api.put("run.sh", b"v2")
    assert again.code == 200
    assert stat.S_IMODE((jp_root_dir / "run.sh").stat().st_mode) == 0o755
    assert (await api.put("run.sh", b"v3", {"X-File-Mode": "0644"})).code == 200
    assert stat.S_IMODE((jp_root_dir / "run.sh").stat().st_mode) == 0o644
    bad = await api.put("run.sh", b"v4", {"X-File-Mode": "4755"})
    assert bad.code == 400 and "X-File-Mode" in json.loads(bad.body)["message"]
    assert (jp_root_dir / "run.sh").read_bytes() == b"v3"


@pytest.mark.parametrize(
    "headers, status",
    [
        ({"If-Match": '"' + "0" * 64 + '"'}, 412),
        ({"If-None-Match": "*"}, 412),
        ({"X-Content-SHA256": "0" * 64}, 400),
        ({"X-Content-SHA256": "not-a-hash"}, 400),
    ],
)
async def test_files_failed_checks_leave_disk_unchanged(api, jp_root_dir, headers, status):
    """A failed If-Match, If-None-Match or X-Content-SHA256 changes nothing on disk."""
    await api.put("keep.txt", b"original")
    before = snapshot(jp_root_dir)
    response = await api.put("keep.txt", b"intruder", headers)
    assert response.code == status
    assert json.loads(response.body)["message"]
    assert_response_matches(response, "PUT", "/files/keep.txt")
    new_file = await api.put("sub/new.txt", b"intruder", headers)
    assert new_file.code in (status, 201)
    if new_file.code != 201:
        assert snapshot(jp_root_dir) == before
    assert (jp_root_dir / "keep.txt").read_bytes() == b"original"
    assert temp_litter(jp_root_dir) == []


async def test_files_conditional_writes_succeed_when_they_match(api, jp_root_dir):
    """If-Match with the current hash, If-None-Match on a new file and a right hash all write."""
    first = await api.put(
        "c.txt", b"one", {"If-None-Match": "*", "X-Content-SHA256": sha256(b"one")}
    )
    assert first.code == 201
    second = await api.put("c.txt", b"two", {"If-Match": first.headers["ETag"]})
    assert second.code == 200
    assert (jp_root_dir / "c.txt").read_bytes() == b"two"
    stale = await api.put("c.txt", b"three", {"If-Match": first.headers["ETag"]})
    assert stale.code == 412
    assert (jp_root_dir / "c.txt").read_bytes() == b"two"


async def test_files_get_range_and_conditional(api):
    """Range answers 206 with Content-Range; a matching If-None-Match answers 304."""
    data = bytes(range(100))
    etag = (await api.put("r.bin", data)).headers["ETag"]
    part = await api.get("r.bin", {"Range": "bytes=10-19"})
    assert part.code == 206 and part.body == data[10:20]
    assert part.headers["Content-Range"] == "bytes 10-19/100"
    assert_response_matches(part, "GET", "/files/r.bin")
    tail = await api.get("r.bin", {"Range": "bytes=-5"})
    assert tail.body == data[-5:]
    beyond = await api.get("r.bin", {"Range": "bytes=500-"})
    assert beyond.code == 416
    assert_response_matches(beyond, "GET", "/files/r.bin")
    cached = await api.get("r.bin", {"If-None-Match": etag})
    assert cached.code == 304 and cached.body == b""
    head = await api.request("HEAD", "files/r.bin")
    assert head.code == 200 and head.headers["Content-Length"] == "100"
    assert head.headers["ETag"] == etag


async def test_files_get_errors(api, jp_root_dir):
    """A missing file is 404, a folder is 400 naming tree/."""
    (jp_root_dir / "folder").mkdir()
    missing = await api.get("nope.txt")
    assert missing.code == 404
    assert_response_matches(missing, "GET", "/files/nope.txt")
    folder = await api.get("folder")
    assert folder.code == 400 and "tree/" in json.loads(folder.body)["message"]


async def test_files_delete(api, jp_root_dir):
    """DELETE removes files (honouring If-Match) and folders only with ?recursive=1."""
    await api.put("d/a.txt", b"a")
    stale = await api.request("DELETE", "files/d/a.txt", headers={"If-Match": '"' + "1" * 64 + '"'})
    assert stale.code == 412 and (jp_root_dir / "d/a.txt").exists()
    gone = await api.request("DELETE", "files/d/a.txt")
    assert gone.code == 204 and not (jp_root_dir / "d/a.txt").exists()
    assert_response_matches(gone, "DELETE", "/files/d%2Fa.txt")
    await api.put("d/b.txt", b"b")
    folder = await api.request("DELETE", "files/d")
    assert folder.code == 409 and (jp_root_dir / "d/b.txt").exists()
    recursive = await api.request("DELETE", "files/d?recursive=1")
    assert recursive.code == 204 and not (jp_root_dir / "d").exists()
    assert (await api.request("DELETE", "files/d")).code == 404


async def test_files_concurrent_puts_leave_exactly_one_version(api, jp_root_dir):
    """16 concurrent PUTs of different content to one path leave exactly one of them."""
    bodies = [bytes([i]) * (64 * 1024 + i) for i in range(16)]
    answers = await asyncio.gather(*(api.put("race.bin", body) for body in bodies))
    assert sorted(a.code for a in answers).count(201) == 1
    assert all(a.code in (200, 201) for a in answers)
    assert (jp_root_dir / "race.bin").read_bytes() in bodies
    assert temp_litter(jp_root_dir) == []


async def test_files_100mib_round_trip_streams(api, jp_root_dir, tmp_path):
    """A 100 MiB file streams up from disk and down to disk with matching sha256."""
    source, digest = tmp_path / "big.src", hashlib.sha256()
    with open(source, "wb") as out:
        for i in range(100):
            block = os.urandom(64) * (MiB // 64) if i % 10 == 0 else bytes([i]) * MiB
            digest.update(block)
            out.write(block)

    async def produce(write):
        with open(source, "rb") as file:
            while block := file.read(MiB):
                await write(block)

    put = await api.request(
        "PUT", "files/big/big.bin", body_producer=produce,
        headers={"Content-Length": str(100 * MiB), "X-Content-SHA256": digest.hexdigest()},
    )  # fmt: skip
    assert put.code == 201, put.body
    assert json.loads(put.body)["sha256"] == digest.hexdigest()
    received = hashlib.sha256()
    sizes = []

    def consume(chunk):
        sizes.append(len(chunk))
        received.update(chunk)

    got = await api.request("GET", "files/big/big.bin", streaming_callback=consume)
    assert got.code == 200
    assert received.hexdigest() == digest.hexdigest() and sum(sizes) == 100 * MiB
    assert max(sizes) <= MiB  # streamed in chunks, never one 100 MiB write


@pytest.mark.parametrize("remote_dev_config", [{"max_upload_size": 1000}])
async def test_files_over_limit_refused_before_body(api, jp_root_dir):
    """Headers announcing 10 GB get 413 at once and the connection closes unread."""
    head = request_head(api, "PUT", "files/huge.bin", {"Content-Length": str(10 * 1024**3)})
    reply, elapsed = await asyncio.to_thread(raw_request, api.port, head)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b"max_upload_size" in reply
    assert elapsed < 4  # answered and closed, not waiting for a body that never comes
    assert snapshot(jp_root_dir) == {}


@pytest.mark.parametrize("remote_dev_config", [{"max_upload_size": 1000}])
async def test_files_chunked_body_cut_off_at_limit(api, jp_root_dir):
    """A chunked body is answered 413 as soon as it passes the limit; nothing is written."""
    head = request_head(api, "PUT", "files/chunked.bin", {"Transfer-Encoding": "chunked"})
    chunks = b"".join(b"200\r\n" + b"x" * 512 + b"\r\n" for _ in range(4))  # 2048 bytes, no end
    reply, elapsed = await asyncio.to_thread(raw_request, api.port, head, chunks)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert elapsed < 4
    assert snapshot(jp_root_dir) == {}


async def test_files_client_dying_mid_upload_leaves_nothing(api, jp_root_dir):
    """A client that disconnects halfway leaves no target file and no temp file."""
    head = request_head(api, "PUT", "files/dies/half.bin", {"Content-Length": str(4 * MiB)})
    await asyncio.to_thread(raw_request, api.port, head, b"x" * (2 * MiB), 0.5)
    for _ in range(50):
        if not temp_litter(jp_root_dir):
            break
        await asyncio.sleep(0.1)
    assert temp_litter(jp_root_dir) == []
    assert snapshot(jp_root_dir) == {}


async def test_files_unauthorized_put_is_refused_before_body(api, jp_root_dir):
    """A PUT with a wrong token gets 403 from prepare() without its body being read."""
    head = request_head(
        api, "PUT", "files/x.bin", {"Content-Length": str(MiB), "Authorization": "token bad"}
    )
    reply, elapsed = await asyncio.to_thread(raw_request, api.port, head)
    assert reply.startswith(b"HTTP/1.1 403"), reply[:200]
    assert elapsed < 4
    assert snapshot(jp_root_dir) == {}


async def test_files_calls_count_as_server_activity(api, jp_serverapp):
    """A PUT and a GET of files/ move the server's last-activity time (the idle culler's clock)."""
    settings = jp_serverapp.web_app.settings
    settings["api_last_activity"] = None
    assert (await api.put("active.txt", b"x")).code == 201
    after_put = settings["api_last_activity"]
    assert after_put is not None
    await asyncio.sleep(0.01)
    assert (await api.get("active.txt")).code == 200
    assert settings["api_last_activity"] > after_put

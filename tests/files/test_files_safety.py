"""Deletes never follow links, malformed paths are 4xx, batches are capped, crash leftovers are
swept, and big files are never hashed on the event loop or under the replace lock."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import tarfile
import threading
import time

import pytest

from jupyter_remote_dev.files import fileio, manifest

from ..support.files_support import sha256, snapshot, temp_litter
from ..support.openapi_check import assert_response_matches

MiB = 1024 * 1024
TAR = {"Content-Type": "application/x-tar"}


def tar_of(members: list[tuple[str, bytes | None]], compress: bool = False) -> bytes:
    """A tar of files (bytes) and folders (None), in order."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue()) if compress else buffer.getvalue()


async def test_safety_delete_link_removes_the_link_only(api, jp_root_dir):
    """DELETE of a link to a file removes the link; the file it pointed to stays."""
    (jp_root_dir / "real.txt").write_bytes(b"keep me")
    os.symlink("real.txt", jp_root_dir / "ln.txt")
    response = await api.request("DELETE", "files/ln.txt")
    assert response.code == 204
    assert not os.path.lexists(jp_root_dir / "ln.txt")
    assert (jp_root_dir / "real.txt").read_bytes() == b"keep me"


async def test_safety_recursive_delete_of_a_link_keeps_the_folder(api, jp_root_dir):
    """DELETE ?recursive=1 of a link to a folder removes the link; the folder keeps every file,
    and a recursive delete of a folder holding a link does not reach through it (like rm -r)."""
    (jp_root_dir / "data" / "sub").mkdir(parents=True)
    (jp_root_dir / "data" / "sub" / "x.csv").write_bytes(b"1,2")
    os.symlink("data", jp_root_dir / "lndir")
    (jp_root_dir / "work").mkdir()
    os.symlink("../data", jp_root_dir / "work" / "data-link")
    before = snapshot(jp_root_dir / "data")
    assert (await api.request("DELETE", "files/lndir?recursive=1")).code == 204
    assert not os.path.lexists(jp_root_dir / "lndir")
    assert (await api.request("DELETE", "files/work?recursive=1")).code == 204
    assert not (jp_root_dir / "work").exists()
    assert snapshot(jp_root_dir / "data") == before


async def test_safety_lone_surrogate_path_is_400(api, jp_root_dir):
    """A path with a lone surrogate (valid JSON, not encodable) is a 400, not a 500."""
    body = json.dumps({"path": "x\ud800", "size": 3}).encode()
    response = await api.request("POST", "uploads", body)
    assert response.code == 400, response.body
    assert "path" in json.loads(response.body)["message"]  # names where the bad text is
    assert_response_matches(response, "POST", "/uploads", body)
    assert list(jp_root_dir.iterdir()) == []


async def test_safety_path_longer_than_path_max_with_root(api, jp_root_dir):
    """A path that fits 4096 bytes but exceeds PATH_MAX joined to the root is written, read,
    listed and deleted through descriptors (or refused with a 4xx): never a 500."""
    path = "/".join(f"{i:02d}" + "d" * 252 for i in range(16)) + "/f.txt"
    assert len(path.encode()) <= 4096 < len(str(jp_root_dir / path).encode())
    put = await api.put(path, b"deep")
    assert put.code == 201, put.body
    got = await api.get(path)
    assert got.code == 200 and got.body == b"deep"
    tree = await api.request("GET", "tree")
    assert tree.code == 200
    assert [f["path"] for f in json.loads(tree.body)["files"]] == [path]
    folder = path.rsplit("/", 1)[0]
    exec_answer = await api.request("POST", "exec", json.dumps({"argv": ["true"], "cwd": folder}))
    assert 400 <= exec_answer.code < 500
    assert (await api.request("DELETE", f"files/{path.split('/')[0]}?recursive=1")).code == 204
    assert list(jp_root_dir.iterdir()) == []


async def test_safety_batch_member_below_a_file_member_is_409(api, jp_root_dir):
    """Batch member ``d/child`` after a file member ``d`` fails alone with 409, not a 500."""
    response = await api.request("POST", "batch", tar_of([("d", b"file"), ("d/child", b"x")]), TAR)
    assert response.code == 200
    results = json.loads(response.body)["results"]
    assert [r["status"] for r in results] == [201, 409]
    assert (jp_root_dir / "d").read_bytes() == b"file"
    assert temp_litter(jp_root_dir) == []


@pytest.mark.parametrize("remote_dev_config", [{"batch_max_expanded_size": MiB}])
async def test_safety_batch_expanded_size_capped(api, jp_root_dir):
    """A small gzip body that unpacks past batch_max_expanded_size is a 413; nothing is kept,
    not even the folders of members written before the cap was passed."""
    body = tar_of(
        [("made/", None), ("made/a.bin", b"\0" * (MiB // 2)), ("b.bin", b"\0" * MiB)], True
    )
    assert len(body) < 8 * 1024
    response = await api.request("POST", "batch", body, {"Content-Type": "application/gzip"})
    assert response.code == 413, response.body
    assert "batch_max_expanded_size" in json.loads(response.body)["message"]
    assert snapshot(jp_root_dir) == {}


@pytest.mark.parametrize("remote_dev_config", [{"batch_max_files": 50}])
async def test_safety_batch_member_count_capped(api, jp_root_dir):
    """More members than batch_max_files is a 413 with nothing kept."""
    members = [(f"f{i}/", None) for i in range(10)] + [(f"e{i}", b"") for i in range(60)]
    response = await api.request("POST", "batch", tar_of(members), TAR)
    assert response.code == 413, response.body
    assert "batch_max_files" in json.loads(response.body)["message"]
    assert snapshot(jp_root_dir) == {}


async def test_safety_crash_leftovers_swept(api, jp_root_dir, jp_serverapp, remote_dev):
    """Temp files a killed server left behind are removed by the sweeper once older than
    temp_file_grace; fresh ones (a write in progress) and other dot-files stay."""
    (jp_root_dir / "sub").mkdir()
    old = jp_root_dir / "sub" / ".~remote-dev-0123456789abcdef.tmp"
    old_part = jp_root_dir / ".~remote-dev-fedcba9876543210.part"
    fresh = jp_root_dir / ".~remote-dev-aaaaaaaaaaaaaaaa.tmp"
    mine = jp_root_dir / "sub" / ".~notes.tmp"
    for path in (old, old_part, fresh, mine):
        path.write_bytes(b"partial")
    past = time.time() - getattr(remote_dev, "temp_file_grace", 3600) - 60
    for path in (old, old_part, mine):
        os.utime(path, (past, past))
    await remote_dev._start_jupyter_server_extension(jp_serverapp)
    for _ in range(200):
        if not old.exists() and not old_part.exists():
            break
        await asyncio.sleep(0.05)
    assert not old.exists() and not old_part.exists()
    assert fresh.exists() and mine.exists()


def record_hashing(monkeypatch) -> list[tuple[bool, bool]]:
    """Record, for every file hashed, (on the event loop's thread, replace lock held)."""
    calls: list[tuple[bool, bool]] = []
    loop_thread = threading.main_thread()
    for name in ("sha256", "sha256_fd"):
        original = getattr(manifest.HashCache, name, None)
        if original is None:
            continue

        def hooked(self, *args, _original=original, **kwargs):
            calls.append((threading.current_thread() is loop_thread, fileio.REPLACE_LOCK.locked()))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(manifest.HashCache, name, hooked)
    return calls


async def test_safety_delete_if_match_hashes_off_the_loop(api, jp_root_dir, monkeypatch):
    """DELETE with If-Match on a big file hashes it in a worker thread, never under the lock."""
    data = os.urandom(2 * MiB)
    (jp_root_dir / "big.bin").write_bytes(data)  # written behind our back: not in the cache
    calls = record_hashing(monkeypatch)
    response = await api.request("DELETE", "files/big.bin", headers={"If-Match": sha256(data)})
    assert response.code == 204
    assert calls and calls == [(False, False)] * len(calls)


async def test_safety_upload_preconditions_hash_off_the_loop(api, jp_root_dir, monkeypatch):
    """POST uploads with If-Match on a big file, and the install of a big PUT with If-Match,
    hash in a worker thread and never while holding the replace lock."""
    data = os.urandom(2 * MiB)
    (jp_root_dir / "big.bin").write_bytes(data)
    calls = record_hashing(monkeypatch)
    body = json.dumps({"path": "big.bin", "size": 3}).encode()
    started = await api.request("POST", "uploads", body, {"If-Match": sha256(data)})
    assert started.code == 201, started.body
    assert calls and calls == [(False, False)] * len(calls)
    calls.clear()
    (jp_root_dir / "big.bin").write_bytes(data[::-1])  # changed again: the PUT must re-hash
    put = await api.put("big.bin", b"new", {"If-Match": sha256(data[::-1])})
    assert put.code == 200, put.body
    assert calls and calls == [(False, False)] * len(calls)


async def test_safety_if_match_on_a_file_just_written_or_from_the_future(api, jp_root_dir):
    """If-Match works on a file the hash cache cannot trust yet (mtime now, or ahead of the
    clock as after a copy from a machine whose clock runs fast): hashed once, then checked."""
    (jp_root_dir / "fresh.txt").write_bytes(b"current")
    ahead = time.time_ns() + 3_600 * 10**9
    os.utime(jp_root_dir / "fresh.txt", ns=(ahead, ahead))
    put = await api.put("fresh.txt", b"next", {"If-Match": f'"{sha256(b"current")}"'})
    assert put.code == 200, put.body
    os.utime(jp_root_dir / "fresh.txt", ns=(ahead, ahead))
    headers = {"REMOTE_DEV.if_match": f'"{sha256(b"next")}"'}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo("fresh.txt")
        info.size, info.pax_headers = 5, headers
        archive.addfile(info, io.BytesIO(b"again"))
    batch = await api.request("POST", "batch", buffer.getvalue(), TAR)
    assert [r["status"] for r in json.loads(batch.body)["results"]] == [200]
    assert (jp_root_dir / "fresh.txt").read_bytes() == b"again"


async def test_safety_refused_requests_leak_no_descriptor(api, jp_root_dir, outside_link):
    """Refused and failed requests of every kind leave the server's open descriptors as they
    were (each walk opens and closes a descriptor per folder)."""
    await api.put("d/keep.txt", b"x")

    async def failing_round():
        stale = {"If-Match": '"' + "1" * 64 + '"'}
        assert (await api.put("d/keep.txt", b"y", stale)).code == 412
        assert (await api.put("d/keep.txt/below", b"y")).code == 409
        assert (await api.get("d/missing.txt")).code == 404
        assert (await api.get("out/secret.txt")).code == 403
        assert (await api.request("DELETE", "files/d")).code == 409
        assert (await api.request("GET", "tree/d/keep.txt")).code == 400

    await failing_round()  # warm up: lazily opened things stay open from now on
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        await failing_round()
    assert len(os.listdir("/proc/self/fd")) <= before + 2  # + the client's own connections


@pytest.fixture
def outside_link(jp_root_dir, tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_bytes(b"secret")
    os.symlink(tmp_path / "outside", jp_root_dir / "out")

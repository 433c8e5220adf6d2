"""POST batch: a tar stream of many files, each written atomically, with per-file results."""

from __future__ import annotations

import io
import json
import os

import pytest

from jupyter_remote_dev.files import batch
from jupyter_remote_dev.files.manifest import HashCache

from ..support.files_support import TAR, make_tar, post, sha256, snapshot, temp_litter
from ..support.openapi_check import assert_response_matches


async def test_batch_writes_many_files(api, jp_root_dir):
    """200 files in one request are all written, with per-file 201 results and hashes."""
    members = {f"proj/pkg{i % 10}/m{i}.py": f"x = {i}\n".encode() for i in range(200)}
    response = await post(api, make_tar(members, perm=0o755))
    assert response.code == 200
    answer = json.loads(response.body)
    assert answer["written"] == 200 and answer["failed"] == 0
    assert [r["path"] for r in answer["results"]] == list(members)
    for result in answer["results"]:
        assert result["status"] == 201
        assert result["sha256"] == sha256(members[result["path"]])
        assert (jp_root_dir / result["path"]).read_bytes() == members[result["path"]]
    assert os.stat(jp_root_dir / "proj/pkg0/m0.py").st_mode & 0o777 == 0o755
    again = json.loads((await post(api, make_tar(members))).body)
    assert {r["status"] for r in again["results"]} == {200}
    assert temp_litter(jp_root_dir) == []


async def test_batch_per_file_checks_fail_alone(api, jp_root_dir):
    """A member whose PAX sha256 or precondition fails is refused; its neighbours are written."""
    (jp_root_dir / "exists.txt").write_bytes(b"old")
    members = {"a.txt": b"a", "bad-hash.txt": b"b", "exists.txt": b"new", "stale.txt": b"s"}
    (jp_root_dir / "stale.txt").write_bytes(b"current")
    pax = {
        "a.txt": {"REMOTE_DEV.sha256": sha256(b"a")},
        "bad-hash.txt": {"REMOTE_DEV.sha256": "0" * 64},
        "exists.txt": {"REMOTE_DEV.if_none_match": "*"},
        "stale.txt": {"REMOTE_DEV.if_match": '"' + "1" * 64 + '"'},
    }
    answer = json.loads((await post(api, make_tar(members, pax))).body)
    assert [r["status"] for r in answer["results"]] == [201, 400, 412, 412]
    assert answer["written"] == 1 and answer["failed"] == 3
    assert (jp_root_dir / "a.txt").read_bytes() == b"a"
    assert not (jp_root_dir / "bad-hash.txt").exists()
    assert (jp_root_dir / "exists.txt").read_bytes() == b"old"
    assert (jp_root_dir / "stale.txt").read_bytes() == b"current"
    assert temp_litter(jp_root_dir) == []


async def test_batch_root_parameter_and_gzip(api, jp_root_dir):
    """?root= places members under a folder; a gzip-compressed tar is accepted."""
    body = make_tar({"x/y.txt": b"y"}, mode="w:gz")
    response = await post(api, body, "?root=dest/sub")
    assert json.loads(response.body)["results"][0]["path"] == "dest/sub/x/y.txt"
    assert (jp_root_dir / "dest/sub/x/y.txt").read_bytes() == b"y"


@pytest.mark.parametrize(
    "body, headers, status",
    [
        (b"this is not a tar file" * 100, TAR, 400),
        (make_tar({"a.txt": b"a"}), {"Content-Type": "application/json"}, 415),
        (make_tar({"a.txt": b"a"}), TAR, 413),
    ],
)
@pytest.mark.parametrize("remote_dev_config", [{"max_upload_size": 4096}])
async def test_batch_bad_requests_change_nothing(api, jp_root_dir, body, headers, status):
    """A non-tar body, a wrong content type or an oversized body is refused; nothing written."""
    if status == 413:
        body = make_tar({"a.txt": os.urandom(8192)})
    before = snapshot(jp_root_dir)
    response = await post(api, body, headers=headers)
    assert response.code == status, response.body
    assert json.loads(response.body)["message"]
    assert_response_matches(response, "POST", "/batch", body, "application/x-tar")
    assert snapshot(jp_root_dir) == before
    assert temp_litter(jp_root_dir) == []


async def test_batch_truncated_gzip_stream_leaves_nothing(api, jp_root_dir):
    """A gzip tar cut off mid-stream answers 400 and leaves no file, not even a temp file."""
    members = {f"m{i}.bin": os.urandom(100_000) for i in range(4)}
    whole = make_tar(members, mode="w:gz")
    before = snapshot(jp_root_dir)
    response = await post(api, whole[: len(whole) * 3 // 4])
    assert response.code == 400, response.body
    assert "tar stream" in json.loads(response.body)["message"]
    assert snapshot(jp_root_dir) == before
    assert temp_litter(jp_root_dir) == []


async def test_batch_folder_walks_once_per_folder_keep_every_rule(api, jp_root_dir):
    """Members spread over more folders than a batch keeps open (round-robin) all land; a member
    whose name is a link inside the root writes through it; one through a link leading out of the
    root, or into a folder now a file, fails alone."""
    outside = jp_root_dir.parent / "outside-batch"
    outside.mkdir()
    (jp_root_dir / "p/f0").mkdir(parents=True)
    (jp_root_dir / "p/f0/real.txt").write_bytes(b"old")
    os.symlink("real.txt", jp_root_dir / "p/f0/alias.txt")
    os.symlink(str(outside), jp_root_dir / "p/out")
    (jp_root_dir / "p/plain").write_bytes(b"a file")
    members = {f"p/f{i % 150}/m{i}.py": f"x = {i}\n".encode() for i in range(450)}
    members |= {"p/f0/alias.txt": b"via link", "p/out/x.txt": b"no", "p/plain/y.txt": b"no"}
    answer = json.loads((await post(api, make_tar(members))).body)
    statuses = {r["path"]: r["status"] for r in answer["results"]}
    assert answer["failed"] == 2, answer
    assert statuses["p/out/x.txt"] == 403 and statuses["p/plain/y.txt"] == 409
    for path, data in members.items():
        if statuses[path] < 300:
            assert (jp_root_dir / path).read_bytes() == data
    assert (jp_root_dir / "p/f0/real.txt").read_bytes() == b"via link"
    assert os.path.islink(jp_root_dir / "p/f0/alias.txt")
    assert list(outside.iterdir()) == []
    assert temp_litter(jp_root_dir) == []


def test_batch_holds_a_bounded_number_of_descriptors(tmp_path, monkeypatch):
    """A batch of 1,200 files is fsynced in bursts: every file is synced and written, and the
    open descriptors stay bounded (a batch may have up to 10,000 members by default)."""
    members = {f"many/m{i}.txt": f"{i}\n".encode() for i in range(1200)}
    open_at_sync: list[int] = []
    synced = 0
    real_fsync = os.fsync

    def counting_fsync(fd):
        nonlocal synced
        synced += 1
        open_at_sync.append(len(os.listdir("/proc/self/fd")))
        real_fsync(fd)

    monkeypatch.setattr(batch.os, "fsync", counting_fsync)
    before = len(os.listdir("/proc/self/fd"))
    limits = batch.BatchLimits(1 << 20, 10_000, 1 << 30)
    results = batch.unpack(
        io.BytesIO(make_tar(members)), str(tmp_path), "", True, HashCache(), limits
    )
    assert [r["status"] for r in results] == [201] * len(members)
    assert synced >= len(members)  # every file, then the folder
    assert max(open_at_sync) < before + 600  # held files, cached folders, the pool's own
    for path, data in members.items():
        assert (tmp_path / path).read_bytes() == data

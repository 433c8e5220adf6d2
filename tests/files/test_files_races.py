"""Races on the file layer made deterministic with a hook between two steps of a request, and a
stress run of concurrent writers and readers: a link or a moved folder never redirects a write
out of the root, every 200 is one complete version with its own ETag, the cache never lies."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import sys
import tarfile

import pytest

from ..support.files_support import sha256, snapshot, temp_litter

KiB = 1024


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


def patch_everywhere(monkeypatch, name: str, make_wrapper) -> None:
    """Wrap the function ``name`` in every files module that has it (the server runs in this
    process, so the hook runs between two steps of a real request)."""
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("jupyter_remote_dev.files") and hasattr(module, name):
            monkeypatch.setattr(module, name, make_wrapper(getattr(module, name)))


def before_first_call(monkeypatch, name: str, action) -> list:
    """Run ``action`` once, just before the first call of the files function ``name`` (patched
    everywhere, see :func:`patch_everywhere`); the returned list is non-empty once it ran."""
    ran = []

    def make_wrapper(original):
        def hooked(*args, **kwargs):
            if not ran:
                ran.append(True)
                action()
            return original(*args, **kwargs)

        return hooked

    patch_everywhere(monkeypatch, name, make_wrapper)
    return ran


def swap_for_link(root, relative: str, outside, move: bool) -> None:
    """Replace the folder ``relative`` by a symlink to a folder outside the root: its contents
    moved out (``move``), or left aside and an outside copy of its layout linked in."""
    folder = root / relative
    if move:
        target = outside / folder.name
        os.rename(folder, target)
    else:
        os.rename(folder, folder.with_name(folder.name + ".aside"))
        target = outside / "decoy"
        (target / "c").mkdir(parents=True)
    os.symlink(target, folder)


async def wait_for(predicate, rounds: int = 200) -> None:
    for _ in range(rounds):
        if predicate():
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the server never reached the expected step")


def names_outside(outside) -> set[str]:
    return {name for name in snapshot(outside) if not os.path.basename(name).startswith(".~")}


@pytest.mark.parametrize("move", [True, False], ids=["folder-moved-out", "folder-replaced"])
async def test_races_put_parent_swapped_for_link_mid_body(api, jp_root_dir, outside, move):
    """A PUT whose parent folder becomes a link out of the root halfway through the body writes
    nothing outside the root (409), and leaves no temp file inside."""
    (jp_root_dir / "a" / "b" / "c").mkdir(parents=True)
    half = b"x" * (64 * KiB)

    async def produce(write):
        await write(half)
        await wait_for(lambda: temp_litter(jp_root_dir / "a" / "b" / "c"))  # prepare() ran
        swap_for_link(jp_root_dir, "a/b", outside, move)
        await write(half)

    before = names_outside(outside)
    response = await api.request(
        "PUT", "files/a/b/c/raced.txt", body_producer=produce,
        headers={"Content-Length": str(2 * len(half))},
    )  # fmt: skip
    assert response.code == 409, (response.code, response.body)
    assert json.loads(response.body)["message"]
    assert names_outside(outside) - before <= {"b", "b/c", "decoy", "decoy/c"}
    assert not any(name.endswith("raced.txt") for name in snapshot(outside))
    assert not any(name.endswith("raced.txt") for name in snapshot(jp_root_dir))


async def test_races_upload_part_folder_swapped_for_link(api, jp_root_dir, outside):
    """A resumable upload whose folder became a link out of the root between two ranges
    refuses the next range (404): no part byte and no file land outside."""
    (jp_root_dir / "a" / "b").mkdir(parents=True)
    data = os.urandom(8 * KiB)
    body = json.dumps({"path": "a/b/big.bin", "size": len(data)}).encode()
    upload = json.loads((await api.request("POST", "uploads", body)).body)
    first = await api.request(
        "PUT",
        f"uploads/{upload['id']}",
        data[:4096],
        {"Content-Range": f"bytes 0-4095/{len(data)}"},
    )
    assert first.code == 202
    os.rename(jp_root_dir / "a" / "b", jp_root_dir / "a" / "b.aside")
    (outside / "b").mkdir()
    os.symlink(outside / "b", jp_root_dir / "a" / "b")
    held = await api.request("HEAD", f"uploads/{upload['id']}")  # resume like a client
    offset = int(held.headers.get("Upload-Offset", "0"))
    rest = await api.request(
        "PUT", f"uploads/{upload['id']}", data[offset:],
        {"Content-Range": f"bytes {offset}-{len(data) - 1}/{len(data)}"},
    )  # fmt: skip
    assert snapshot(outside) == {"b": None}  # no part byte went through the link
    assert rest.code == 404, rest.body


async def test_races_batch_folder_moved_out_before_rename(api, jp_root_dir, outside, monkeypatch):
    """A batch member whose folder is moved out of the root (and linked back) between writing its
    temp file and renaming it fails (403/409); nothing is installed outside."""
    (jp_root_dir / "a" / "b" / "c").mkdir(parents=True)

    def move_out():
        swap_for_link(jp_root_dir, "a/b", outside, move=True)

    # after writing, before renaming
    swapped = before_first_call(monkeypatch, "parse_sha256", move_out)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("a/b/c/m.txt")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"hello"))
    response = await api.request(
        "POST", "batch", buffer.getvalue(), {"Content-Type": "application/x-tar"}
    )
    assert swapped
    assert response.code == 200
    result = json.loads(response.body)["results"][0]
    assert result["status"] in (403, 409), result  # the link is refused, or the moved folder
    assert not (outside / "b" / "c" / "m.txt").exists()


async def test_races_etag_is_for_the_inode_written(api, jp_root_dir, monkeypatch):
    """Another writer replacing the file between our rename and our folder fsync does not make
    HEAD, GET or tree/ advertise our hash for their bytes."""
    theirs = jp_root_dir / "theirs.tmp"
    theirs.write_bytes(b"their version")

    def replace_with_theirs():
        os.replace(theirs, jp_root_dir / "race.txt")

    replaced = before_first_call(monkeypatch, "fsync_folder", replace_with_theirs)
    assert (await api.put("race.txt", b"our version")).code == 201
    assert replaced
    truth = f'"{sha256(b"their version")}"'
    assert (await api.request("HEAD", "files/race.txt")).headers["ETag"] == truth
    got = await api.get("race.txt")
    assert got.body == b"their version" and got.headers["ETag"] == truth
    tree = json.loads((await api.request("GET", "tree")).body)
    assert [f["sha256"] for f in tree["files"] if f["path"] == "race.txt"] == [truth.strip('"')]
    stale = await api.put("race.txt", b"clobber", {"If-Match": f'"{sha256(b"our version")}"'})
    assert stale.code == 412


async def test_races_get_during_replace_is_one_version(api, jp_root_dir, monkeypatch):
    """A replace landing between a GET's headers and its body cannot tear the answer: the body
    is the complete version the ETag and Content-Length describe."""
    old, new = b"old version " * 5000, b"new"
    assert (await api.put("doc.txt", old)).code == 201

    def replace_doc():
        (jp_root_dir / "next.tmp").write_bytes(new)
        os.replace(jp_root_dir / "next.tmp", jp_root_dir / "doc.txt")

    # between the GET's headers (its range is parsed) and its body
    replaced = before_first_call(monkeypatch, "parse_range", replace_doc)
    got = await api.get("doc.txt")
    assert replaced
    assert got.code == 200
    assert got.body == old
    assert got.headers["ETag"] == f'"{sha256(old)}"'
    assert int(got.headers["Content-Length"]) == len(old)


ROUNDS = 3
"""Without the fixes, about 1 round in 10 advertised a wrong ETag (issue 12); the deterministic
tests above pin each cause, this one checks the whole under real concurrency."""


@pytest.mark.parametrize("round_number", range(ROUNDS))
async def test_races_16_writers_8_readers(api, jp_root_dir, round_number):
    """16 writers and 8 readers on one path: every 200 is one writer's complete bytes with that
    version's ETag, and afterwards the advertised ETag is the hash of the bytes on disk."""
    bodies = [bytes([65 + i]) * (48 * KiB + 997 * i) for i in range(16)]
    known = {hashlib.sha256(body).hexdigest(): body for body in bodies}
    assert (await api.put("hot.bin", bodies[0])).code == 201
    done = asyncio.Event()
    reads: list[tuple[bytes, str]] = []

    async def reader():
        while not done.is_set():
            got = await api.get("hot.bin")
            assert got.code == 200, got.body
            reads.append((got.body, got.headers["ETag"].strip('"')))

    async def writers():
        answers = await asyncio.gather(*(api.put("hot.bin", body) for body in bodies))
        done.set()
        return answers

    answers, *_ = await asyncio.gather(writers(), *(reader() for _ in range(8)))
    assert all(a.code in (200, 201) for a in answers)
    assert reads
    for body, etag in reads:
        assert known.get(etag) == body
    on_disk = (jp_root_dir / "hot.bin").read_bytes()
    head = await api.request("HEAD", "files/hot.bin")
    assert head.headers["ETag"] == f'"{sha256(on_disk)}"'
    tree = json.loads((await api.request("GET", "tree")).body)
    assert [f["sha256"] for f in tree["files"] if f["path"] == "hot.bin"] == [sha256(on_disk)]
    assert temp_litter(jp_root_dir) == []


async def test_races_get_of_a_file_rewritten_in_place_is_never_a_torn_200(
    api, jp_root_dir, monkeypatch
):
    """Another program rewriting the file in place (not by rename) while a GET sends it: the
    connection is closed before the last chunk instead of completing a 200 of mixed bytes."""
    old = b"a" * (3 * 1024 * KiB)
    assert (await api.put("inplace.bin", old)).code == 201
    import jupyter_remote_dev.files.handlers as handlers

    original, rewritten = handlers.FileHandler.flush, []

    def hooked(self, *args, **kwargs):  # after the first chunk went out
        if not rewritten and self.request.method == "GET":
            rewritten.append(True)
            with open(jp_root_dir / "inplace.bin", "r+b") as file:
                file.write(b"b" * (2 * 1024 * KiB) + b"tail")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(handlers.FileHandler, "flush", hooked)
    try:
        got = await api.get("inplace.bin")
    except Exception:  # the connection was closed mid-body: what a torn read must look like
        got = None
    assert rewritten
    assert got is None or got.code != 200 or got.body == old


async def test_races_delete_folder_moved_out_before_unlink(api, jp_root_dir, outside, monkeypatch):
    """A DELETE whose folder is moved out of the root (and linked back) between its walk and the
    unlink deletes nothing outside: 409."""
    (jp_root_dir / "a" / "b").mkdir(parents=True)
    (jp_root_dir / "a" / "b" / "x.txt").write_bytes(b"precious")

    def move_out():
        swap_for_link(jp_root_dir, "a/b", outside, move=True)

    swapped = before_first_call(monkeypatch, "check_preconditions", move_out)
    response = await api.request("DELETE", "files/a/b/x.txt")
    assert swapped
    assert (outside / "b" / "x.txt").read_bytes() == b"precious"
    assert response.code == 409, response.body

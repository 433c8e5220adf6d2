"""What the issue asks of the protocol beyond litmus: ``DAV: 1, 2``, ``Range`` on GET, LOCK
timeouts, PROPFIND depth infinity, Overwrite and Depth on COPY/MOVE."""

from __future__ import annotations

import re

from .dav_support import DavServer

LOCK = (
    '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
    "<D:locktype><D:write/></D:locktype><D:owner>me</D:owner></D:lockinfo>"
)


def test_options_says_classes_1_and_2(server: DavServer):
    with server.client() as client:
        folder = client.options(server.dav)
        missing = client.options(server.dav + "not-there-yet.txt")
    assert folder.status_code == missing.status_code == 200
    assert [c.strip() for c in folder.headers["DAV"].split(",")][:2] == ["1", "2"]
    for method in ("PROPFIND", "PROPPATCH", "COPY", "MOVE", "LOCK", "UNLOCK", "DELETE"):
        assert method in folder.headers["Allow"], method
    for method in ("PUT", "MKCOL"):  # what makes a new file or folder
        assert method in missing.headers["Allow"], method


def test_range_on_get(server: DavServer):
    (server.root / "range.txt").write_bytes(b"0123456789")
    with server.client() as client:
        part = client.get(server.dav + "range.txt", headers={"Range": "bytes=2-5"})
        assert part.status_code == 206 and part.content == b"2345"
        assert part.headers["Content-Range"] == "bytes 2-5/10"
        tail = client.get(server.dav + "range.txt", headers={"Range": "bytes=-3"})
        assert tail.status_code == 206 and tail.content == b"789"


def test_lock_timeout_is_granted_and_enforced(server: DavServer):
    (server.root / "locked.txt").write_text("v1")
    with server.client() as client:
        lock = client.request(
            "LOCK", server.dav + "locked.txt", content=LOCK.encode(),
            headers={"Timeout": "Second-120", "Depth": "0"},
        )  # fmt: skip
        assert lock.status_code == 200, lock.text
        granted = re.search(r"<ns0:timeout>Second-(\d+)</ns0:timeout>", lock.text)
        assert granted and 100 <= int(granted.group(1)) <= 120, lock.text  # seconds left
        token = lock.headers["Lock-Token"]
        assert client.put(server.dav + "locked.txt", content=b"v2").status_code == 423
        held = client.put(server.dav + "locked.txt", content=b"v2", headers={"If": f"({token})"})
        assert held.status_code == 204, held.text
        unlock = client.request("UNLOCK", server.dav + "locked.txt", headers={"Lock-Token": token})
        assert unlock.status_code == 204
    assert (server.root / "locked.txt").read_text() == "v2"


def test_propfind_depth_infinity_lists_the_whole_tree(server: DavServer):
    (server.root / "deep" / "a" / "b").mkdir(parents=True)
    (server.root / "deep" / "a" / "b" / "leaf.txt").write_text("leaf")
    with server.client() as client:
        answer = client.request("PROPFIND", server.dav + "deep/", headers={"Depth": "infinity"})
    assert answer.status_code == 207
    hrefs = re.findall(r"<ns0:href>([^<]+)</ns0:href>", answer.text)
    assert hrefs == [
        "/remote-dev/dav/deep/", "/remote-dev/dav/deep/a/", "/remote-dev/dav/deep/a/b/",
        "/remote-dev/dav/deep/a/b/leaf.txt",
    ]  # fmt: skip


def test_copy_and_move_honour_overwrite_and_depth(server: DavServer):
    tree = server.root / "cm"
    (tree / "src" / "inner").mkdir(parents=True)
    (tree / "src" / "inner" / "f.txt").write_text("inner")
    (tree / "src" / "top.txt").write_text("top")
    (tree / "taken.txt").write_text("keep me")
    base = server.dav + "cm/"
    with server.client() as client:
        shallow = client.request(
            "COPY", base + "src/", headers={"Destination": base + "shallow/", "Depth": "0"}
        )
        assert shallow.status_code in (201, 204)
        deep = client.request("COPY", base + "src/", headers={"Destination": base + "deep/"})
        assert deep.status_code == 201
        refused = client.request(
            "MOVE", base + "src/top.txt",
            headers={"Destination": base + "taken.txt", "Overwrite": "F"},
        )  # fmt: skip
        assert refused.status_code == 412
        moved = client.request(
            "MOVE", base + "src/top.txt",
            headers={"Destination": base + "taken.txt", "Overwrite": "T"},
        )  # fmt: skip
        assert moved.status_code == 204
    assert list((tree / "shallow").iterdir()) == []
    assert (tree / "deep" / "inner" / "f.txt").read_text() == "inner"
    assert (tree / "taken.txt").read_text() == "top" and not (tree / "src" / "top.txt").exists()

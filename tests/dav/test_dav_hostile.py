"""The file layer's hostile cases through WebDAV: links out, swapped folders, Destinations
elsewhere, ``..``, NUL, overlong names, ``.git``, racing and cut-off PUTs. Each is refused (or
lands whole) with nothing changed outside the root."""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
import time
from pathlib import Path

import pytest

from ..support.files_support import snapshot
from .dav_support import DavServer, dav_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Dot-files allowed (the default, said here), so ``.git`` is reachable and must still not be
    writable."""
    config = {"RemoteDevExtension": {"allow_hidden_files": True}}
    with dav_server(tmp_path_factory.mktemp("hostile"), config=config) as running:
        yield running


@pytest.fixture
def outside(server: DavServer) -> Path:
    """A folder beside the root with a secret in it, and links to it from inside the root."""
    folder = server.root.parent / "outside"
    folder.mkdir(exist_ok=True)
    (folder / "secret.txt").write_text("secret")
    links = server.root / "links"
    links.mkdir(exist_ok=True)
    for name, target in (("out-dir", folder), ("out-file", folder / "secret.txt")):
        if not (links / name).is_symlink():
            (links / name).symlink_to(target)
    return folder


def world(server: DavServer) -> tuple:
    """Everything under the root, and the names beside it (the server's log changes there)."""
    return snapshot(server.root), sorted(os.listdir(server.root.parent))


def raw(server: DavServer, method: str, path: str, headers=None, body=b"") -> int:
    """Send ``path`` exactly as given (no client-side normalisation); the status."""
    host = server.url.split("/")[2]
    connection = http.client.HTTPConnection(host, timeout=60)
    try:
        headers = {"Authorization": f"token {server.token}", **(headers or {})}
        connection.request(method, path, body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def test_links_out_of_the_root_are_not_listed_read_written_or_deleted(server, outside):
    before = snapshot(outside)
    with server.client() as client:
        listing = client.request("PROPFIND", server.dav + "links/", headers={"Depth": "1"})
        assert listing.status_code == 207
        assert "out-dir" not in listing.text and "out-file" not in listing.text
        assert client.get(server.dav + "links/out-file").status_code == 403
        assert client.get(server.dav + "links/out-dir/secret.txt").status_code == 403
        assert client.put(server.dav + "links/out-dir/new.txt", content=b"x").status_code == 403
        assert client.put(server.dav + "links/out-file", content=b"x").status_code == 403
        assert client.delete(server.dav + "links/out-file").status_code == 403
        assert client.delete(server.dav + "links/out-dir/secret.txt").status_code == 403
        moved = client.request(
            "MOVE", server.dav + "links/out-dir/secret.txt",
            headers={"Destination": server.dav + "stolen.txt"},
        )  # fmt: skip
        assert moved.status_code == 403
        copied = client.request(
            "COPY", server.dav + "links/out-file", headers={"Destination": server.dav + "c.txt"}
        )
        assert copied.status_code == 403
    assert snapshot(outside) == before
    assert (server.root / "links" / "out-file").is_symlink()
    assert not (server.root / "stolen.txt").exists() and not (server.root / "c.txt").exists()


def test_destinations_elsewhere_are_refused(server):
    """Another host, a path outside the drive, or climbing out: refused, the source stays."""
    (server.root / "source.txt").write_text("stays")
    before = world(server)
    port = server.url.split(":")[2].split("/")[0]
    destinations = [
        f"http://evil.example:{port}/remote-dev/dav/x.txt",
        f"{server.url}api/contents/x.txt",
        f"{server.dav}../../x.txt",
        "/remote-dev/dav/%2e%2e/%2e%2e/x.txt",
    ]
    with server.client() as client:
        for destination in destinations:
            for method in ("MOVE", "COPY"):
                answer = client.request(
                    method, server.dav + "source.txt", headers={"Destination": destination}
                )
                assert answer.status_code in (400, 403, 502), (method, destination, answer.text)
            assert answer.json()["message"]
    assert world(server) == before


@pytest.mark.parametrize(
    "path",
    [
        "/remote-dev/dav/../../api/contents",
        "/remote-dev/dav/%2e%2e/%2e%2e/etc/passwd",
        "/remote-dev/dav/a%00b.txt",
        "/remote-dev/dav/" + "n" * 300 + ".txt",
        "/remote-dev/dav/ctl%01.txt",
    ],
)
def test_malformed_paths_are_refused_before_any_change(server, path):
    before = world(server)
    for method in ("PUT", "MKCOL", "GET", "DELETE"):
        status = raw(server, method, path, body=b"data" if method == "PUT" else b"")
        assert status in (400, 403, 404), (method, path, status)
    assert world(server) == before


def test_git_internals_are_never_reachable(server):
    """With dot-files allowed, ``.git`` is still neither listed, read, written nor removed (the
    file API's rule)."""
    git = server.root / "repo" / ".git"
    git.mkdir(parents=True, exist_ok=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (server.root / "repo" / "tracked.txt").write_text("v1")
    before = snapshot(git)
    dav = server.dav + "repo/"
    with server.client() as client:
        head = client.get(dav + ".git/HEAD")
        assert head.status_code == 403 and "never reachable" in head.json()["message"]
        listing = client.request("PROPFIND", dav, headers={"Depth": "1"}).text
        assert "tracked.txt" in listing and ".git" not in listing
        assert client.put(dav + ".git/HEAD", content=b"evil").status_code == 403
        assert client.put(dav + ".git/hooks-new", content=b"evil").status_code == 403
        assert client.request("MKCOL", dav + ".git/hooks/").status_code == 403
        assert client.delete(dav + ".git/HEAD").status_code == 403
        assert client.delete(dav + ".git/").status_code in (207, 403)  # 207: per member, all 403
        into = {"Destination": dav + ".git/tracked.txt"}
        assert client.request("COPY", dav + "tracked.txt", headers=into).status_code == 403
        assert client.request("MOVE", dav + "tracked.txt", headers=into).status_code == 403
        out = {"Destination": dav + "HEAD-copy"}
        assert client.request("MOVE", dav + ".git/HEAD", headers=out).status_code == 403
        assert client.put(dav + ".env", content=b"A=1").status_code == 201  # dot-files are fine
    assert snapshot(git) == before
    assert (server.root / "repo" / "tracked.txt").read_text() == "v1"


def test_etag_is_the_file_apis_sha256_and_if_match_means_the_same(server):
    body = b"same bytes both ways\n"
    digest = hashlib.sha256(body).hexdigest()
    with server.client() as client:
        put = client.put(server.dav + "etag.txt", content=body)
        assert put.headers["ETag"] == f'"{digest}"'
        api = client.get(server.url + "remote-dev/api/files/etag.txt")
        assert (
            api.headers["ETag"]
            == f'"{digest}"'
            == client.get(server.dav + "etag.txt").headers["ETag"]
        )
        found = client.request("PROPFIND", server.dav + "etag.txt", headers={"Depth": "0"}).text
        assert digest in found
        stale = client.put(
            server.dav + "etag.txt", content=b"x", headers={"If-Match": '"0' + digest[1:] + '"'}
        )
        assert stale.status_code == 412
        fresh = client.put(
            server.dav + "etag.txt", content=b"v2", headers={"If-Match": f'"{digest}"'}
        )
        assert fresh.status_code == 204, fresh.text
    assert (server.root / "etag.txt").read_bytes() == b"v2"


def test_concurrent_puts_of_one_file_last_writer_wins_whole(server):
    bodies = [bytes([65 + i]) * (3 * 1024 * 1024 + i) for i in range(4)]
    statuses = []

    def put(body):
        with server.client() as client:
            statuses.append(client.put(server.dav + "raced.bin", content=body).status_code)

    threads = [threading.Thread(target=put, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) and all(s in (201, 204) for s in statuses), statuses
    assert (server.root / "raced.bin").read_bytes() in bodies
    assert not [p for p in server.root.iterdir() if p.name.startswith(".~remote-dev-")]


def test_a_put_cut_mid_body_keeps_the_old_version(server):
    (server.root / "cut.bin").write_bytes(b"old version")
    host, port = server.url.split("/")[2].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("PUT", "/remote-dev/dav/cut.bin")
    connection.putheader("Authorization", f"token {server.token}")
    connection.putheader("Content-Length", str(20 * 1024 * 1024))
    connection.endheaders()
    connection.send(b"n" * (3 * 1024 * 1024))
    time.sleep(0.5)
    connection.sock.close()
    deadline = time.monotonic() + 15
    while [p for p in server.root.iterdir() if p.name.startswith(".~remote-dev-")]:
        assert time.monotonic() < deadline, "the temp file of the cut PUT was left behind"
        time.sleep(0.1)
    assert (server.root / "cut.bin").read_bytes() == b"old version"


def test_a_link_swapped_in_mid_put_writes_nothing_outside(server, outside):
    """The target's folder is replaced by a link out while the body arrives: 409, the file lands
    neither outside nor in the moved folder."""
    swap = server.root / "swap"
    (swap / "dir").mkdir(parents=True, exist_ok=True)
    before = snapshot(outside)

    def body():
        yield b"a" * 1024 * 1024
        deadline = time.monotonic() + 30  # the server is writing to its temp file now
        while not [p for p in (swap / "dir").iterdir() if p.name.startswith(".~remote-dev-")]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.rename(swap / "dir", swap / "moved")
        os.symlink(outside, swap / "dir")
        yield b"b" * 1024 * 1024

    with server.client() as client:
        answer = client.put(server.dav + "swap/dir/new.bin", content=body())
    assert answer.status_code == 409, answer.text
    assert "moved or replaced" in answer.json()["message"]
    assert snapshot(outside) == before
    assert list((swap / "moved").iterdir()) == []


def test_refusals_sent_before_the_body_is_in_never_break_the_next_request(server):
    """wsgidav refuses from its thread, maybe before tornado has read the body: the answer says
    ``Connection: close`` then, so a keep-alive client's next request never meets a closed
    connection (this failed about one time in six before)."""
    (server.root / "repo" / ".git").mkdir(parents=True, exist_ok=True)
    with server.client() as client:
        for i in range(20):
            refused = client.put(server.dav + "repo/.git/x", content=b"x" * (i * 4096 + 1))
            assert refused.status_code == 403
            made = client.request("MKCOL", server.dav + f"after-refusal-{i}/")
            assert made.status_code == 201, made.text
    assert not (server.root / "repo" / ".git" / "x").exists()

"""The drive's auth matrix: no credentials, wrong token, Basic/token/Bearer, a read-only policy,
and the dot-file policy of the file API."""

from __future__ import annotations

import httpx
import pytest

from .dav_support import DavServer, dav_server

PROPFIND_ROOT = {"Depth": "0"}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_no_credentials_get_401_with_a_basic_challenge(server: DavServer):
    """Every method, no credentials: 401 naming a Basic realm (so clients prompt), nothing done."""
    with httpx.Client(timeout=30) as anonymous:
        for method in ("PROPFIND", "GET", "PUT", "MKCOL", "DELETE", "LOCK", "OPTIONS"):
            body = b"x" * 100_000 if method == "PUT" else None
            answer = anonymous.request(method, server.dav + "noauth/file.txt", content=body)
            assert answer.status_code == 401, (method, answer.text)
            assert answer.headers["WWW-Authenticate"].startswith('Basic realm="'), method
        big = anonymous.put(server.dav + "noauth.bin", content=b"y" * 4_000_000)
        assert big.status_code == 401 and big.headers["Connection"] == "close"
    assert not (server.root / "noauth").exists() and not (server.root / "noauth.bin").exists()


@pytest.mark.parametrize("scheme", ["basic", "token", "bearer"])
def test_wrong_token_is_401_in_every_scheme(server: DavServer, scheme):
    """A wrong token, sent the three ways clients send one: 401, nothing written."""
    headers, auth = {}, None
    if scheme == "basic":
        auth = ("alice", "wrong-" + server.token)
    else:
        headers = {"Authorization": f"{scheme} wrong-{server.token}"}
    with httpx.Client(timeout=30, auth=auth, headers=headers) as client:
        answer = client.put(server.dav + f"wrong-{scheme}.txt", content=b"nope")
        assert answer.status_code == 401, answer.text
        assert client.request("PROPFIND", server.dav, headers=PROPFIND_ROOT).status_code == 401
    assert not (server.root / f"wrong-{scheme}.txt").exists()


@pytest.mark.parametrize(
    "how",
    ["basic-any-user", "basic-empty-user", "token", "bearer"],
)
def test_the_token_works_as_basic_password_token_and_bearer(server: DavServer, how):
    """Basic with any user name (or none) and the token as password; ``token``; ``Bearer``."""
    auth, headers = None, {}
    if how == "basic-any-user":
        auth = ("whoever", server.token)
    elif how == "basic-empty-user":
        auth = ("", server.token)
    elif how == "token":
        headers = {"Authorization": f"token {server.token}"}
    else:
        headers = bearer(server.token)
    with httpx.Client(timeout=30, auth=auth, headers=headers) as client:
        put = client.put(server.dav + f"{how}.txt", content=how.encode())
        assert put.status_code == 201, put.text
        assert client.get(server.dav + f"{how}.txt").content == how.encode()
        assert client.request("PROPFIND", server.dav, headers=PROPFIND_ROOT).status_code == 207
    assert (server.root / f"{how}.txt").read_bytes() == how.encode()


def test_hidden_files_follow_the_file_api_policy_on(server: DavServer):
    """allow_hidden_files on (the default): dot-files are listed, read and written, as files/."""
    (server.root / ".shown").write_text("dot")
    with server.client() as client:
        listing = client.request("PROPFIND", server.dav, headers={"Depth": "1"}).text
        assert ".shown" in listing
        assert client.get(server.dav + ".shown").text == "dot"
        assert client.put(server.dav + ".written", content=b"x").status_code == 201
    assert (server.root / ".written").read_bytes() == b"x"


@pytest.fixture(scope="module")
def no_dotfiles(tmp_path_factory):
    config = {"RemoteDevExtension": {"allow_hidden_files": False}}
    with dav_server(tmp_path_factory.mktemp("no-dotfiles"), config=config) as running:
        yield running


def test_hidden_files_follow_the_file_api_policy_off(no_dotfiles: DavServer):
    """allow_hidden_files off: dot-files are neither listed, read nor written."""
    server = no_dotfiles
    (server.root / ".secret").write_text("hidden")
    (server.root / "shown.txt").write_text("shown")
    with server.client() as client:
        listing = client.request("PROPFIND", server.dav, headers={"Depth": "1"}).text
        assert "shown.txt" in listing and ".secret" not in listing
        assert client.get(server.dav + ".secret").status_code == 403
        assert client.put(server.dav + ".new", content=b"x").status_code == 403
        assert client.request("MKCOL", server.dav + ".folder/").status_code == 403
    assert not (server.root / ".new").exists() and not (server.root / ".folder").exists()


@pytest.fixture(scope="module")
def readonly(tmp_path_factory):
    config = {"ServerApp": {"authorizer_class": "tests.dav.dav_support.ReadOnlyContents"}}
    with dav_server(tmp_path_factory.mktemp("readonly"), config=config) as running:
        yield running


def test_a_read_only_contents_policy_makes_the_drive_read_only(readonly: DavServer):
    """Reads work; every writing method is 403 and changes nothing."""
    (readonly.root / "kept.txt").write_text("original")
    (readonly.root / "folder").mkdir()
    lock = (
        '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
        "</D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>"
    )
    proppatch = (
        '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop>'
        "<Z:note>x</Z:note></D:prop></D:set></D:propertyupdate>"
    )
    writes = [
        ("PUT", "kept.txt", {}, b"changed"),
        ("PUT", "new.txt", {}, b"new"),
        ("DELETE", "kept.txt", {}, None),
        ("DELETE", "folder/", {}, None),
        ("MKCOL", "made/", {}, None),
        ("MOVE", "kept.txt", {"Destination": readonly.dav + "moved.txt"}, None),
        ("COPY", "kept.txt", {"Destination": readonly.dav + "copied.txt"}, None),
        ("LOCK", "kept.txt", {"Timeout": "Second-60"}, lock.encode()),
        ("PROPPATCH", "kept.txt", {}, proppatch.encode()),
    ]
    with readonly.client() as client:
        assert client.get(readonly.dav + "kept.txt").text == "original"
        assert client.request("PROPFIND", readonly.dav, headers={"Depth": "1"}).status_code == 207
        for method, path, headers, body in writes:
            answer = client.request(method, readonly.dav + path, headers=headers, content=body)
            assert answer.status_code == 403, (method, path, answer.text)
    assert (readonly.root / "kept.txt").read_text() == "original"
    assert sorted(p.name for p in readonly.root.iterdir()) == ["folder", "kept.txt"]


def test_every_request_counts_as_activity(server: DavServer):
    """The idle culler sees drive work: ``last_activity`` moves with a PROPFIND alone."""
    status = server.url + "api/status"
    with server.client() as client:
        headers = {"Authorization": f"token {server.token}"}
        before = httpx.get(status, headers=headers).json()["last_activity"]
        assert client.request("PROPFIND", server.dav, headers=PROPFIND_ROOT).status_code == 207
        after = httpx.get(status, headers=headers).json()["last_activity"]
    assert after > before

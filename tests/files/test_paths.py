"""Hostile paths are refused before any change, on every files/ tree/ batch verb."""

from __future__ import annotations

import io
import json
import os
import tarfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_remote_dev.errors import ConflictError, NotFoundError, PathError
from jupyter_remote_dev.files.fdpath import locate

from ..support.files_support import snapshot


@pytest.fixture
def hostile_tree(jp_root_dir, tmp_path):
    """A root with symlinks pointing out, a loop and hidden folders, and a folder outside it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (jp_root_dir / "ok").mkdir()
    (jp_root_dir / ".hidden").mkdir()
    (jp_root_dir / ".hidden" / "x").write_text("hidden")
    os.symlink(outside, jp_root_dir / "escape")
    os.symlink(outside / "secret.txt", jp_root_dir / "link.txt")
    os.symlink("/etc", jp_root_dir / "abs_link")
    os.symlink(tmp_path / "missing" / "x", jp_root_dir / "dangling")
    os.symlink("loop", jp_root_dir / "loop")
    os.symlink(".hidden", jp_root_dir / "visible")
    os.symlink("ok/.git", jp_root_dir / "gitlink")
    return outside


SECRET = "TOP-SECRET-CONTENT"
LAST_IS_LINK = ("link.txt", "dangling")
HOSTILE = [
    ("..%2Fsecret.txt", 400),
    ("%2e%2e/outside/secret.txt", 400),
    ("%2E%2E%2Foutside%2Fsecret.txt", 400),
    ("%252e%252e/outside/secret.txt", 400),
    ("%252e%252e%252foutside%252fsecret.txt", 400),
    ("%25252e%25252e/outside/x", 400),
    ("ok/%2e%2e/%2e%2e/outside/x", 400),
    ("ok/../../outside/x", 400),
    ("..", 400),
    ("ok/..", 400),
    ("a%2F..%2F..%2Foutside%2Fx", 400),
    ("..%5Coutside%5Csecret.txt", 400),
    ("ok%5C..%5C..%5Cx", 400),
    ("%5C%5Cserver%5Cshare%5Cx", 400),
    ("%2Fetc%2Fpasswd", 400),
    ("/etc/passwd", 400),
    ("C:%5CWindows%5Cwin.ini", 400),
    ("C:/Windows/win.ini", 400),
    ("ok/d:evil", 400),
    ("file%00.txt", 400),
    ("ok/b%00/../c", 400),
    ("%c0%ae%c0%ae/x", 400),
    ("ok/%01ctrl", 400),
    ("ok/a%0Ab", 400),
    ("x" * 300, 400),
    ("a/" * 2100 + "x", 400),
    ("./x", 400),
    ("ok//x", 400),
    ("ok/x/", 400),
    ("escape/secret.txt", 403),
    ("escape/new.txt", 403),
    ("link.txt", 403),
    ("abs_link/passwd", 403),
    ("dangling", 403),
    ("loop/x", 400),
    ("ok/.git/config", 403),
    (".GIT/config", 403),
    ("gitlink/config", 403),
]
HIDDEN = [".hidden/x", ".ssh/authorized_keys", "visible/x"]


@pytest.mark.parametrize("raw_path, status", HOSTILE)
async def test_paths_hostile_refused_everywhere(api, jp_root_dir, hostile_tree, raw_path, status):
    """PUT, GET, HEAD, DELETE and tree/ all refuse the path; nothing changes inside or outside.
    (DELETE of a link itself is allowed: it removes the link only, see test_files_delete_*.)"""
    await assert_refused_everywhere(api, jp_root_dir, hostile_tree, raw_path, status)


@pytest.mark.parametrize("remote_dev_config", [{"allow_hidden_files": False}])
@pytest.mark.parametrize("raw_path", HIDDEN)
async def test_paths_hidden_refused_when_turned_off(api, jp_root_dir, hostile_tree, raw_path):
    """With allow_hidden_files off, dot-names (also reached through a link) are refused too."""
    await assert_refused_everywhere(api, jp_root_dir, hostile_tree, raw_path, 403)


async def assert_refused_everywhere(api, jp_root_dir, hostile_tree, raw_path, status):
    inside, outside = snapshot(jp_root_dir), snapshot(hostile_tree)
    methods = (
        ("PUT", "GET", "HEAD") if raw_path in LAST_IS_LINK else ("PUT", "GET", "HEAD", "DELETE")
    )
    for method in methods:
        response = await api.request(
            method, f"files/{raw_path}", b"pwned" if method == "PUT" else None
        )
        assert response.code == status, (method, raw_path, response.body)
        if method != "HEAD":
            assert json.loads(response.body)["message"], (method, raw_path)
            assert SECRET.encode() not in response.body
    tree = await api.request("GET", f"tree/{raw_path}")
    assert tree.code == status, (raw_path, tree.body)
    assert snapshot(jp_root_dir) == inside
    assert snapshot(hostile_tree) == outside


async def test_paths_error_message_keeps_percent_signs(api, jp_root_dir):
    """A refused path with '%' in it is named as sent in the message, not with '%' doubled."""
    response = await api.request("GET", "files/ok/%252e%252e")  # the path is ok/%2e%2e
    assert response.code == 400
    message = json.loads(response.body)["message"]
    assert "'%2e%2e'" in message and "%%" not in message


async def test_paths_absolute_target_outside_is_untouched(api, jp_root_dir, hostile_tree):
    """An absolute path naming a real folder outside the root writes nothing there."""
    response = await api.request("PUT", f"files/{hostile_tree}/pwned.txt", b"pwned")
    assert response.code == 400
    assert not (hostile_tree / "pwned.txt").exists()


async def test_paths_batch_members_refused(api, jp_root_dir, hostile_tree):
    """Hostile tar member names fail one by one; good members beside them are written."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in ["../outside/a", "/abs/b", "escape/c", ".git/d", "ok\\..\\e", "good.txt"]:
            info = tarfile.TarInfo(name)
            info.size = 5
            archive.addfile(info, io.BytesIO(b"pwned"))
        link = tarfile.TarInfo("ok/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    outside = snapshot(hostile_tree)
    response = await api.request(
        "POST", "batch", buffer.getvalue(), {"Content-Type": "application/x-tar"}
    )
    assert response.code == 200
    results = json.loads(response.body)["results"]
    assert [r["status"] for r in results] == [400, 400, 403, 403, 400, 201, 400]
    assert (jp_root_dir / "good.txt").read_bytes() == b"pwned"
    assert not (jp_root_dir / "ok" / "link").exists()
    assert snapshot(hostile_tree) == outside


async def test_paths_hidden_allowed_by_default(api, jp_serverapp, jp_root_dir, hostile_tree):
    """By default (Lab's allow_hidden off) dot-files are written, read through links and listed;
    escapes stay refused."""
    assert jp_serverapp.contents_manager.allow_hidden is False
    assert (await api.get("visible/x")).body == b"hidden"
    assert (await api.put(".config/app.toml", b"a = 1")).code == 201
    assert (jp_root_dir / ".config" / "app.toml").read_bytes() == b"a = 1"
    tree = json.loads((await api.request("GET", "tree")).body)
    assert ".config/app.toml" in [f["path"] for f in tree["files"]]
    assert (await api.request("GET", "files/escape/secret.txt")).code == 403


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.sampled_from([*"./\\%2eE:\x00a", "..", "%2e", "%25", "%5c", "sub", "out", "me"]),
        max_size=20,
    )
)
def test_paths_locate_never_escapes(tmp_path, pieces):
    """Whatever the string, locate() refuses it or lands inside the root, walking through links
    that point out (refused) and back in (followed), without a descriptor leaked."""
    root = tmp_path / "root"
    if not root.exists():
        (root / "sub").mkdir(parents=True)
        os.symlink(tmp_path, root / "out")
        os.symlink(".", root / "sub" / "me")
    candidate = "".join(pieces)
    open_before = len(os.listdir("/proc/self/fd"))
    try:
        with locate(root, candidate, may_be_missing=True) as where:
            real = where.real
    except (PathError, NotFoundError, ConflictError) as error:
        assert error.status in (400, 403, 404, 409)
        real = None
    assert len(os.listdir("/proc/self/fd")) == open_before
    if real is None:
        return
    real_root = os.path.realpath(root)
    assert os.path.commonpath([real_root, real]) == real_root
    assert real != real_root

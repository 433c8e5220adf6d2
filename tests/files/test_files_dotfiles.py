"""Dot-files through the remote-dev file API with a server's DEFAULT settings: they are read,
written and listed (``RemoteDevExtension.allow_hidden_files``, on by default), while Lab's own
``ContentsManager.allow_hidden`` stays off; ``.git/`` internals are never listed, read or written;
with the setting off every verb refuses them with a message naming it."""

from __future__ import annotations

import json
import os
from urllib.parse import quote

import pytest

from jupyter_remote_dev.extension import RemoteDevExtension

from ..support.files_support import make_tar, post, snapshot
from ..support.local_config import load, spawner_env

SETTING = "RemoteDevExtension.allow_hidden_files"
DOT_FILES = {
    "p/.gitignore": b"*.log\n",
    "p/.vscode/settings.json": b"{}\n",
    "p/.pre-commit-config.yaml": b"repos: []\n",
    "p/.github/workflows/ci.yml": b"on: push\n",
    "p/.env.example": b"KEY=\n",
}
GIT_PATHS = ["p/.git/config", "p/.git/hooks/post-checkout", "p/.GIT/config", "p/sub/.git"]


@pytest.fixture
def repo(jp_root_dir):
    """A project folder with a git repository, a nested one, and a link into ``.git``."""
    for relative in ("p/.git/config", "p/.git/HEAD", "p/sub/.git/config"):
        (jp_root_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        (jp_root_dir / relative).write_text("[core]\n")
    (jp_root_dir / "p" / "main.py").write_text("print(1)\n")
    os.symlink(".git", jp_root_dir / "p" / "gitlink")
    return jp_root_dir / "p"


def message(response) -> str:
    return json.loads(response.body)["message"]


async def test_dot_files_are_written_read_and_listed_by_default(
    api, jp_fetch, jp_serverapp, jp_root_dir
):
    """Default settings: PUT, GET, HEAD, DELETE, batch, uploads and tree/ all take dot-files,
    GET info says so, and Lab's contents manager still hides them (allow_hidden untouched)."""
    assert jp_serverapp.contents_manager.allow_hidden is False
    assert (await api.put("p/readme.md", b"hi\n")).code == 201
    for path, body in DOT_FILES.items():
        response = await api.put(path, body)
        assert response.code == 201, (path, response.body)
        assert (jp_root_dir / path).read_bytes() == body
        assert (await api.get(path)).body == body
    tar = make_tar({".editorconfig": b"root = true\n", ".config/tool.toml": b"a = 1\n"})
    results = json.loads((await post(api, tar, "?root=p")).body)["results"]
    assert [r["status"] for r in results] == [201, 201]
    upload = await api.request("POST", "uploads", json.dumps({"path": "p/.data/big", "size": 3}))
    assert upload.code == 201, upload.body
    tree = json.loads((await api.request("GET", "tree/p")).body)
    expected = {p.removeprefix("p/") for p in DOT_FILES} | {".editorconfig", ".config/tool.toml"}
    expected.add("readme.md")
    assert {f["path"] for f in tree["files"]} == expected
    assert (await api.request("HEAD", f"files/{quote('p/.env.example')}")).code == 200
    assert (await api.request("DELETE", f"files/{quote('p/.env.example')}")).code == 204
    assert not (jp_root_dir / "p" / ".env.example").exists()
    info = json.loads((await api.request("GET", "info")).body)
    assert info["allow_hidden"] is True
    lab = await jp_fetch("api", "contents", "p")
    assert {c["name"] for c in json.loads(lab.body)["content"]} == {"readme.md"}


@pytest.mark.parametrize("remote_dev_config", [{}, {"ignore_patterns": []}])
async def test_git_internals_are_never_listed_read_or_written(api, repo, jp_root_dir):
    """``.git`` (any case, at any depth, a folder or a gitfile, reached through a link too) is
    refused by every verb with 403 and left out of tree/, even with no ignore_patterns; a
    recursive DELETE of a folder holding one is refused (409)."""
    before = snapshot(jp_root_dir)
    for path in [*GIT_PATHS, "p/gitlink/config"]:
        encoded = quote(path)
        for method, body in (("PUT", b"x"), ("GET", None), ("HEAD", None), ("DELETE", None)):
            response = await api.request(method, f"files/{encoded}", body)
            assert response.code == 403, (method, path, response.code)
            if method != "HEAD":
                assert ".git" in message(response), (method, path)
        upload = await api.request("POST", "uploads", json.dumps({"path": path, "size": 1}))
        assert upload.code == 403 and ".git" in message(upload), path
    tar = make_tar({".git/config": b"x", "sub/.git/HEAD": b"x", "ok.txt": b"ok"})
    results = json.loads((await post(api, tar, "?root=p")).body)["results"]
    assert [r["status"] for r in results] == [403, 403, 201]
    assert (await post(api, make_tar({"x": b"x"}), "?root=p/.git")).code == 403
    assert (await api.request("GET", "tree/p/.git")).code == 403
    tree = json.loads((await api.request("GET", "tree/p")).body)
    assert {f["path"] for f in tree["files"]} == {"main.py", "ok.txt"}
    for folder in ("p", "p/sub"):
        deleted = await api.request("DELETE", f"files/{folder}?recursive=1")
        assert deleted.code == 409 and ".git" in message(deleted), folder
    (jp_root_dir / "p" / "ok.txt").unlink()
    assert snapshot(jp_root_dir) == before


@pytest.mark.parametrize("remote_dev_config", [{"allow_hidden_files": False}])
async def test_dot_files_refused_naming_the_setting_when_turned_off(api, jp_root_dir):
    """allow_hidden_files off: every verb answers 403 with a JSON message naming the setting,
    nothing is written, tree/ leaves them out and GET info reports it."""
    (jp_root_dir / "p").mkdir()
    (jp_root_dir / "p" / ".env.example").write_text("KEY=\n")
    (jp_root_dir / "p" / "main.py").write_text("print(1)\n")
    before = snapshot(jp_root_dir)
    for path, body in DOT_FILES.items():
        for method in ("PUT", "GET", "DELETE"):
            sent = body if method == "PUT" else None
            response = await api.request(method, f"files/{quote(path)}", sent)
            assert response.code == 403, (method, path, response.code)
            assert SETTING in message(response), message(response)
        upload = await api.request("POST", "uploads", json.dumps({"path": path, "size": 1}))
        assert upload.code == 403 and SETTING in message(upload)
    results = json.loads((await post(api, make_tar({".gitignore": b"x"}), "?root=p")).body)
    assert results["results"][0]["status"] == 403
    assert SETTING in results["results"][0]["message"]
    tree = json.loads((await api.request("GET", "tree/p")).body)
    assert [f["path"] for f in tree["files"]] == ["main.py"]
    assert json.loads((await api.request("GET", "info")).body)["allow_hidden"] is False
    assert snapshot(jp_root_dir) == before


def test_embedded_hub_leaves_dot_files_on_and_lab_hiding_them(monkeypatch, tmp_path):
    """hub_config/local_config.py sets neither our setting nor Lab's ``allow_hidden``, in the
    config, the servers' arguments or their environment, so both keep their defaults."""
    c = load(monkeypatch, tmp_path, JUPYTER_REMOTE_DEV_LOCAL_RAY="0")
    assert "allow_hidden_files" not in c.RemoteDevExtension
    assert "allow_hidden" not in c.ContentsManager and "allow_hidden" not in c.FileContentsManager
    assert not [a for a in c.Spawner.args if "hidden" in a.lower()], c.Spawner.args
    assert not [k for k in spawner_env(c) if "HIDDEN" in k.upper()]
    assert RemoteDevExtension().allow_hidden_files is True

"""GET tree/<path> and the manifest module (hash cache, ignore rules)."""

from __future__ import annotations

import json
import os
import time

import pytest

from jupyter_remote_dev.base.handlers import FILES_SERVICE
from jupyter_remote_dev.files.manifest import HashCache, IgnoreRules, build_manifest

from ..support.files_support import sha256, spec_path
from ..support.openapi_check import assert_response_matches


def backdate(root, seconds: float = 60) -> None:
    """Make every file look untouched for ``seconds`` (as files are between real edits)."""
    past = time.time_ns() - int(seconds * 1e9)
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            os.utime(os.path.join(dirpath, name), ns=(past, past), follow_symlinks=False)


@pytest.fixture
def remote_dev_config():
    return {"ignore_patterns": [".git", "__pycache__", "*.log", "data/raw/*"]}


@pytest.fixture
def project(jp_root_dir):
    files = {
        "README.md": b"# hi\n",
        "src/app.py": b"print(1)\n",
        "src/pkg/util.py": b"x = 2\n",
        "data/raw/big.csv": b"1,2\n",
        "data/clean.csv": b"3,4\n",
        "run.log": b"noise",
        ".git/HEAD": b"ref: main",
        ".env": b"SECRET=1",
        "src/__pycache__/app.pyc": b"\x00",
        "src/.~remote-dev-abc.tmp": b"in flight",
    }
    for name, data in files.items():
        (jp_root_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (jp_root_dir / name).write_bytes(data)
    os.chmod(jp_root_dir / "src/app.py", 0o755)
    os.symlink("README.md", jp_root_dir / "link.md")
    return files


async def test_tree_lists_files_with_hashes(api, project):
    """The manifest lists regular files sorted (dot-files too), with size, sha256 and mode;
    ignores the rest (.git, patterns, temp files, links)."""
    response = await api.request("GET", "tree")
    assert response.code == 200
    assert_response_matches(response, "GET", "/tree")
    manifest = json.loads(response.body)
    assert manifest["root"] == ""
    paths = [entry["path"] for entry in manifest["files"]]
    assert paths == [".env", "README.md", "data/clean.csv", "src/app.py", "src/pkg/util.py"]
    by_path = {entry["path"]: entry for entry in manifest["files"]}
    assert by_path["src/app.py"]["sha256"] == sha256(project["src/app.py"])
    assert by_path["src/app.py"]["size"] == len(project["src/app.py"])
    assert by_path["src/app.py"]["mode"] == 0o755


async def test_tree_of_subfolder_is_relative(api, project):
    """tree/<folder> lists paths relative to that folder."""
    response = await api.request("GET", "tree/src")
    assert_response_matches(response, "GET", "/tree/src")
    manifest = json.loads(response.body)
    assert manifest["root"] == "src"
    assert [e["path"] for e in manifest["files"]] == ["app.py", "pkg/util.py"]


async def test_tree_errors(api, project):
    """A file is 400 naming files/, a missing folder 404."""
    file_answer = await api.request("GET", "tree/README.md")
    assert file_answer.code == 400 and "files/" in json.loads(file_answer.body)["message"]
    assert_response_matches(file_answer, "GET", f"/tree/{spec_path('README.md')}")
    missing = await api.request("GET", "tree/nope")
    assert missing.code == 404


async def test_tree_etag_answers_304_while_unchanged(api, project, jp_root_dir):
    """A repeat with the manifest's ETag gets 304 until a file changes."""
    first = await api.request("GET", "tree")
    etag = first.headers["ETag"]
    again = await api.request("GET", "tree", headers={"If-None-Match": etag})
    assert again.code == 304 and again.body == b""
    (jp_root_dir / "README.md").write_bytes(b"# changed\n")
    changed = await api.request("GET", "tree", headers={"If-None-Match": etag})
    assert changed.code == 200 and changed.headers["ETag"] != etag
    assert sha256(b"# changed\n") in changed.body.decode()


async def test_tree_repeat_hashes_nothing(api, project, jp_root_dir, jp_serverapp):
    """A second manifest of an unchanged tree reads no file; a changed file is hashed again."""
    backdate(jp_root_dir)
    cache = jp_serverapp.web_app.settings[FILES_SERVICE].hash_cache
    first = json.loads((await api.request("GET", "tree")).body)
    hashed = cache.hashed
    assert hashed >= 4
    assert json.loads((await api.request("GET", "tree")).body) == first
    assert cache.hashed == hashed
    (jp_root_dir / "data/clean.csv").write_bytes(b"5,6,7\n")
    third = json.loads((await api.request("GET", "tree")).body)
    assert cache.hashed == hashed + 1
    changed = {e["path"]: e["sha256"] for e in third["files"]}["data/clean.csv"]
    assert changed == sha256(b"5,6,7\n")


def test_manifest_10000_files_second_pass_hashes_nothing(tmp_path):
    """Of an unchanged 10,000-file tree, the second manifest hashes no file at all."""
    for i in range(100):
        folder = tmp_path / f"d{i:03}"
        folder.mkdir()
        for j in range(100):
            (folder / f"f{j:03}.txt").write_bytes(b"%d-%d" % (i, j))
    backdate(tmp_path)
    cache = HashCache()
    first = build_manifest(tmp_path, cache)
    assert len(first) == 10_000 and cache.hashed == 10_000
    second = build_manifest(tmp_path, cache)
    assert second == first and cache.hashed == 10_000


def test_manifest_racy_same_size_rewrite_is_rehashed(tmp_path):
    """A same-size rewrite inside one timestamp tick of hashing is not served from the cache."""
    path = tmp_path / "f.txt"
    path.write_bytes(b"aaaa")
    cache = HashCache()
    assert build_manifest(tmp_path, cache)[0].sha256 == sha256(b"aaaa")
    st = path.stat()
    path.write_bytes(b"bbbb")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same inode, size and mtime_ns
    assert build_manifest(tmp_path, cache)[0].sha256 == sha256(b"bbbb")


def test_hash_cache_stays_within_its_limit(tmp_path):
    """Past its limit the cache forgets the entries stored longest ago, not the newest; a
    forgotten file is hashed again when next listed, with the same answer."""
    for i in range(40):
        (tmp_path / f"f{i:02}.txt").write_bytes(b"%d" % i)
    backdate(tmp_path)
    cache = HashCache(limit=10)
    first = build_manifest(tmp_path, cache)
    assert cache.hashed == 40 and len(cache.entries()) <= 10
    newest = tmp_path / "new.txt"
    newest.write_bytes(b"new")
    backdate(tmp_path)
    cache.sha256(newest)
    assert str(newest) in cache.entries()
    again = {e.path: e.sha256 for e in build_manifest(tmp_path, cache) if e.path != "new.txt"}
    assert again == {e.path: e.sha256 for e in first}
    assert cache.hashed > 41 and len(cache.entries()) <= 10


async def test_server_hash_cache_limit_is_a_setting(jp_serverapp):
    """``RemoteDevExtension.hash_cache_entries`` bounds the server's cache (default 200,000)."""
    assert jp_serverapp.web_app.settings[FILES_SERVICE].hash_cache.limit == 200_000


def test_manifest_cache_entries_round_trip(tmp_path):
    """A client can save the cache's entries and load them next run without rehashing."""
    (tmp_path / "a.txt").write_bytes(b"a")
    backdate(tmp_path)
    cache = HashCache()
    build_manifest(tmp_path, cache)
    reloaded = HashCache(json.loads(json.dumps(cache.entries())))
    assert build_manifest(tmp_path, reloaded)[0].sha256 == sha256(b"a")
    assert reloaded.hashed == 0


@pytest.mark.parametrize(
    "path, ignored",
    [
        ("a/__pycache__/x.pyc", True),
        ("x.log", True),
        ("deep/er/x.log", True),
        ("data/raw/x.csv", True),
        ("other/data/raw/x.csv", False),
        ("src/.~remote-dev-1.tmp", True),
        ("src/app.py", False),
    ],
)
def test_manifest_ignore_rules(path, ignored):
    """Name patterns match any component; patterns with '/' match the whole relative path."""
    rules = IgnoreRules(["__pycache__", "*.log", "data/raw/*"])
    assert rules.ignores(path) is ignored

"""publish, sync and fetch against a real S3-compatible server (moto's server on loopback)."""

import json
import random
import threading

import pytest

from jupyter_remote_dev.airflow.fetch import BranchGoneError, fetch_for_dag
from jupyter_remote_dev.airflow.publish import LOCAL_MANIFEST, publish
from jupyter_remote_dev.airflow.slug import branch_dag_id, branch_slug
from jupyter_remote_dev.airflow.sync import ManifestError, apply_manifest, sync_once

from ..support.airflow_support import CallCounter, read_tree, write_tree

TREE = {
    "etl.py": "from airflow.sdk import DAG\nwith DAG('etl'):\n    pass\n",
    "lib/helpers.py": "X = 1\n",
    "sql/query.sql": "select 1\n",
    "big.bin": "b" * 200_000,
}


def _keys(store):
    return sorted(item["Key"] for item in store.list_objects(store.prefix + "/"))


def test_publish_uploads_files_and_manifest(store, tmp_path):
    """The first publish uploads every file with its sha256 in metadata and writes a manifest."""
    write_tree(tmp_path / "src", TREE)
    (tmp_path / "src/__pycache__").mkdir()
    (tmp_path / "src/__pycache__/etl.cpython-311.pyc").write_bytes(b"x")
    result = publish(store, "feature/x", tmp_path / "src")
    slug = branch_slug("feature/x")
    assert result.slug == slug and sorted(result.uploaded) == sorted(TREE)
    assert _keys(store) == sorted(
        [f"dags-branches/{slug}/manifest.json"] + [f"dags-branches/{slug}/files/{p}" for p in TREE]
    )
    manifest = store.get_manifest(slug)
    assert manifest["branch"] == "feature/x" and manifest["dag_ids"] == ["etl"]
    head = store.client.head_object(Bucket=store.bucket, Key=store.file_key(slug, "etl.py"))
    assert head["Metadata"]["sha256"] == manifest["files"]["etl.py"]["sha256"]


def test_publish_republish_uploads_only_changes(store, tmp_path):
    """Re-publishing a fresh clone (new mtimes) uploads only edited files, deletes removed ones."""
    write_tree(tmp_path / "src", TREE)
    publish(store, "feature/x", tmp_path / "src")
    counter = CallCounter(store)
    write_tree(tmp_path / "clone", TREE)  # same content, every mtime new
    result = publish(store, "feature/x", tmp_path / "clone")
    assert result.uploaded == [] and result.unchanged == len(TREE)
    assert counter.calls["PutObject"] == 1  # the manifest only
    counter.reset()
    (tmp_path / "clone/lib/helpers.py").write_text("X = 2\n")
    (tmp_path / "clone/sql/query.sql").unlink()
    write_tree(tmp_path / "clone", {"new.py": "Y = 1\n"})
    result = publish(store, "feature/x", tmp_path / "clone")
    assert sorted(result.uploaded) == ["lib/helpers.py", "new.py"]
    assert result.deleted == ["sql/query.sql"]
    assert counter.calls["PutObject"] == 3  # two files and the manifest
    assert counter.calls["CreateMultipartUpload"] == 0
    slug = branch_slug("feature/x")
    assert f"dags-branches/{slug}/files/sql/query.sql" not in _keys(store)


def test_publish_reuploads_a_file_missing_from_the_bucket(store, tmp_path):
    """A file the manifest lists but the bucket lost is uploaded again."""
    write_tree(tmp_path / "src", TREE)
    publish(store, "b", tmp_path / "src")
    store.client.delete_object(Bucket=store.bucket, Key=store.file_key(branch_slug("b"), "etl.py"))
    assert publish(store, "b", tmp_path / "src").uploaded == ["etl.py"]


def test_publish_hostile_branch_stays_in_its_folder(store, tmp_path):
    """A branch named ../x lands in PREFIX/<slug>/, never outside the prefix."""
    write_tree(tmp_path / "src", {"a.py": "A = 1\n"})
    publish(store, "../x", tmp_path / "src")
    publish(store, "refs/heads/../../etc", tmp_path / "src")
    keys = _keys(store)
    assert keys and all(k.startswith("dags-branches/") and "/../" not in k for k in keys)
    assert sorted(store.list_slugs()) == sorted([branch_slug("../x"), branch_slug("../../etc")])


def test_sync_mirrors_updates_and_removes_branches(store, tmp_path):
    """sync copies every live branch, follows edits and deletions, and drops vanished branches."""
    dest = tmp_path / "branches"
    write_tree(tmp_path / "a", TREE)
    write_tree(tmp_path / "b", {"b.py": "B = 1\n"})
    publish(store, "feature/a", tmp_path / "a")
    publish(store, "feature/b", tmp_path / "b")
    (dest / "not-ours").mkdir(parents=True)
    report = sync_once(store, dest)
    slug_a, slug_b = branch_slug("feature/a"), branch_slug("feature/b")
    assert sorted(report.updated) == sorted([slug_a, slug_b]) and not report.failed
    assert read_tree(dest / slug_a) == TREE and read_tree(dest / slug_b) == {"b.py": "B = 1\n"}
    assert json.loads((dest / slug_a / LOCAL_MANIFEST).read_text())["branch"] == "feature/a"

    assert sync_once(store, dest).updated == []  # nothing changed: nothing rewritten
    (tmp_path / "a/etl.py").write_text("changed\n")
    (tmp_path / "a/lib/helpers.py").unlink()
    publish(store, "feature/a", tmp_path / "a")
    store.delete_branch(slug_b)
    report = sync_once(store, dest)
    assert report.updated == [slug_a] and report.removed == [slug_b]
    expected = {k: v for k, v in TREE.items() if k != "lib/helpers.py"} | {"etl.py": "changed\n"}
    assert read_tree(dest / slug_a) == expected
    assert not (dest / slug_b).exists() and not (dest / slug_a / "lib").exists()
    assert (dest / "not-ours").is_dir()  # folders sync did not create are left alone


def test_sync_keeps_last_good_copy_when_objects_vanish(store, tmp_path):
    """A branch whose files vanished (e.g. expired) keeps its last good copy and is reported."""
    dest = tmp_path / "branches"
    write_tree(tmp_path / "a", {"a.py": "A = 1\n"})
    publish(store, "a", tmp_path / "a")
    sync_once(store, dest)
    (tmp_path / "a/a.py").write_text("A = 2\n")
    publish(store, "a", tmp_path / "a")
    slug = branch_slug("a")
    store.client.delete_object(Bucket=store.bucket, Key=store.file_key(slug, "a.py"))
    report = sync_once(store, dest, retries=1)
    assert slug in report.failed and read_tree(dest / slug) == {"a.py": "A = 1\n"}
    assert not list(dest.rglob("*.part"))


@pytest.mark.parametrize(
    ("bad", "info"),
    [
        ("../escape.py", None),
        ("/abs.py", None),
        ("a/../../b.py", None),
        ("a\\b.py", None),
        ("./a.py", None),
        (LOCAL_MANIFEST, None),
        ("ok.py", {"sha256": "../x", "size": 1}),
        ("ok.py", {"sha256": "0" * 64}),
    ],
)
def test_sync_refuses_bad_manifests(store, tmp_path, bad, info):
    """A manifest naming a path outside the branch folder, a reserved name or a malformed entry
    is refused before anything is written."""
    info = info or {"sha256": "0" * 64, "size": 1}
    manifest = {"slug": branch_slug("x"), "files": {bad: info}}
    with pytest.raises(ManifestError):
        apply_manifest(store, branch_slug("x"), tmp_path / "dest", manifest)
    assert not (tmp_path / "escape.py").exists() and not (tmp_path / "dest").exists()


def test_sync_reader_racing_publish_never_sees_partial_branch(store, tmp_path):
    """While a branch is re-published over and over, every sync pass leaves one whole version."""
    versions = []
    for n in range(2):
        files = {f"dag_{i}.py": f"# version {n} file {i}\n" + "x" * (1000 * n) for i in range(12)}
        files[f"only_in_{n}.py"] = f"# version {n}\n"
        versions.append(files)
        write_tree(tmp_path / f"v{n}", files)
    publish(store, "race", tmp_path / "v0")
    dest, slug = tmp_path / "branches", branch_slug("race")
    sync_once(store, dest)
    stop = threading.Event()
    published = []

    def publisher():
        n = 1
        while not stop.is_set():
            publish(store, "race", tmp_path / f"v{n}")
            published.append(n)
            n = 1 - n
            stop.wait(random.uniform(0, 0.15))

    thread = threading.Thread(target=publisher)
    thread.start()
    seen, failed = [], 0
    try:
        for _ in range(60):
            failed += bool(sync_once(store, dest, retries=2).failed)
            state = read_tree(dest / slug)
            assert state in versions, "a sync pass left a mixed or partial branch"
            seen.append(versions.index(state))
            if len(published) > 8 and len(set(seen)) == 2:
                break
    finally:
        stop.set()
        thread.join()
    assert len(set(seen)) == 2, "the race never exercised both versions"
    print(f"{len(published)} publishes, {len(seen)} sync passes, {failed} gave up and kept a copy")
    assert not list(dest.rglob("*.part"))


def test_fetch_gets_only_the_dags_branch(store, tmp_path):
    """fetch maps a suffixed DAG ID to its branch and copies only that branch."""
    write_tree(tmp_path / "a", {"a.py": "A = 1\n"})
    write_tree(tmp_path / "b", {"b.py": "B = 1\n"})
    publish(store, "feature/a", tmp_path / "a")
    publish(store, "feature/b", tmp_path / "b")
    slug = branch_slug("feature/a")
    dest = tmp_path / "worker"
    assert fetch_for_dag(store, branch_dag_id("etl", slug), dest) == slug
    assert [p.name for p in dest.iterdir()] == [slug]
    assert read_tree(dest / slug) == {"a.py": "A = 1\n"}
    assert fetch_for_dag(store, "plain_dag", tmp_path / "none") is None
    assert not (tmp_path / "none").exists()
    with pytest.raises(BranchGoneError):
        fetch_for_dag(store, branch_dag_id("etl", branch_slug("merged")), dest)


def test_sync_one_broken_branch_does_not_stop_the_others(store, tmp_path):
    """A branch with an unreadable manifest is reported; every other branch still syncs."""
    write_tree(tmp_path / "a", {"a.py": "A = 1\n"})
    publish(store, "good", tmp_path / "a")
    broken = branch_slug("broken")
    store.client.put_object(Bucket=store.bucket, Key=store.manifest_key(broken), Body=b"{not json")
    report = sync_once(store, tmp_path / "dest")
    assert report.updated == [branch_slug("good")] and list(report.failed) == [broken]
    assert not (tmp_path / "dest" / broken).exists()

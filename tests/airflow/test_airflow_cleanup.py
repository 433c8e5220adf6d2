"""cleanup, reconcile and lifecycle against a real S3-compatible server (moto on loopback).

Deleting branch DAGs through Airflow's REST API is tested against a real Airflow API server in
test_airflow_policy.py.
"""

import httpx
import pytest

from jupyter_remote_dev.airflow.cleanup import (
    AirflowAPI,
    cleanup_branch,
    read_live_branches,
    reconcile,
)
from jupyter_remote_dev.airflow.lifecycle import apply_expiry, current_rules, rule_id
from jupyter_remote_dev.airflow.publish import publish
from jupyter_remote_dev.airflow.slug import branch_slug

from ..support.airflow_support import CallCounter, write_tree


def _publish(store, tmp_path, branch, files=None):
    src = tmp_path / branch_slug(branch)
    write_tree(src, files or {"etl.py": f"# {branch}\n"})
    publish(store, branch, src)


def _count(store, prefix=""):
    return sum(1 for _ in store.list_objects(store.prefix + "/" + prefix))


def test_cleanup_deletes_in_batches_of_at_most_1000(store, tmp_path):
    """S3's 1,000 keys per DeleteObjects is the default batch; with a batch of 10, removing a
    25-file branch uses DeleteObjects calls of 10, 10 and 5 keys."""
    assert store.delete_batch == 1000
    store.delete_batch = 10
    _publish(store, tmp_path, "big", {"a.py": "A = 1\n"})
    slug = branch_slug("big")
    for i in range(24):
        store.client.put_object(
            Bucket=store.bucket, Key=store.file_key(slug, f"gen/{i}.py"), Body=b""
        )
    _publish(store, tmp_path, "other")
    counter = CallCounter(store)
    report = cleanup_branch(store, "big")
    assert counter.delete_batches == [10, 10, 5] and report.keys_deleted == 25
    assert _count(store, slug + "/") == 0
    assert store.list_slugs() == [branch_slug("other")]


def test_reconcile_removes_dead_branches_only(store, tmp_path):
    """reconcile keeps live branches and removes the rest, manifests and files alike."""
    for branch in ["main", "feature/live", "feature/merged", "feature/closed"]:
        _publish(store, tmp_path, branch)
    live = read_live_branches(["# from git ls-remote", "main", "", "feature/live  "])
    report = reconcile(store, live)
    assert sorted(report.slugs) == sorted(map(branch_slug, ["feature/merged", "feature/closed"]))
    assert report.keys_deleted == 2  # one file each; the manifests go first, one by one
    assert sorted(store.list_slugs()) == sorted(map(branch_slug, ["main", "feature/live"]))
    assert _count(store) == 4


def test_reconcile_refuses_an_empty_live_list(store, tmp_path):
    """An empty live list (e.g. a failed git ls-remote) changes nothing unless allowed."""
    _publish(store, tmp_path, "a")
    with pytest.raises(ValueError, match="empty"):
        reconcile(store, [])
    assert store.list_slugs() == [branch_slug("a")]
    assert reconcile(store, [], allow_empty=True).slugs == [branch_slug("a")]
    assert store.list_slugs() == []


@pytest.mark.parametrize(
    "url", ["https://admin:s3cret@airflow.example.org", "ftp://airflow.example.org", "airflow:8080"]
)
def test_cleanup_airflow_url_with_credentials_or_odd_scheme_refused(url):
    """An Airflow URL with user:password@, or not http(s), is refused without echoing it."""
    with pytest.raises(ValueError, match="http") as caught:
        AirflowAPI(url, "token-value")
    assert "s3cret" not in str(caught.value) and "token-value" not in str(caught.value)


@pytest.mark.parametrize("step", ["cleanup", "reconcile"])
def test_cleanup_unreachable_airflow_deletes_nothing(store, tmp_path, step):
    """When Airflow cannot be asked for the branch DAGs, no branch folder is deleted either."""
    _publish(store, tmp_path, "feature/z")
    airflow = AirflowAPI("http://127.0.0.1:9", "token-value", timeout=5)  # discard port: refused
    with pytest.raises(httpx.TransportError):
        if step == "cleanup":
            cleanup_branch(store, "feature/z", airflow)
        else:
            reconcile(store, ["main"], airflow)
    airflow.close()
    assert store.list_slugs() == [branch_slug("feature/z")]
    assert _count(store) == 2  # the file and the manifest


def test_lifecycle_merge_keeps_other_rules(store):
    """Our expiry rule is added to, then updated within, the bucket's rules; others stay intact."""
    others = [
        {"ID": "logs-expire", "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
         "Expiration": {"Days": 7}},
        {"ID": "archive", "Filter": {"Prefix": "archive/"}, "Status": "Enabled",
         "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]},
    ]  # fmt: skip
    store.client.put_bucket_lifecycle_configuration(
        Bucket=store.bucket, LifecycleConfiguration={"Rules": others}
    )
    apply_expiry(store, 14)
    apply_expiry(store, 30)
    rules = {r["ID"]: r for r in current_rules(store)}
    assert set(rules) == {"logs-expire", "archive", rule_id("dags-branches")}
    for rule in others:
        assert rules[rule["ID"]]["Filter"] == rule["Filter"]
        assert rules[rule["ID"]].get("Expiration") == rule.get("Expiration")
        assert rules[rule["ID"]].get("Transitions") == rule.get("Transitions")
    ours = rules[rule_id("dags-branches")]
    assert ours["Filter"] == {"Prefix": "dags-branches/"} and ours["Expiration"] == {"Days": 30}


def test_lifecycle_on_a_bucket_without_rules(store):
    """A bucket with no lifecycle configuration gets just our rule."""
    assert current_rules(store) == []
    assert [r["ID"] for r in apply_expiry(store, 5)] == [rule_id("dags-branches")]
    with pytest.raises(ValueError):
        apply_expiry(store, 0)

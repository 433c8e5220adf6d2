"""``jupyter-remote-dev dags ...`` as CI, the side container and a worker run it (processes)."""

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from jupyter_remote_dev.airflow.lifecycle import rule_id
from jupyter_remote_dev.airflow.slug import branch_dag_id, branch_slug

from ..support.airflow_support import read_tree, write_tree


@pytest.fixture
def dags(s3, tmp_path):
    """Run ``jupyter-remote-dev dags ARGS`` configured only through the environment."""
    store = s3.new_store(prefix="ci/branches")
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_REMOTE_DEV_DAGS_BUCKET": store.bucket,
        "JUPYTER_REMOTE_DEV_DAGS_PREFIX": store.prefix,
        "JUPYTER_REMOTE_DEV_DAGS_ENDPOINT_URL": s3.endpoint,
    }

    def run(*args, stdin=None, expect=0):
        argv = [shutil.which("jupyter-remote-dev"), "dags", *args]
        result = subprocess.run(
            argv, env=env, input=stdin, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == expect, result.stderr[-2000:]
        return result

    run.store = store
    run.env = env
    return run


def test_cli_publish_sync_fetch_round_trip(dags, tmp_path):
    """publish from CI, sync beside the parser, fetch on a worker: same files everywhere."""
    write_tree(tmp_path / "src", {"etl.py": "E = 1\n", "lib/x.py": "X = 1\n"})
    out = json.loads(dags("publish", "--branch", "feature/x", str(tmp_path / "src")).stdout)
    slug = branch_slug("feature/x")
    assert out["slug"] == slug and sorted(out["uploaded"]) == ["etl.py", "lib/x.py"]
    assert (
        json.loads(dags("publish", "--branch=feature/x", str(tmp_path / "src")).stdout)["uploaded"]
        == []
    )
    assert dags.store.list_slugs() == [slug]

    out = json.loads(dags("sync", "--once", "--dest", str(tmp_path / "parser")).stdout)
    assert out["updated"] == [slug]
    assert read_tree(tmp_path / "parser" / slug) == {"etl.py": "E = 1\n", "lib/x.py": "X = 1\n"}

    dag_id = branch_dag_id("etl", slug)
    out = json.loads(dags("fetch", "--dag-id", dag_id, "--dest", str(tmp_path / "worker")).stdout)
    assert out["slug"] == slug
    assert read_tree(tmp_path / "worker" / slug) == read_tree(tmp_path / "parser" / slug)


def test_cli_reconcile_from_stdin_and_cleanup(dags, tmp_path):
    """reconcile reads live branches from stdin; cleanup removes one branch."""
    for branch in ["main", "gone", "feature/y"]:
        write_tree(tmp_path / branch, {"a.py": f"# {branch}\n"})
        dags("publish", "--branch", branch, str(tmp_path / branch))
    out = json.loads(dags("reconcile", "--live-branches", "-", stdin="main\nfeature/y\n").stdout)
    assert out["slugs"] == [branch_slug("gone")]
    dags("cleanup", "--branch", "feature/y")
    assert dags.store.list_slugs() == [branch_slug("main")]


def test_cli_lifecycle_writes_rule(dags):
    """lifecycle adds an expiry rule for the configured prefix."""
    out = json.loads(dags("lifecycle", "--days", "9").stdout)
    assert out["rules"][0]["ID"] == rule_id("ci/branches")
    assert out["rules"][0]["Expiration"] == {"Days": 9}


def test_cli_bad_input_is_a_clear_error(dags, tmp_path):
    """Missing arguments, a missing folder, an empty live list or a tokenless Airflow URL fail
    with a message and exit 1, and change nothing in the bucket."""
    assert "usage" in dags("publish", str(tmp_path), expect=1).stderr
    assert "not a folder" in dags("publish", "--branch", "b", str(tmp_path / "no"), expect=1).stderr
    assert "empty" in dags("reconcile", "--live-branches", "-", stdin="\n", expect=1).stderr
    missing = dags(
        "publish", "--bucket", "no-such-bucket", "--branch", "b", str(tmp_path), expect=1
    )
    assert "NoSuchBucket" in missing.stderr and "Traceback" not in missing.stderr
    result = dags("cleanup", "--branch", "b", "--airflow-url", "http://127.0.0.1:9", expect=1)
    assert "JUPYTER_REMOTE_DEV_AIRFLOW_TOKEN" in result.stderr
    assert dags.store.list_slugs() == []


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_cli_sync_loop_follows_changes_and_stops_on_sigterm(dags, tmp_path):
    """The side-container loop picks up a publish and a cleanup, and exits cleanly on SIGTERM."""
    write_tree(tmp_path / "src", {"etl.py": "E = 1\n"})
    dags("publish", "--branch", "loop", str(tmp_path / "src"))
    dest, slug = tmp_path / "parser", branch_slug("loop")
    argv = [shutil.which("jupyter-remote-dev"), "dags", "sync", "--dest", str(dest)]
    loop = subprocess.Popen(
        [*argv, "--interval", "0.2"], env=dags.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        _wait_for(lambda: (dest / slug / "etl.py").exists())
        (tmp_path / "src/etl.py").write_text("E = 2\n")
        dags("publish", "--branch", "loop", str(tmp_path / "src"))
        _wait_for(lambda: (dest / slug / "etl.py").read_text() == "E = 2\n")
        dags("cleanup", "--branch", "loop")
        _wait_for(lambda: not (dest / slug).exists())
        loop.send_signal(signal.SIGTERM)
        assert loop.wait(timeout=20) == 0
    finally:
        if loop.poll() is None:
            loop.kill()
        loop.communicate()
    assert list(dest.iterdir()) == []  # no staging or part files left behind

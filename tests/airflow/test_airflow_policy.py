"""The branch policy inside a real Apache Airflow 3, fed by a real sync from S3 (moto on loopback),
and branch cleanup through a real Airflow API server.

Airflow lives in its own virtualenv (``.ci/airflow-venv.sh``; its pins clash with ours), found at
``$AIRFLOW_VENV`` or ``~/.cache/jupyter-remote-dev/airflow-venv``. Our package is installed there
without dependencies, so Airflow loads the policy through the ``airflow.policy`` entry point.
"""

import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

import jupyter_remote_dev
from jupyter_remote_dev.airflow.cleanup import (
    AirflowAPI,
    AirflowAPIError,
    cleanup_branch,
    reconcile,
)
from jupyter_remote_dev.airflow.fetch import fetch_for_dag
from jupyter_remote_dev.airflow.publish import publish
from jupyter_remote_dev.airflow.slug import branch_dag_id, branch_slug
from jupyter_remote_dev.airflow.sync import sync_once
from jupyter_remote_dev.ray.local_head import free_port

from ..support.airflow_support import write_tree

# A real Airflow 3 (its own virtualenv) parses the DAGs and serves its API: minutes, the e2e lane.
pytestmark = pytest.mark.e2e
AIRFLOW_VENV = Path(
    os.environ.get("AIRFLOW_VENV", Path.home() / ".cache/jupyter-remote-dev/airflow-venv")
)
PROBE = Path(__file__).with_name("airflow_venv_probe.py")
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
ETL = textwrap.dedent(
    """\
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
    from airflow.providers.standard.sensors.external_task import ExternalTaskSensor

    with DAG("etl", schedule=None, tags=["team"]):
        ExternalTaskSensor(task_id="wait_upstream", external_dag_id="upstream",
                           external_task_id="done")
        ExternalTaskSensor(task_id="wait_shared", external_dag_id="shared_upstream",
                           external_task_id="done")
        TriggerDagRunOperator(task_id="trigger", trigger_dag_id="upstream")

    with DAG("upstream", schedule=None):
        EmptyOperator(task_id="done")
    """
)
SHARED = 'from airflow.sdk import DAG\nwith DAG("shared_upstream", schedule=None):\n    pass\n'
MAIN_REPORT = (
    "from airflow.sdk import dag\n@dag(schedule=None)\ndef report():\n    pass\nreport()\n"
)
DECORATED = textwrap.dedent(
    """\
    import airflow.sdk as af
    from airflow.sdk import DAG, dag
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator

    @dag(schedule=None)
    def report():
        EmptyOperator(task_id="done")

    report()

    @af.dag(schedule=None)
    def daily_load():
        TriggerDagRunOperator(task_id="fire_report", trigger_dag_id="report")

    daily_load()

    @dag("by_position", schedule=None)
    def not_the_id():
        TriggerDagRunOperator(task_id="fire_daily", trigger_dag_id="daily_load")

    not_the_id()

    with DAG(dag_id="by_keyword", schedule=None):
        TriggerDagRunOperator(task_id="fire_position", trigger_dag_id="by_position")
    """
)
#: A DAG that imports a helper module of its own DAG folder (main and each branch have one).
HELPERS = textwrap.dedent(
    """\
    from airflow.sdk import DAG
    from lib.util import VALUE

    with DAG("helpers", schedule=None, tags=[VALUE]):
        pass
    """
)
BRANCHES = ["feature/A", "feature-a"]  # one CI_COMMIT_REF_SLUG in GitLab, two branches here
MAIN_DAG_IDS = {"etl", "upstream", "shared_upstream", "report", "helpers"}
BRANCH_DAG_IDS = ["etl", "upstream", "report", "daily_load", "by_position", "by_keyword", "helpers"]


def helper_value(where: str) -> str:
    """What ``lib.util.VALUE`` says in the main DAG folder or a branch."""
    return f"lib of {where}"


def branch_tree(branch: str) -> dict[str, str]:
    return {
        "etl.py": f"# {branch}\n{ETL}",
        "decorated.py": DECORATED,
        "helpers.py": HELPERS,
        "lib/__init__.py": "",
        "lib/util.py": f"VALUE = {helper_value(branch)!r}\n",
    }


def airflow_env(home: Path, branch_root: Path) -> dict:
    """A clean environment for Airflow: its venv, sqlite in tmp, our branch root."""
    return {
        "PATH": f"{AIRFLOW_VENV / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",  # so "paused" is our doing
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        # As in docs/airflow.md: the main DAGs folder plus a bundle for the branch root.
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(
            [
                {"name": "dags-folder", "classpath": LOCAL_BUNDLE, "kwargs": {}},
                {
                    "name": "branches",
                    "classpath": LOCAL_BUNDLE,
                    "kwargs": {"path": str(branch_root)},
                },
            ]
        ),
        "JUPYTER_REMOTE_DEV_DAGS_BRANCH_ROOT": str(branch_root),
        # the venv has this package installed from some checkout: test the code under test
        "PYTHONPATH": str(Path(jupyter_remote_dev.__file__).parents[1]),
    }


def run_airflow(env: dict, *argv: str) -> str:
    result = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=120, cwd=env["HOME"], check=False
    )
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result.stdout


def probe(env: dict, *args: str) -> dict:
    out = run_airflow(env, str(AIRFLOW_VENV / "bin/python"), str(PROBE), *args)
    return json.loads(out.split("PROBE-RESULT ", 1)[1])


@pytest.fixture(scope="module")
def parsed(s3, tmp_path_factory):
    """Publish two same-ID branches to S3, sync them beside main DAGs, let Airflow parse all."""
    if not (AIRFLOW_VENV / "bin/airflow").exists():
        pytest.fail(f"no Airflow virtualenv at {AIRFLOW_VENV}: run bash .ci/airflow-venv.sh")
    home = tmp_path_factory.mktemp("airflow")
    branch_root = home / "branches"
    main = {"etl.py": ETL, "shared.py": SHARED, "report.py": MAIN_REPORT, "helpers.py": HELPERS}
    main |= {"lib/__init__.py": "", "lib/util.py": f"VALUE = {helper_value('main')!r}\n"}
    write_tree(home / "dags", main)
    started = time.perf_counter()
    store = s3.new_store()
    for branch in BRANCHES:
        write_tree(home / "src" / branch_slug(branch), branch_tree(branch))
        publish(store, branch, home / "src" / branch_slug(branch))
    assert sorted(sync_once(store, branch_root).updated) == sorted(map(branch_slug, BRANCHES))
    worker_root = home / "worker" / "branches"
    fetched = fetch_for_dag(store, branch_dag_id("etl", branch_slug("feature/A")), worker_root)
    env = airflow_env(home, branch_root)
    run_airflow(env, "airflow", "db", "migrate")
    run_airflow(env, "airflow", "dags", "reserialize")
    result = probe(env, "db")
    print(f"Airflow parse through the policy: {time.perf_counter() - started:.1f} s")
    return {
        "db": result,
        "env": env,
        "home": home,
        "store": store,
        "worker_root": worker_root,
        "fetched": fetched,
    }


def test_policy_both_branches_present_and_suffixed(parsed):
    """Main DAGs keep their IDs; each branch's copies get their own suffix, no import errors."""
    expected = MAIN_DAG_IDS | {
        branch_dag_id(d, branch_slug(b)) for b in BRANCHES for d in BRANCH_DAG_IDS
    }
    assert parsed["db"]["errors"] == []
    assert set(parsed["db"]["dags"]) == expected
    package = Path(jupyter_remote_dev.__file__).parent
    assert Path(parsed["db"]["package"]) == package  # Airflow ran the code under test
    for branch in BRANCHES:
        fileloc = parsed["db"]["dags"][branch_dag_id("etl", branch_slug(branch))]["fileloc"]
        assert fileloc == str(parsed["home"] / "branches" / branch_slug(branch) / "etl.py")
        assert (
            parsed["db"]["dags"][branch_dag_id("etl", branch_slug(branch))]["bundle"] == "branches"
        )
    assert parsed["db"]["dags"]["etl"]["bundle"] == "dags-folder"


def test_policy_branch_dags_paused_and_tagged(parsed):
    """Branch DAGs start paused and carry branch:<name>; main DAGs are untouched."""
    dags = parsed["db"]["dags"]
    assert dags["etl"]["paused"] is False and dags["etl"]["tags"] == ["team"]
    for branch in BRANCHES:
        slug = branch_slug(branch)
        assert dags[branch_dag_id("etl", slug)]["paused"] is True
        assert dags[branch_dag_id("etl", slug)]["tags"] == [f"branch:{branch}", "team"]
        assert dags[branch_dag_id("upstream", slug)]["tags"] == [f"branch:{branch}"]
        assert dags[branch_dag_id("etl", slug)]["display_name"] == f"etl [{branch}]"
    assert dags["etl"]["display_name"] == "etl"


def test_policy_references_follow_inside_the_branch(parsed):
    """Sensors and triggers aimed at a DAG of the branch point at the branch's copy."""
    dags = parsed["db"]["dags"]
    assert dags["etl"]["refs"] == {
        "wait_upstream": "upstream",
        "wait_shared": "shared_upstream",
        "trigger": "upstream",
    }
    for branch in BRANCHES:
        slug = branch_slug(branch)
        assert dags[branch_dag_id("etl", slug)]["refs"] == {
            "wait_upstream": branch_dag_id("upstream", slug),
            "wait_shared": "shared_upstream",  # not defined in the branch: left alone
            "trigger": branch_dag_id("upstream", slug),
        }


def test_policy_decorated_dags_are_renamed_and_their_triggers_follow(parsed):
    """@dag, @dag(...), @module.dag(...) and DAG(dag_id=...) DAGs get the branch suffix, and a
    trigger aimed at one of them fires the branch's copy, never main's DAG of that name."""
    dags = parsed["db"]["dags"]
    assert dags["report"]["refs"] == {} and dags["report"]["bundle"] == "dags-folder"
    for branch in BRANCHES:
        slug = branch_slug(branch)
        ids = {name: branch_dag_id(name, slug) for name in BRANCH_DAG_IDS}
        assert dags[ids["report"]]["paused"] is True
        assert dags[ids["daily_load"]]["refs"] == {"fire_report": ids["report"]}
        assert dags[ids["by_position"]]["refs"] == {"fire_daily": ids["daily_load"]}
        assert dags[ids["by_keyword"]]["refs"] == {"fire_position": ids["by_position"]}


def test_policy_branch_dags_import_their_own_helper_modules(parsed):
    """`from lib.util import VALUE` in a branch DAG imports that branch's lib/util.py, never
    main's copy nor the other branch's, though one Airflow process parses them all."""
    dags = parsed["db"]["dags"]
    assert dags["helpers"]["tags"] == [helper_value("main")]
    for branch in BRANCHES:
        tags = dags[branch_dag_id("helpers", branch_slug(branch))]["tags"]
        assert tags == sorted([f"branch:{branch}", helper_value(branch)])


def test_policy_helpers_stay_apart_whatever_order_one_process_parses_in(parsed):
    """Branch, main, other branch, main again in one process: each file gets its own lib."""
    home = parsed["home"]
    env = airflow_env(home, home / "branches")
    main = (str(home / "dags" / "helpers.py"), str(home / "dags"))
    a, b = (
        (str(home / "branches" / branch_slug(name) / "helpers.py"), str(home / "branches"))
        for name in BRANCHES
    )
    result = probe(env, "sequence", *a, *main, *b, *main)
    tags = [next(v for k, v in bag.items() if k.startswith("helpers")) for bag in result["parsed"]]
    assert [bag["errors"] for bag in result["parsed"]] == [{}] * 4
    assert tags == [
        sorted([f"branch:{BRANCHES[0]}", helper_value(BRANCHES[0])]),
        [helper_value("main")],
        sorted([f"branch:{BRANCHES[1]}", helper_value(BRANCHES[1])]),
        [helper_value("main")],
    ]


def test_policy_worker_imports_the_branch_helpers(parsed):
    """A worker that fetched one branch parses its DAG with the branch's own helper module."""
    home, worker_root, slug = parsed["home"], parsed["worker_root"], parsed["fetched"]
    env = airflow_env(home, worker_root)
    dag_id = branch_dag_id("helpers", slug)
    result = probe(env, "worker", str(worker_root / slug / "helpers.py"), str(worker_root), dag_id)
    assert result["found"] and result["errors"] == {}
    assert result["tags"] == sorted(["branch:feature/A", helper_value("feature/A")])


def test_policy_worker_derives_the_same_dag_id(parsed):
    """A worker that fetched the branch parses it to the same ID, also with the policy applied
    twice (entry point plus airflow_local_settings)."""
    home, worker_root, slug = parsed["home"], parsed["worker_root"], parsed["fetched"]
    assert slug == branch_slug("feature/A")
    config = home / "airflow" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "airflow_local_settings.py").write_text(
        "from jupyter_remote_dev.airflow.policy import dag_policy  # noqa: F401\n"
    )
    env = airflow_env(home, worker_root)
    dag_id = branch_dag_id("etl", slug)
    result = probe(env, "worker", str(worker_root / slug / "etl.py"), str(worker_root), dag_id)
    assert result["found"] and result["errors"] == {}
    assert result["policies"] == ["AirflowLocalSettingsPolicy", "module"]  # both routes ran
    assert result["dag_ids"] == sorted([dag_id, branch_dag_id("upstream", slug)])


def test_policy_imports_light():
    """Importing the policy pulls in none of boto3, the Jupyter server, traitlets or httpx."""
    code = (
        "import sys, jupyter_remote_dev.airflow.policy as p; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'boto3', 'botocore', 'jupyter_server', 'tornado', 'traitlets', 'httpx', 'jupyter_core'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def airflow_api(parsed):
    """A real ``airflow api-server`` on loopback over the parsed DB, with an admin and a viewer."""
    home, port = parsed["home"], free_port()
    passwords = {"admin": secrets.token_urlsafe(12), "viewer": secrets.token_urlsafe(12)}
    (home / "passwords.json").write_text(json.dumps(passwords))
    env = {
        **parsed["env"],
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,viewer:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
    }
    argv = [
        "airflow",
        "api-server",
        "-H",
        "127.0.0.1",
        "-p",
        str(port),
        "--apps",
        "core",
        "-w",
        "1",
    ]
    url = f"http://127.0.0.1:{port}"
    with open(home / "api-server.log", "wb") as log:
        server = subprocess.Popen(
            argv, env=env, cwd=home, stdout=log, stderr=log, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, (home / "api-server.log").read_text()[-3000:]
            try:
                if httpx.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "airflow api-server did not come up in 90 s"
            time.sleep(0.5)
        tokens = {}
        for user, password in passwords.items():
            answer = httpx.post(f"{url}/auth/token", json={"username": user, "password": password})
            tokens[user] = answer.raise_for_status().json()["access_token"]
        yield url, tokens
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_policy_cleanup_and_reconcile_delete_dags_through_airflow_api(parsed, airflow_api, caplog):
    """Against Airflow's real REST API: a viewer token is refused (403) and deletes nothing;
    cleanup deletes exactly its branch's DAGs; reconcile deletes those of dead branches; the
    token appears in no log line or report."""
    caplog.set_level(logging.DEBUG)
    url, tokens = airflow_api
    slug_a, slug_b = branch_slug("feature/A"), branch_slug("feature-a")
    everything = {branch_dag_id(d, s) for s in (slug_a, slug_b) for d in BRANCH_DAG_IDS}
    admin, viewer = AirflowAPI(url, tokens["admin"]), AirflowAPI(url, tokens["viewer"])
    admin.page_size = 1  # walk the pages
    assert set(admin.branch_dag_ids()) == everything

    report = cleanup_branch(parsed["store"], "feature/A", viewer)
    assert report.dags_deleted == [] and len(report.errors) == len(BRANCH_DAG_IDS)
    assert all("HTTP 403" in error for error in report.errors)
    with pytest.raises(AirflowAPIError, match="HTTP 403 Invalid JWT"):
        cleanup_branch(parsed["store"], "feature/A", AirflowAPI(url, "not-a-token"))
    assert set(admin.branch_dag_ids()) == everything

    report = cleanup_branch(parsed["store"], "feature/A", admin)
    assert sorted(report.dags_deleted) == sorted(d for d in everything if d.endswith(slug_a))
    assert set(admin.branch_dag_ids()) == {d for d in everything if d.endswith(slug_b)}

    report = reconcile(parsed["store"], ["main"], admin)
    assert report.slugs == [slug_b] and not report.errors
    assert admin.branch_dag_ids() == []
    remaining = admin.client.get("dags", params={"exclude_stale": "false"}).json()["dags"]
    assert {d["dag_id"] for d in remaining} == MAIN_DAG_IDS
    assert tokens["admin"] not in caplog.text and tokens["admin"] not in repr(report)
    admin.close()
    viewer.close()

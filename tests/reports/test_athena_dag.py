"""The weekly Athena report DAG: loaded by a real Apache Airflow 3 DagBag (its own virtualenv,
as in test_airflow_policy.py), and its task's work run here on stubbed Athena and moto's S3."""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from jupyter_remote_dev.reports.athena.run import scheduled
from jupyter_remote_dev.reports.athena.week import Week

from ..support.airflow_support import MotoS3
from ..support.athena_support import execution, stub_account, stubbed

# A real Airflow 3 (its own virtualenv) loads and runs the DAG: the e2e lane, like the policy tests.
pytestmark = pytest.mark.e2e
AIRFLOW_VENV = Path(
    os.environ.get("AIRFLOW_VENV", Path.home() / ".cache/jupyter-remote-dev/airflow-venv")
)
PROBE = Path(__file__).with_name("athena_dag_probe.py")
WORKTREE = Path(__file__).resolve().parents[2]
DOCS = WORKTREE / "docs/athena-report.md"


def docs_dag_file() -> str:
    """The DAG file docs/athena-report.md tells people to write: the tests load exactly that."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.DOTALL)
    (block,) = [b for b in blocks if "make_dag(" in b]
    return block


DAG_FILE = docs_dag_file()


def airflow_env(home: Path) -> dict:
    """A clean environment for Airflow: its venv, sqlite in ``home``, this worktree's package."""
    if not (AIRFLOW_VENV / "bin/airflow").exists():
        pytest.fail(f"no Airflow virtualenv at {AIRFLOW_VENV}: run bash .ci/airflow-venv.sh")
    return {
        "PATH": f"{AIRFLOW_VENV / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "PYTHONPATH": str(WORKTREE),
    }


def airflow(home: Path, *argv: str) -> str:
    result = subprocess.run(
        argv, env=airflow_env(home), capture_output=True, text=True, timeout=240, cwd=home,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"{argv}: {result.stdout[-2000:]}{result.stderr[-3000:]}"
    return result.stdout


def probe(home: Path, *args: str) -> dict:
    out = airflow(home, str(AIRFLOW_VENV / "bin/python"), str(PROBE), *args)
    return json.loads(out.split("PROBE-RESULT ", 1)[1])


def dags_home(tmp_path: Path, text: str) -> Path:
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags/athena_weekly_report.py").write_text(text)
    return tmp_path


def test_athena_dag_loads_in_real_dagbag(tmp_path):
    """The DAG file the docs show loads with no import error: one task, Mondays 06:00 UTC, no
    catch-up, retried; boto3 is importable where the task runs."""
    home = dags_home(tmp_path, DAG_FILE)
    result = probe(home, "bag", str(home / "dags"), "athena_weekly_report")
    assert result["errors"] == {}
    assert result["dag_ids"] == ["athena_weekly_report"]
    assert result["tasks"] == ["athena_report"]
    assert result["timetable"] == "0 6 * * 1" and result["timezone"] == "UTC"
    assert result["catchup"] is False and result["retries"] == [2]
    assert result["tags"] == ["athena", "cost"]
    assert result["boto3"]
    assert result["package"].startswith(str(WORKTREE))


def test_athena_dag_runs_in_airflow_for_the_week_that_ended(tmp_path):
    """A real Airflow 3 run (``dag.test()`` on a migrated sqlite DB) of the Monday 2026-11-30
    06:00 UTC slot calls the report with that date and the DAG file's settings, and succeeds."""
    home = dags_home(tmp_path, DAG_FILE)
    airflow(home, "airflow", "db", "migrate")
    airflow(home, "airflow", "dags", "reserialize")
    result = probe(
        home, "run", str(home / "dags"), "athena_weekly_report", "2026-11-30T06:00:00+00:00"
    )
    assert result["state"] == "success"
    assert result["calls"] == [
        {
            "when": "2026-11-30T06:00:00+00:00",
            "bucket": "my-reports",
            "prefix": "athena-reports",
            "region": "eu-west-1",
            "price_per_tb": "5",
            "region_prices": [],
            "workgroup_prices": ["etl=4.5"],
            "top": 25,
        }
    ]


def test_athena_dag_without_bucket_is_an_import_error(tmp_path):
    """A DAG file that forgets the bucket shows as an import error naming it, not a silent DAG
    that fails every Monday."""
    home = dags_home(tmp_path, DAG_FILE.replace('bucket="my-reports", ', 'bucket="", '))
    result = probe(home, "bag", str(home / "dags"), "athena_weekly_report")
    assert result["dag_ids"] == []
    assert "needs the bucket" in "".join(result["errors"].values())


def test_athena_dag_task_reports_last_complete_week_to_s3():
    """The task's work: run on Monday 2026-11-30 06:00 UTC it reports 2026-W48 (the week that
    just ended) and uploads it; the summary is its XCom."""
    athena, stub = stubbed("athena")
    sts, sts_stub = stubbed("sts")
    stub_account(stub, sts_stub, {"etl": [execution("e1", "etl", "SELECT 1", scanned=2**40)]})
    monday = datetime(2026, 11, 30, 6, tzinfo=timezone.utc)
    with MotoS3() as s3, stub, sts_stub:
        s3.client().create_bucket(Bucket="reports")
        summary = scheduled(
            monday, bucket="reports", workgroup_prices=("etl=4.5",),
            athena=athena, sts=sts, s3=s3.client(),
        )  # fmt: skip
        body = s3.client().get_object(Bucket="reports", Key="athena-reports/latest/report.json")
        report = json.loads(body["Body"].read())
    assert summary == {
        "week": "2026-W48",
        "cost": 4.5,
        "queries": 1,
        "location": "s3://reports/athena-reports/2026-W48/",
    }
    assert report["week"] == "2026-W48" and report["totals"]["cost"] == 4.5


@pytest.mark.parametrize(
    ("when", "week"),
    [
        (datetime(2026, 11, 30, 6, tzinfo=timezone.utc), "2026-W48"),
        (datetime(2026, 12, 6, 23, 59, tzinfo=timezone.utc), "2026-W48"),
        (datetime(2027, 1, 4, 6, tzinfo=timezone.utc), "2026-W53"),
        (datetime(2026, 1, 5, 6, tzinfo=timezone.utc), "2026-W01"),
    ],
)
def test_athena_dag_week_is_last_complete(when, week):
    """Weeks across a year end: 2026 has 53 ISO weeks; 2026-W01 started on 2025-12-29."""
    assert str(Week.last_complete(when)) == week

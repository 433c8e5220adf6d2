"""``jupyter remote-dev report athena``: a folder and an S3 upload (moto's S3 on loopback) from
stubbed Athena answers, one-line errors for bad input and for a missing boto3."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_remote_dev.reports.athena import run
from jupyter_remote_dev.reports.athena.cli import AthenaReportApp

from ..support.airflow_support import MotoS3
from ..support.athena_support import execution, stub_account, stubbed

WEEK = ["report", "athena", "--week", "2026-W48"]


def main(argv: list[str]) -> None:
    """``jupyter remote-dev report athena ARGS`` in this process (the stubs live here), without
    the singleton launch_instance would leave behind for the server fixtures."""
    assert argv[:2] == ["report", "athena"]
    app = AthenaReportApp()
    app.initialize(argv[2:])
    app.start()


RUNS = {"etl": [execution("e1", "etl", "SELECT a FROM t", scanned=2**40)]}


def _cli(args, tmp_path, code="from jupyter_remote_dev.client.cli import main; main()"):
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture
def stubbed_aws(monkeypatch):
    """The report's Athena and STS clients, on Stubbers with one workgroup's answers queued."""
    athena, stub = stubbed("athena")
    sts, sts_stub = stubbed("sts")
    stub_account(stub, sts_stub, RUNS, tables=[("t", {"Columns": [{"Name": "a"}]})])
    monkeypatch.setattr(run, "clients", lambda region=None: (athena, sts))
    with stub, sts_stub:
        yield
    stub.assert_no_pending_responses()


def test_athena_cli_writes_folder(stubbed_aws, tmp_path, capsys, monkeypatch):
    """--out writes the three files and prints a one-line summary."""
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path))
    main([*WEEK, "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert out.startswith("Athena 2026-W48: $5.00 on demand, 1 queries in 1 workgroups")
    report = json.loads((tmp_path / "out/report.json").read_text())
    assert report["week"] == "2026-W48" and report["totals"]["cost"] == 5.0
    assert (tmp_path / "out/report.html").read_text().startswith("<!doctype html>")
    assert "e1" in (tmp_path / "out/queries.csv").read_text()


def test_athena_cli_uploads_week_and_latest_to_s3(stubbed_aws, tmp_path, capsys, monkeypatch):
    """--bucket uploads PREFIX/WEEK/ and PREFIX/latest/ with content types (moto's real S3)."""
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path))
    with MotoS3() as s3:
        s3.client().create_bucket(Bucket="reports")
        main([*WEEK, "--bucket", "reports", "--prefix", "/athena/", "--endpoint-url", s3.endpoint])
        client = s3.client()
        keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket="reports")["Contents"])
        latest = client.get_object(Bucket="reports", Key="athena/latest/report.json")
        html = client.head_object(Bucket="reports", Key="athena/2026-W48/report.html")
        body = json.loads(latest["Body"].read())
    assert keys == [
        f"athena/{folder}/{name}"
        for folder in ("2026-W48", "latest")
        for name in ("queries.csv", "report.html", "report.json")
    ]
    assert body["week"] == "2026-W48" and latest["ContentType"] == "application/json"
    assert html["ContentType"].startswith("text/html")
    assert "s3://reports/athena/2026-W48/" in capsys.readouterr().out


def test_athena_cli_upload_writes_report_json_last():
    """latest/report.json is written after every other file, so a reader of latest/ never sees a
    report.json newer than the files beside it."""
    calls = []

    class Recorder:
        def put_object(self, **kwargs):
            calls.append(kwargs["Key"])

    outputs = {"report.json": b"{}", "report.html": b"", "queries.csv": b""}
    run.upload(Recorder(), "b", "p", "2026-W48", outputs)
    assert calls[-1] == "p/latest/report.json" and calls[2] == "p/2026-W48/report.json"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "2026-W60", "--out", "x"], "is not an ISO week such as 2026-W48"),
        (["--week", "last", "--out", "x"], "is not an ISO week"),
        (["--week", "2026-W48"], "say where the report goes"),
        (["--week", "2099-W01", "--out", "x"], "week 2099-W01 has not started yet"),
        (["--week", "2026-W48", "--out", "x", "--price", "cheap"], "NAME=USD_PER_TB"),
        (["--week", "2026-W48", "--out", "x", "--region-price", "us-east-1"], "NAME=USD_PER_TB"),
        (["--week", "2026-W48", "--out", "x", "--top", "0"], "--top must be at least 1"),
    ],
)
def test_athena_cli_bad_input_one_line(args, message, tmp_path):
    """Bad options exit 2 with one stderr line naming the problem, nothing written."""
    result = _cli(["report", "athena", *args], tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("jupyter remote-dev report athena: ") and message in lines[0]
    assert not (tmp_path / "x").exists()


def test_athena_cli_without_boto3_says_how_to_install(tmp_path):
    """Without boto3 (it is in the `airflow` extra) the command says so in one line, exit 1."""
    code = (
        "import sys; sys.modules['boto3'] = None; sys.modules['botocore'] = None\n"
        "from jupyter_remote_dev.client.cli import main; main()"
    )
    result = _cli([*WEEK, "--out", str(tmp_path / "out")], tmp_path, code)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "jupyter remote-dev report athena: boto3 is not installed; "
        "install it with: pip install 'jupyter-remote-dev[airflow]'"
    )
    assert not (tmp_path / "out").exists()


def test_athena_cli_listed_in_help(tmp_path):
    """``report`` is one line of the top-level help; ``report athena --help`` shows its options."""
    result = _cli(["--help"], tmp_path)
    assert result.returncode == 0
    assert re.search(r"^  report +Reports: weekly Athena cost\.$", result.stdout, re.M)
    result = _cli(["report", "athena", "--help"], tmp_path)
    assert result.returncode == 0 and "--week=" in result.stdout


def test_athena_cli_aws_error_one_line(monkeypatch, tmp_path, capsys):
    """An AWS refusal (here AccessDenied on ListWorkGroups) is one stderr line, exit 1, and no
    output folder."""
    athena, stub = stubbed("athena")
    sts, _ = stubbed("sts")
    stub.add_client_error("list_work_groups", "AccessDeniedException", "not authorized")
    monkeypatch.setattr(run, "clients", lambda region=None: (athena, sts))
    with stub, pytest.raises(SystemExit) as exited:
        main([*WEEK, "--out", str(tmp_path / "out")])
    assert exited.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "AccessDeniedException" in lines[0] and "not authorized" in lines[0]
    assert not (tmp_path / "out").exists()


def test_athena_report_imports_stay_light(tmp_path):
    """The report core imports no tornado or jupyter_server; the command module imports no boto3
    until the report runs (so `--help` and bad input answer fast, and without boto3)."""
    code = (
        "import sys\n"
        "import jupyter_remote_dev.reports.athena.cli\n"
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules\n"
        "import jupyter_remote_dev.reports.athena.run, jupyter_remote_dev.reports.athena.build\n"
        "assert 'tornado' not in sys.modules and 'jupyter_server' not in sys.modules\n"
        "print('light')"
    )
    result = _cli([], tmp_path, code)
    assert result.returncode == 0 and result.stdout == "light\n", result.stderr


def test_athena_cli_docs_name_real_options():
    """Every ``--option`` docs/athena-report.md names is an option of the command, and the IAM
    snippet is valid JSON naming every Athena call the report makes."""
    doc = (Path(__file__).resolve().parents[2] / "docs/athena-report.md").read_text()
    named = set(re.findall(r"`--([a-z-]+)", doc))
    assert named and named <= set(AthenaReportApp.aliases)
    (policy,) = re.findall(r"```json\n(.*?)```", doc, re.DOTALL)
    actions = set(json.loads(policy)["Action"])
    fetch_doc = run.fetch.__doc__
    assert actions == set(re.findall(r"``((?:athena|sts):\w+)``", fetch_doc))

"""``jupyter remote-dev dags ...``: branch staging commands for CI, the DAG processor and workers.

Every option can come from a flag, the client config file (``c.DagsCommand.bucket = ...``) or the
environment (``JUPYTER_REMOTE_DEV_DAGS_*``). AWS credentials come only from boto3's standard chain;
the Airflow token only from ``JUPYTER_REMOTE_DEV_AIRFLOW_TOKEN``, never from argv or a config file.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from dataclasses import asdict

from traitlets import Bool, Enum, Float, Int, Unicode, default

from ..cliapp import CommandApp, SubcommandApp, described, print_error

ENV = "JUPYTER_REMOTE_DEV_DAGS_"
TOKEN_ENV = "JUPYTER_REMOTE_DEV_AIRFLOW_TOKEN"


def _from_env(trait: str, name: str, fallback: str = ""):
    """The default of ``trait``: ``$JUPYTER_REMOTE_DEV_DAGS_<name>``, else ``fallback``."""
    return default(trait)(lambda _self: os.environ.get(ENV + name, fallback))


class DagsCommand(CommandApp):
    """Shared bucket options of every ``dags`` subcommand."""

    aliases = {
        "bucket": "DagsCommand.bucket",
        "prefix": "DagsCommand.prefix",
        "endpoint-url": "DagsCommand.endpoint_url",
        "region": "DagsCommand.region",
        "log-level": "Application.log_level",
    }
    flags = {}

    bucket = Unicode(
        config=True, help="Bucket holding the branch folders. Env: JUPYTER_REMOTE_DEV_DAGS_BUCKET."
    )
    prefix = Unicode(
        config=True,
        help="Folder inside the bucket for all branches, e.g. 'dags-branches' (the default). "
        "Env: JUPYTER_REMOTE_DEV_DAGS_PREFIX.",
    )
    endpoint_url = Unicode(
        config=True,
        help="S3-compatible endpoint (MinIO, Ceph, ...), e.g. 'http://minio:9000'; empty for AWS. "
        "Env: JUPYTER_REMOTE_DEV_DAGS_ENDPOINT_URL (boto3's own AWS_ENDPOINT_URL_S3 also works). "
        "Credentials are never an option: boto3's standard chain supplies them.",
    )
    region = Unicode(
        config=True,
        help="Bucket region; empty lets boto3 decide (AWS_REGION and friends). "
        "Env: JUPYTER_REMOTE_DEV_DAGS_REGION.",
    )

    _bucket_default = _from_env("bucket", "BUCKET")
    _prefix_default = _from_env("prefix", "PREFIX", "dags-branches")
    _endpoint_url_default = _from_env("endpoint_url", "ENDPOINT_URL")
    _region_default = _from_env("region", "REGION")

    @default("log_level")
    def _log_level_default(self):
        return logging.INFO  # the side container's log is how operators follow it

    def make_store(self):
        from .store import BranchStore

        return BranchStore(
            bucket=self.bucket,
            prefix=self.prefix,
            endpoint_url=self.endpoint_url or None,
            region=self.region or None,
        )

    def fail(self, message: str) -> None:
        print_error(message)
        self.exit(1)

    def report(self, data: dict) -> None:
        print(json.dumps(data, indent=1, sort_keys=True))

    def start(self):
        import httpx
        from botocore.exceptions import BotoCoreError, ClientError

        ours = logging.getLogger("jupyter_remote_dev.airflow")  # our modules log through the app
        ours.handlers = self.log.handlers
        ours.setLevel(self.log_level)
        ours.propagate = False
        try:
            self.run()
        except (
            OSError,
            ValueError,
            RuntimeError,
            LookupError,
            ClientError,
            BotoCoreError,
            httpx.HTTPError,
        ) as error:
            self.fail(f"{type(error).__name__}: {error}")

    def run(self):  # pragma: no cover - every subcommand overrides it
        raise NotImplementedError


class PublishApp(DagsCommand):
    """Publish SRC_DIR as a branch: upload what changed, write the manifest, drop removed files."""

    name = "jupyter-remote-dev-dags-publish"
    description = __doc__
    aliases = {**DagsCommand.aliases, "branch": "PublishApp.branch"}
    branch = Unicode(
        config=True,
        help="Branch name, e.g. 'feature/x' (CI: $CI_COMMIT_REF_NAME or $GITHUB_HEAD_REF). "
        "Env: JUPYTER_REMOTE_DEV_DAGS_BRANCH.",
    )

    _branch_default = _from_env("branch", "BRANCH")

    def run(self):
        from .publish import publish

        if len(self.extra_args) != 1 or not self.branch:
            self.fail("usage: jupyter remote-dev dags publish --branch NAME SRC_DIR")
        result = publish(self.make_store(), self.branch, self.extra_args[0])
        self.report(asdict(result))


class SyncApp(DagsCommand):
    """Mirror every live branch into DEST/<slug>/ (the side container beside the DAG processor)."""

    name = "jupyter-remote-dev-dags-sync"
    description = __doc__
    aliases = {
        **DagsCommand.aliases,
        "dest": "SyncApp.dest",
        "interval": "SyncApp.interval",
        "retries": "SyncApp.retries",
    }
    flags = {"once": ({"SyncApp": {"once": True}}, "Run one pass and exit.")}
    dest = Unicode(
        config=True,
        help="Branch root the DAG processor parses, e.g. '/opt/airflow/dags/branches'. "
        "Env: JUPYTER_REMOTE_DEV_DAGS_BRANCH_ROOT (the same variable the policy reads).",
    )
    interval = Float(30.0, config=True, help="Seconds between passes.")
    retries = Int(3, config=True, help="Retries per branch when it changes while being copied.")
    once = Bool(False, config=True, help="Run one pass and exit (non-zero if a branch failed).")

    _dest_default = _from_env("dest", "BRANCH_ROOT")

    def run(self):
        from .sync import run_sync, sync_once

        if not self.dest:
            self.fail("no destination: pass --dest or set JUPYTER_REMOTE_DEV_DAGS_BRANCH_ROOT")
        store = self.make_store()
        if self.once:
            report = sync_once(store, self.dest, retries=self.retries)
            self.report(asdict(report))
            if report.failed:
                self.exit(1)
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        run_sync(store, self.dest, interval=self.interval, retries=self.retries, stop=stop)


class FetchApp(DagsCommand):
    """Fetch only the branch a branch DAG ID belongs to (the worker's init container)."""

    name = "jupyter-remote-dev-dags-fetch"
    description = __doc__
    aliases = {**DagsCommand.aliases, "dag-id": "FetchApp.dag_id", "dest": "FetchApp.dest"}
    dag_id = Unicode(
        config=True,
        help="The task's DAG ID, e.g. 'etl__br_feature-x-1a2b3c4d5e'; an ordinary DAG ID fetches "
        "nothing. Env: JUPYTER_REMOTE_DEV_DAGS_DAG_ID.",
    )
    dest = Unicode(
        config=True,
        help="Branch root, the same path as on the DAG processor. "
        "Env: JUPYTER_REMOTE_DEV_DAGS_BRANCH_ROOT.",
    )

    _dag_id_default = _from_env("dag_id", "DAG_ID")
    _dest_default = _from_env("dest", "BRANCH_ROOT")

    def run(self):
        from .fetch import fetch_for_dag

        if not self.dag_id or not self.dest:
            self.fail("usage: jupyter remote-dev dags fetch --dag-id ID --dest DIR")
        slug = fetch_for_dag(self.make_store(), self.dag_id, self.dest)
        self.report({"dag_id": self.dag_id, "slug": slug})


class AirflowCommand(DagsCommand):
    """Options of the commands that can also delete DAGs from Airflow."""

    airflow_url = Unicode(
        config=True,
        help="Airflow's base URL, e.g. 'https://airflow.example.com'; with it, the branch's DAGs "
        "are deleted through the REST API using the token in JUPYTER_REMOTE_DEV_AIRFLOW_TOKEN. "
        "Env: JUPYTER_REMOTE_DEV_AIRFLOW_URL.",
    )
    airflow_api_version = Enum(
        ["v2", "v1"], "v2", config=True, help="'v2' (Airflow 3) or 'v1' (Airflow 2)."
    )

    @default("airflow_url")
    def _airflow_url_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_AIRFLOW_URL", "")

    def make_airflow(self):
        from .cleanup import AirflowAPI

        if not self.airflow_url:
            return None
        token = os.environ.get(TOKEN_ENV, "")
        if not token:
            self.fail(f"--airflow-url needs a token in {TOKEN_ENV}")
        return AirflowAPI(self.airflow_url, token, self.airflow_api_version)

    def finish(self, report) -> None:
        self.report(asdict(report))
        if report.errors:
            self.exit(1)


_AIRFLOW_ALIASES = {
    "airflow-url": "AirflowCommand.airflow_url",
    "airflow-api-version": "AirflowCommand.airflow_api_version",
}


class CleanupApp(AirflowCommand):
    """Delete a branch's folder (and its DAGs in Airflow): the CI stop job on merge."""

    name = "jupyter-remote-dev-dags-cleanup"
    description = __doc__
    aliases = {**DagsCommand.aliases, **_AIRFLOW_ALIASES, "branch": "CleanupApp.branch"}
    branch = Unicode(config=True, help="Branch name. Env: JUPYTER_REMOTE_DEV_DAGS_BRANCH.")

    _branch_default = _from_env("branch", "BRANCH")

    def run(self):
        from .cleanup import cleanup_branch

        if not self.branch:
            self.fail("usage: jupyter remote-dev dags cleanup --branch NAME")
        self.finish(cleanup_branch(self.make_store(), self.branch, self.make_airflow()))


class ReconcileApp(AirflowCommand):
    """Delete every branch folder (and branch DAG) whose branch is not in the live list."""

    name = "jupyter-remote-dev-dags-reconcile"
    description = __doc__
    aliases = {
        **DagsCommand.aliases,
        **_AIRFLOW_ALIASES,
        "live-branches": "ReconcileApp.live_branches",
    }
    flags = {
        "allow-empty": (
            {"ReconcileApp": {"allow_empty": True}},
            "Accept an empty live list (removes every branch).",
        )
    }
    live_branches = Unicode(
        config=True,
        help="File with the live branch names, one a line, or '-' for stdin, e.g. the output of "
        "`git ls-remote --heads origin | sed 's|.*refs/heads/||'`.",
    )
    allow_empty = Bool(False, config=True, help="Accept an empty live list.")

    def run(self):
        from .cleanup import read_live_branches, reconcile

        if not self.live_branches:
            self.fail("usage: jupyter remote-dev dags reconcile --live-branches FILE|-")
        if self.live_branches == "-":
            live = read_live_branches(sys.stdin)
        else:
            with open(self.live_branches, encoding="utf-8") as f:
                live = read_live_branches(f)
        store, airflow = self.make_store(), self.make_airflow()
        self.finish(reconcile(store, live, airflow, allow_empty=self.allow_empty))


class LifecycleApp(DagsCommand):
    """Merge an expiry rule for the branch prefix into the bucket's lifecycle rules."""

    name = "jupyter-remote-dev-dags-lifecycle"
    description = __doc__
    aliases = {**DagsCommand.aliases, "days": "LifecycleApp.days"}
    days = Int(30, config=True, help="Days after which objects under the prefix expire.")

    def run(self):
        from .lifecycle import apply_expiry

        self.report({"rules": apply_expiry(self.make_store(), self.days)})


class DagsApp(SubcommandApp):
    """Branch staging for Airflow DAGs: publish, sync, fetch, cleanup, reconcile, lifecycle."""

    name = "jupyter-remote-dev-dags"
    command = "jupyter remote-dev dags"
    description = __doc__
    subcommands = described(
        publish=PublishApp,
        sync=SyncApp,
        fetch=FetchApp,
        cleanup=CleanupApp,
        reconcile=ReconcileApp,
        lifecycle=LifecycleApp,
    )

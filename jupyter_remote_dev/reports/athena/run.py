"""Produce one week's report: read Athena, build, render, write to a folder and/or S3.

S3 layout under ``s3://BUCKET/PREFIX/``::

    2026-W48/report.html, report.json, queries.csv    one folder per week, kept
    latest/report.html, report.json, queries.csv      the newest week, replaced each run

The week's folder is written first and ``latest/report.json`` last, so a reader of ``latest/``
never sees a report.json newer than the files beside it.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timezone
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from . import fetch
from .build import Collected, build_report
from .hints import HintSettings
from .pricing import Pricing, parse_prices
from .render import render, write
from .week import Week

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    "report.html": "text/html; charset=utf-8",
    "report.json": "application/json",
    "queries.csv": "text/csv; charset=utf-8",
}
RETRIES = Config(retries={"max_attempts": 10, "mode": "standard"})


def clients(region: str | None = None) -> tuple[object, object]:
    """Athena and STS clients; credentials from boto3's standard chain only."""
    athena = boto3.client("athena", region_name=region or None, config=RETRIES)
    sts = boto3.client("sts", region_name=athena.meta.region_name, config=RETRIES)
    return athena, sts


def collect(athena, sts, week: Week) -> Collected:
    """Everything the report of ``week`` (and the week before, for comparison) needs."""
    previous = week.previous()
    workgroups = fetch.list_workgroups(athena)
    current_runs, previous_runs, unprocessed = {}, {}, []
    skipped = []
    for group in workgroups:
        name = group["Name"]
        try:
            runs, missing = fetch.executions_between(athena, name, previous.start, week.end)
        except ClientError as error:  # one workgroup denied must not sink the whole report
            log.warning("workgroup %s skipped: %s", name, error)
            skipped.append({"workgroup": name, "error": error.response["Error"].get("Code", "")})
            continue
        unprocessed += missing
        current_runs[name] = [r for r in runs if r["Status"]["SubmissionDateTime"] >= week.start]
        previous_runs[name] = [r for r in runs if r["Status"]["SubmissionDateTime"] < week.start]
        log.info("workgroup %s: %d queries in %s", name, len(current_runs[name]), week)
    names = list(current_runs)
    return Collected(
        week=week,
        region=athena.meta.region_name,
        workgroups=[g for g in workgroups if g["Name"] in current_runs],
        current=current_runs,
        previous=previous_runs,
        provisioned=fetch.provisioned_workgroups(athena),
        tags=fetch.workgroup_tags(athena, sts, names),
        unprocessed=unprocessed,
        skipped=skipped,
    )


def make_report(athena, sts, week: Week, pricing: Pricing, top: int = 25, hints=None):
    """(report dict, CSV rows) for ``week``."""
    data = collect(athena, sts, week)
    info = functools.cache(functools.partial(fetch.table_metadata, athena))
    return build_report(data, pricing, info, top=top, hint_settings=hints or HintSettings())


def upload(s3, bucket: str, prefix: str, week: str, outputs: dict[str, bytes]) -> list[str]:
    """Put the outputs under ``PREFIX/WEEK/`` then ``PREFIX/latest/`` (report.json last)."""
    base = prefix.strip("/")
    order = sorted(outputs, key=lambda name: name == "report.json")
    keys = []
    for folder in (week, "latest"):
        for name in order:
            key = "/".join(p for p in (base, folder, name) if p)
            s3.put_object(
                Bucket=bucket, Key=key, Body=outputs[name], ContentType=CONTENT_TYPES[name]
            )
            keys.append(key)
    return keys


def produce(
    week: Week,
    pricing: Pricing,
    out: Path | None = None,
    bucket: str = "",
    prefix: str = "athena-reports",
    region: str | None = None,
    endpoint_url: str | None = None,
    top: int = 25,
    athena=None,
    sts=None,
    s3=None,
) -> dict:
    """Make ``week``'s report, write it to ``out`` and/or ``s3://bucket/prefix``; the report."""
    if athena is None:
        athena, sts = clients(region)
    report, rows = make_report(athena, sts, week, pricing, top=top)
    outputs = render(report, rows)
    if out is not None:
        write(outputs, out)
    if bucket:
        if s3 is None:
            s3 = boto3.client("s3", region_name=region or None, endpoint_url=endpoint_url or None)
        upload(s3, bucket, prefix, str(week), outputs)
    return report


def scheduled(
    when: datetime | None,
    bucket: str,
    prefix: str = "athena-reports",
    region: str | None = None,
    price_per_tb: str = "5",
    region_prices: tuple[str, ...] = (),
    workgroup_prices: tuple[str, ...] = (),
    top: int = 25,
    **clients_,
) -> dict:
    """One scheduled run (the Airflow task): the last week complete at ``when`` (now when None),
    uploaded to S3. Returns a small summary (the task's XCom)."""
    if not bucket:
        raise ValueError("no bucket for the Athena report (make_dag(bucket=...))")
    week = Week.last_complete(when or datetime.now(timezone.utc))
    pricing = Pricing(
        default=parse_prices([f"default={price_per_tb}"])["default"],
        regions=parse_prices(list(region_prices)),
        workgroups=parse_prices(list(workgroup_prices)),
    )
    report = produce(
        week, pricing, bucket=bucket, prefix=prefix, region=region, top=top, **clients_
    )
    return {
        "week": str(week),
        "cost": report["totals"]["cost"],
        "queries": report["totals"]["queries"],
        "location": f"s3://{bucket}/{prefix.strip('/')}/{week}/",
    }

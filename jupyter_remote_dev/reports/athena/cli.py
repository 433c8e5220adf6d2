"""``jupyter remote-dev report athena``: one week's Athena query-cost report.

Credentials come only from boto3's standard chain (environment, profile, IRSA, instance role).
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from traitlets import Int, List, Unicode

from ...cliapp import CommandApp
from .pricing import Pricing, parse_prices
from .week import Week

MISSING_BOTO3 = (
    "jupyter remote-dev report athena: boto3 is not installed; "
    "install it with: pip install 'jupyter-remote-dev[airflow]'"
)


class AthenaReportApp(CommandApp):
    """Weekly Athena query cost per workgroup: HTML, JSON, CSV; to a folder or S3."""

    name = "jupyter-remote-dev-report-athena"
    description = __doc__
    examples = (
        "jupyter remote-dev report athena --week 2026-W48 --out reports/\n"
        "jupyter remote-dev report athena --bucket my-reports --region eu-west-1 "
        "--workgroup-price etl=4.5"
    )
    aliases = {
        "week": "AthenaReportApp.week",
        "out": "AthenaReportApp.out",
        "bucket": "AthenaReportApp.bucket",
        "prefix": "AthenaReportApp.prefix",
        "region": "AthenaReportApp.region",
        "endpoint-url": "AthenaReportApp.endpoint_url",
        "price": "AthenaReportApp.price_per_tb",
        "region-price": "AthenaReportApp.region_prices",
        "workgroup-price": "AthenaReportApp.workgroup_prices",
        "top": "AthenaReportApp.top",
    }
    flags = {}

    week = Unicode(
        "", config=True, help="ISO week to report, e.g. 2026-W48; empty: the last complete week."
    )
    out = Unicode("", config=True, help="Folder for report.html, report.json and queries.csv.")
    bucket = Unicode("", config=True, help="S3 bucket to upload the report to (optional).")
    prefix = Unicode("athena-reports", config=True, help="Folder in the bucket: PREFIX/WEEK/...")
    region = Unicode("", config=True, help="Athena region; empty lets boto3 decide (AWS_REGION).")
    endpoint_url = Unicode("", config=True, help="S3-compatible endpoint for the upload (MinIO).")
    price_per_tb = Unicode("5", config=True, help="On-demand USD per TB scanned (default 5).")
    region_prices = List(
        Unicode(), config=True, help="Per-region prices, REGION=USD_PER_TB; repeatable."
    )
    workgroup_prices = List(
        Unicode(), config=True, help="Per-workgroup prices, WORKGROUP=USD_PER_TB; repeatable."
    )
    top = Int(25, config=True, help="How many query groups the report lists.")

    def fail(self, message: str, code: int = 1) -> None:
        print(f"jupyter remote-dev report athena: {message}", file=sys.stderr)
        self.exit(code)

    def settings(self) -> tuple[Week, Pricing]:
        now = datetime.now(timezone.utc)
        week = Week.parse(self.week) if self.week else Week.last_complete(now)
        if week.start > now:
            raise ValueError(f"week {week} has not started yet")
        default = parse_prices([f"default={self.price_per_tb}"])["default"]
        pricing = Pricing(
            default=Decimal(default),
            regions=parse_prices(self.region_prices),
            workgroups=parse_prices(self.workgroup_prices),
        )
        if self.top < 1:
            raise ValueError(f"--top must be at least 1, got {self.top}")
        if not self.out and not self.bucket:
            raise ValueError("say where the report goes: --out FOLDER and/or --bucket BUCKET")
        return week, pricing

    def start(self):
        try:
            week, pricing = self.settings()
        except ValueError as error:
            return self.fail(str(error), 2)
        try:
            from botocore.exceptions import BotoCoreError, ClientError

            from .fetch import FetchError
            from .run import produce
        except ImportError as error:
            if (error.name or "").partition(".")[0] in ("boto3", "botocore"):
                print(MISSING_BOTO3, file=sys.stderr)
                return self.exit(1)
            raise
        out = Path(self.out) if self.out else None
        try:
            report = produce(
                week,
                pricing,
                out=out,
                bucket=self.bucket,
                prefix=self.prefix,
                region=self.region or None,
                endpoint_url=self.endpoint_url or None,
                top=self.top,
            )
        except (BotoCoreError, ClientError, FetchError, OSError) as error:
            return self.fail(str(error))
        totals = report["totals"]
        where = [str(out / "report.html")] if out else []
        where += [f"s3://{self.bucket}/{self.prefix.strip('/')}/{week}/"] if self.bucket else []
        print(
            f"Athena {week}: ${totals['cost']:,.2f} on demand, {totals['queries']:,} queries in "
            f"{len(report['workgroups'])} workgroups; written to {', '.join(where)}"
        )

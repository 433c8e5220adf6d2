"""A realistic week of Athena use, deterministic, for the browser test and the docs screenshot.

``python -m tests.athena_sample OUT_DIR`` writes its report.html, report.json and queries.csv.
"""

from __future__ import annotations

import random
import sys
from datetime import timedelta
from pathlib import Path

from jupyter_remote_dev.reports.athena.build import Collected, build_report
from jupyter_remote_dev.reports.athena.pricing import Pricing
from jupyter_remote_dev.reports.athena.render import render, write
from jupyter_remote_dev.reports.athena.week import Week

from .athena_support import REGION, W48, execution

GB, TB = 2**30, 2**40
TABLES = {
    "sales.orders": {"columns": 64, "partition_keys": ["dt"]},
    "sales.customers": {"columns": 12, "partition_keys": []},
    "web.clicks": {"columns": 22, "partition_keys": ["year", "month", "day"]},
}


def _week(offset_days: int, scale: float, rng: random.Random) -> dict[str, list[dict]]:
    start = W48 - timedelta(days=offset_days)
    runs: dict[str, list[dict]] = {g: [] for g in ("analytics", "etl-nightly", "bi", "adhoc")}

    def add(group, sql, scanned, **kw):
        n = sum(len(v) for v in runs.values())
        when = start + timedelta(minutes=rng.randrange(7 * 24 * 60))
        runs[group].append(execution(f"{offset_days}-{n}", group, sql, int(scanned * scale),
                                     submitted=when, **kw))  # fmt: skip

    for day in range(12):
        add("analytics", "SELECT * FROM sales.orders WHERE amount > 100", 2.6 * TB + day * GB)
    for _ in range(7):
        add("etl-nightly", "INSERT INTO web.daily SELECT day, count(*) FROM web.clicks "
            "WHERE year = '2026' GROUP BY day", 900 * GB)  # fmt: skip
    for i in range(500):
        add("bi", f"SELECT sum(total) FROM sales.orders WHERE dt = '2026-11-{i % 28 + 1:02d}' "
            f"AND region = 'r{i % 9}'", rng.randrange(1, 40) * GB, database="sales")  # fmt: skip
    for i in range(40):
        add("adhoc", f"SELECT name, email FROM sales.customers WHERE id = {1000 + i}", 30 * 2**20)
    for _ in range(5):
        add("adhoc", "SELECT * FROM web.clicks", 400 * GB, state="CANCELLED")
    add("adhoc", "SELECT broken FROM nowhere", 0, state="FAILED")
    add("analytics", "CREATE TABLE tmp.t AS SELECT 1", 0, kind="DDL")
    return runs


def sample() -> tuple[dict, list[dict]]:
    rng = random.Random(48)
    current = _week(0, 1.0, rng)
    previous = _week(7, 0.8, rng)
    current["dashboards"] = [
        execution(f"d{i}", "dashboards", f"SELECT * FROM web.clicks WHERE day = '{i}'", 50 * GB)
        for i in range(30)
    ]
    previous["dashboards"] = []
    data = Collected(
        week=Week(2026, 48),
        region=REGION,
        workgroups=[{"Name": n, "State": "ENABLED"} for n in current],
        current=current,
        previous=previous,
        provisioned={"dashboards": "bi-24dpu"},
        tags={
            "analytics": {"team": "data-science", "owner": "alice"},
            "etl-nightly": {"team": "data-eng"},
            "bi": {"team": "finance"},
            "adhoc": {"owner": "bob"},
        },
    )

    def info(catalog, database, table, workgroup):
        return TABLES.get(f"{database}.{table}")

    return build_report(data, Pricing(), info)


if __name__ == "__main__":
    write(render(*sample()), Path(sys.argv[1]))

"""The report built from stubbed Athena answers: totals equal the sum of the queries served,
fingerprint groups, capacity workgroups, week over week, hints, and the three output files."""

import csv
import io
import json
import math
from datetime import timedelta
from decimal import Decimal

import pytest

from jupyter_remote_dev.reports.athena.build import Collected, build_report
from jupyter_remote_dev.reports.athena.pricing import Pricing
from jupyter_remote_dev.reports.athena.render import render, write
from jupyter_remote_dev.reports.athena.run import make_report
from jupyter_remote_dev.reports.athena.week import Week

from ..support.athena_support import REGION, W48, execution, stub_account, stubbed

MB, TB = 2**20, 2**40
SECRET = "alice@example.com"


def expected_cost(scanned: int, state: str = "SUCCEEDED", kind: str = "DML", price=5) -> Decimal:
    """The pricing rules written out again, independently of the code under test."""
    if kind == "DDL" or state not in ("SUCCEEDED", "CANCELLED"):
        return Decimal(0)
    billed = max(math.ceil(scanned / MB), 10) * MB
    return Decimal(billed) * Decimal(price) / Decimal(TB)


def no_tables(*_):
    return None


def collected(current, previous=None, **extra) -> Collected:
    names = sorted(set(current) | set(previous or {}))
    return Collected(
        week=Week(2026, 48),
        region=REGION,
        workgroups=[{"Name": n, "State": "ENABLED"} for n in names],
        current={n: current.get(n, []) for n in names},
        previous={n: (previous or {}).get(n, []) for n in names},
        **extra,
    )


MIXED = {
    "etl": [
        execution("e1", "etl", "SELECT * FROM logs", scanned=3 * TB + 1),
        execution("e2", "etl", "SELECT x FROM logs", scanned=5 * MB, state="CANCELLED"),
        execution("e3", "etl", "SELECT y FROM logs", scanned=2 * TB, state="FAILED"),
        execution("e4", "etl", "CREATE TABLE t (a int)", scanned=0, kind="DDL"),
        execution("e5", "etl", "SHOW TABLES", scanned=None, kind="UTILITY"),
    ],
    "bi": [execution(f"b{i}", "bi", f"SELECT {i} FROM s", scanned=i * 7 * MB) for i in range(60)],
}


def test_report_totals_equal_sum_of_queries_served():
    """Through the real fetch path (paging, chunks of 50) on stubbed answers: each workgroup's
    cost, and the grand total, equal the sum of the per-query costs the rules give."""
    athena, stub = stubbed("athena")
    sts, sts_stub = stubbed("sts")
    logs = {"Columns": [{"Name": f"c{i}"} for i in range(30)], "PartitionKeys": [{"Name": "dt"}]}
    stub_account(stub, sts_stub, MIXED, tables=[("logs", logs), ("s", {"Columns": []})])
    with stub, sts_stub:
        report, rows = make_report(athena, sts, Week(2026, 48), Pricing())
    stub.assert_no_pending_responses()
    by_name = {w["name"]: w for w in report["workgroups"]}
    grand = Decimal(0)
    for name, runs in MIXED.items():
        want = sum(
            expected_cost(r["Statistics"].get("DataScannedInBytes", 0), r["Status"]["State"],
                          r["StatementType"])
            for r in runs
        )  # fmt: skip
        grand += want
        assert by_name[name]["cost"] == float(round(want, 6))
        assert by_name[name]["queries"] == len(runs)
        assert by_name[name]["tags"] == {"team": f"team-{name}"}
    assert report["totals"]["cost"] == float(round(grand, 6))
    assert report["totals"]["queries"] == len(rows) == 65
    assert sum(r["cost"] for r in rows) == pytest.approx(float(grand), abs=1e-6 * len(rows))
    assert by_name["etl"]["failed"] == 1 and by_name["etl"]["cancelled"] == 1
    assert by_name["etl"]["ddl"] == 1
    scanned = sum(r["Statistics"].get("DataScannedInBytes", 0) for v in MIXED.values() for r in v)
    assert report["totals"]["scanned_bytes"] == scanned
    top = report["top_queries"][0]
    assert top["sql"] == "select * from logs" and top["owners"] == ["team=team-etl"]
    assert {h["kind"] for h in top["hints"]} == {"full-partition-scan", "select-star-wide"}


def test_report_groups_a_query_run_500_times_into_one_line():
    """500 runs differing only in literals are one line with count 500 and their summed cost."""
    runs = [
        execution(f"q{i}", "etl", f"select * from events where day = '2026-11-{i % 28 + 1:02d}' "
                  f"and user_id = {i}", scanned=(i + 1) * 3 * MB)
        for i in range(500)
    ]  # fmt: skip
    report, _ = build_report(collected({"etl": runs}), Pricing(), no_tables)
    assert len(report["top_queries"]) == 1
    line = report["top_queries"][0]
    assert line["count"] == 500
    assert line["sql"] == "select * from events where day = ? and user_id = ?"
    want = sum(expected_cost((i + 1) * 3 * MB) for i in range(500))
    assert line["cost"] == float(round(want, 6)) == report["totals"]["cost"]


def test_report_capacity_workgroup_marked_without_per_query_cost():
    """A workgroup on a capacity reservation is marked as such; its queries carry no cost and
    are left out of the on-demand total (billed per DPU-hour instead)."""
    data = collected(
        {
            "dash": [execution("d1", "dash", scanned=TB)],
            "etl": [execution("e1", "etl", scanned=TB)],
        },
        provisioned={"dash": "bi-reservation"},
    )
    report, rows = build_report(data, Pricing(), no_tables)
    dash = next(w for w in report["workgroups"] if w["name"] == "dash")
    assert dash["billing"] == "capacity" and dash["capacity_reservation"] == "bi-reservation"
    assert dash["cost"] is None and dash["price_per_tb"] is None
    assert dash["scanned_bytes"] == TB
    assert report["totals"]["cost"] == 5.0 and report["totals"]["queries_on_capacity"] == 1
    assert {r["id"]: r["cost"] for r in rows} == {"d1": None, "e1": 5.0}
    # the same SQL in both: the group's cost is the on-demand run's only
    assert [(q["count"], q["cost"]) for q in report["top_queries"]] == [(2, 5.0)]
    only_capacity = collected(
        {"dash": [execution("d1", "dash", scanned=TB)]}, provisioned={"dash": "r"}
    )
    line = build_report(only_capacity, Pricing(), no_tables)[0]["top_queries"][0]
    assert line["cost"] is None and line["max_cost"] is None and line["rank"] == 1


def test_report_week_over_week():
    """Each workgroup and the total carry last week's figures and the change."""
    data = collected(
        {"etl": [execution("now", "etl", scanned=3 * TB)]},
        {"etl": [execution("then", "etl", scanned=2 * TB, submitted=W48 - timedelta(days=3))]},
    )
    report, _ = build_report(data, Pricing(), no_tables)
    etl = report["workgroups"][0]
    assert etl["cost"] == 15.0 and etl["previous"]["cost"] == 10.0
    assert etl["cost_change"] == 0.5 and report["totals"]["cost_change"] == 0.5
    assert report["week"] == "2026-W48" and report["previous_week"] == "2026-W47"


def test_report_price_per_workgroup_applies():
    data = collected({"cheap": [execution("c", "cheap", scanned=TB)]})
    report, _ = build_report(data, Pricing(workgroups={"cheap": Decimal(2)}), no_tables)
    assert report["workgroups"][0]["cost"] == 2.0 and report["workgroups"][0]["price_per_tb"] == 2


def table_info(tables):
    def info(catalog, database, table, workgroup):
        return tables.get(f"{database}.{table}")

    return info


def test_report_hints_full_partition_scan_select_star_and_reruns():
    """Plain hints: a partitioned table read without a partition filter, SELECT * on a wide
    table, and the same query re-run unchanged; none for a query that filters its partition."""
    wide = {"columns": 48, "partition_keys": ["dt"]}
    runs = [
        execution("a", "etl", "SELECT * FROM sales.orders WHERE amount > 5", scanned=TB),
        execution("b", "etl", "SELECT id FROM orders WHERE dt = '2026-11-23'", scanned=TB // 2),
    ] + [
        execution(f"r{i}", "etl", "SELECT count(*) FROM sales.small", scanned=MB) for i in range(4)
    ]
    info = table_info({"sales.orders": wide, "sales.small": {"columns": 3, "partition_keys": []}})
    report, _ = build_report(collected({"etl": runs}), Pricing(), info)
    hints = {(h["kind"], h["fingerprint"]) for h in report["hints"]}
    by_sql = {q["sql"]: q for q in report["top_queries"]}
    star = by_sql["select * from sales.orders where amount > ?"]
    assert {h["kind"] for h in star["hints"]} == {"full-partition-scan", "select-star-wide"}
    assert "dt" in star["hints"][0]["text"]
    assert by_sql["select id from orders where dt = ?"]["hints"] == []
    rerun = by_sql["select count(*) from sales.small"]
    assert [h["kind"] for h in rerun["hints"]] == ["rerun"] and "4 times" in rerun["hints"][0][
        "text"
    ]
    assert len(hints) == 3


def test_report_outputs_keep_no_literals_and_escape_sql(tmp_path):
    """No literal of any query reaches the HTML, JSON or CSV; SQL is escaped, the page is
    self-contained (no script, no external URL)."""
    runs = [
        execution("x", "etl", f"SELECT '</code><script>alert(1)</script>' FROM t WHERE "
                  f"email = '{SECRET}'", scanned=TB),
    ]  # fmt: skip
    report, rows = build_report(collected({"etl": runs}), Pricing(), no_tables)
    outputs = render(report, rows)
    written = write(outputs, tmp_path / "out")
    assert sorted(p.name for p in written) == ["queries.csv", "report.html", "report.json"]
    for name, content in outputs.items():
        text = content.decode()
        assert SECRET not in text and "<script" not in text, name
        assert (tmp_path / "out" / name).read_bytes() == content
    html = outputs["report.html"].decode()
    assert "src=" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html and "<svg" in html
    assert json.loads(outputs["report.json"])["schema"] == "jupyter-remote-dev/athena-report/v1"
    table = list(csv.DictReader(io.StringIO(outputs["queries.csv"].decode())))
    assert table[0]["id"] == "x" and float(table[0]["cost"]) == 5.0


def test_report_empty_week_renders():
    """A week without queries is a report with zeros, not an error."""
    report, rows = build_report(collected({"etl": []}), Pricing(), no_tables)
    assert report["totals"]["cost"] == 0 and rows == [] and report["top_queries"] == []
    assert "nothing to show" in render(report, rows)["report.html"].decode()


def test_report_skips_a_denied_workgroup_and_says_so():
    """A workgroup whose history is denied is left out and named in the report, not fatal."""
    athena, stub = stubbed("athena")
    sts, sts_stub = stubbed("sts")
    stub.add_response(
        "list_work_groups",
        {"WorkGroups": [{"Name": "etl"}, {"Name": "secret"}]},
        {"MaxResults": 50},
    )
    stub.add_response(
        "list_query_executions",
        {"QueryExecutionIds": ["e1"]},
        {"WorkGroup": "etl", "MaxResults": 50},
    )
    stub.add_response(
        "batch_get_query_execution",
        {"QueryExecutions": [execution("e1", "etl", scanned=TB)]},
        {"QueryExecutionIds": ["e1"]},
    )
    stub.add_client_error(
        "list_query_executions", "AccessDeniedException", expected_params={"WorkGroup": "secret",
                                                                         "MaxResults": 50}
    )  # fmt: skip
    stub.add_response("list_capacity_reservations", {"CapacityReservations": []}, {})
    sts_stub.add_response("get_caller_identity", {"Account": "123456789012"}, {})
    stub.add_response("list_tags_for_resource", {"Tags": []})
    with stub, sts_stub:
        report, _ = make_report(athena, sts, Week(2026, 48), Pricing())
    stub.assert_no_pending_responses()
    assert [w["name"] for w in report["workgroups"]] == ["etl"]
    assert report["skipped_workgroups"] == [
        {"workgroup": "secret", "error": "AccessDeniedException"}
    ]
    assert report["totals"]["cost"] == 5.0
    html = render(report, [])["report.html"].decode()
    assert "Workgroup secret could not be read (AccessDeniedException)" in html


def test_report_csv_cells_cannot_become_formulas():
    """A query text that starts like a spreadsheet formula is written with a leading quote."""
    runs = [execution("f", "etl", "=HYPERLINK(1)", scanned=0, state="FAILED")]
    report, rows = build_report(collected({"etl": runs}), Pricing(), no_tables)
    table = list(csv.DictReader(io.StringIO(render(report, rows)["queries.csv"].decode())))
    assert table[0]["sql"] == "'= hyperlink(?)" and table[0]["state"] == "FAILED"


@pytest.mark.parametrize(
    ("now", "notes"),
    [
        (W48 + timedelta(days=8), []),
        (W48 + timedelta(days=3), ["2026-W48 is not over yet"]),
        (W48 + timedelta(days=40), ["the comparison week (2026-W47) began earlier"]),
        (W48 + timedelta(days=60), ["this week (2026-W48)", "the comparison week (2026-W47)"]),
    ],
)
def test_report_says_when_history_is_incomplete(now, notes):
    """Athena keeps 45 days of query history: a week partly older than that, or not over yet,
    is reported with a note saying its figures are incomplete."""
    report, rows = build_report(collected({"etl": []}), Pricing(), no_tables, now=now)
    assert len(report["notes"]) == len(notes)
    for note, text in zip(report["notes"], notes, strict=True):
        assert text in note
        assert note in render(report, rows)["report.html"].decode()


def test_report_reruns_served_from_result_reuse_do_not_count():
    """Runs that scanned nothing (Athena reused an earlier result) are no re-run waste."""
    runs = [execution(f"r{i}", "etl", "SELECT a FROM t", scanned=0) for i in range(5)]
    runs.append(execution("first", "etl", "SELECT a FROM t", scanned=MB))
    report, _ = build_report(collected({"etl": runs}), Pricing(), no_tables)
    assert report["top_queries"][0]["identical_runs"] == 1 and report["hints"] == []

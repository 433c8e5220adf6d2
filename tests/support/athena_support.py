"""Helpers for the Athena report tests: clients on botocore's Stubber, executions as Athena
returns them, and a whole account's worth of stubbed calls for one report."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
from botocore.stub import ANY, Stubber

REGION = "us-east-1"
ACCOUNT = "123456789012"
#: Monday of 2026-W48.
W48 = datetime(2026, 11, 23, tzinfo=timezone.utc)


def client(service: str):
    return boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def stubbed(service: str) -> tuple[object, Stubber]:
    c = client(service)
    return c, Stubber(c)


def execution(
    qid: str,
    workgroup: str,
    sql: str = "SELECT 1",
    scanned: int | None = 0,
    state: str = "SUCCEEDED",
    kind: str = "DML",
    submitted: datetime = W48 + timedelta(days=1),
    database: str = "sales",
) -> dict:
    """One QueryExecution as BatchGetQueryExecution returns it."""
    stats = {"EngineExecutionTimeInMillis": 1200}
    if scanned is not None:
        stats["DataScannedInBytes"] = scanned
    return {
        "QueryExecutionId": qid,
        "Query": sql,
        "StatementType": kind,
        "WorkGroup": workgroup,
        "QueryExecutionContext": {"Catalog": "AwsDataCatalog", "Database": database},
        "Status": {"State": state, "SubmissionDateTime": submitted},
        "Statistics": stats,
    }


def stub_account(athena: Stubber, sts: Stubber, workgroups: dict[str, list[dict]], tables=None):
    """Queue the calls one report makes: one page per listing, details in chunks of 50, no
    capacity reservations, one tag per workgroup, then metadata answers for ``tables``
    (``[(table, {"Columns": [...], "PartitionKeys": [...]})]``, in the order they are asked)."""
    athena.add_response(
        "list_work_groups",
        {"WorkGroups": [{"Name": n, "State": "ENABLED"} for n in workgroups]},
        {"MaxResults": 50},
    )
    for name, runs in workgroups.items():
        ids = [r["QueryExecutionId"] for r in runs]
        athena.add_response(
            "list_query_executions",
            {"QueryExecutionIds": ids},
            {"WorkGroup": name, "MaxResults": 50},
        )
        for start in range(0, len(ids), 50):
            athena.add_response(
                "batch_get_query_execution",
                {"QueryExecutions": runs[start : start + 50], "UnprocessedQueryExecutionIds": []},
                {"QueryExecutionIds": ids[start : start + 50]},
            )
    athena.add_response("list_capacity_reservations", {"CapacityReservations": []}, {})
    sts.add_response("get_caller_identity", {"Account": ACCOUNT}, {})
    for name in workgroups:
        athena.add_response(
            "list_tags_for_resource",
            {"Tags": [{"Key": "team", "Value": f"team-{name}"}]},
            {"ResourceARN": f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/{name}"},
        )
    for table, meta in tables or []:
        athena.add_response(
            "get_table_metadata",
            {"TableMetadata": {"Name": table, **meta}},
            {"CatalogName": ANY, "DatabaseName": ANY, "TableName": table, "WorkGroup": ANY},
        )

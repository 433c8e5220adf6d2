"""Read what the report needs from the Athena API, with bounded paging and retries.

Calls made (the IAM actions the report's role needs): ``athena:ListWorkGroups``,
``athena:ListQueryExecutions``, ``athena:BatchGetQueryExecution``,
``athena:ListCapacityReservations``, ``athena:GetCapacityAssignmentConfiguration``,
``athena:ListTagsForResource``, ``athena:GetTableMetadata``, and ``sts:GetCallerIdentity`` (for the
workgroup ARNs that tags hang on). Athena keeps 45 days of query history, so a report can look back
that far and no further.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime

from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

#: BatchGetQueryExecution takes 1 to 50 query execution IDs.
BATCH_SIZE = 50
#: Page sizes: the maxima the API allows.
WORKGROUP_PAGE = 50
EXECUTION_PAGE = 50
#: Rounds of retrying the IDs BatchGetQueryExecution reports as unprocessed.
UNPROCESSED_ROUNDS = 5
#: Guard against a service that keeps returning a NextToken: no listing takes more pages.
MAX_PAGES = 100_000


class FetchError(Exception):
    """The Athena API did not give what the report needs; the message says what and why."""


def _pages(call: Callable[..., dict], what: str, **params) -> Iterator[dict]:
    """Every page of ``call`` following ``NextToken``; refuses a token that repeats."""
    token, seen = None, set()
    for _ in range(MAX_PAGES):
        page = call(**params, **({"NextToken": token} if token else {}))
        yield page
        token = page.get("NextToken")
        if not token:
            return
        if token in seen:
            raise FetchError(f"{what}: the service returned the same NextToken twice")
        seen.add(token)
    raise FetchError(f"{what}: more than {MAX_PAGES} pages")


def list_workgroups(athena) -> list[dict]:
    """Every workgroup summary (``Name``, ``State``, ...). botocore has no paginator for it."""
    return [
        group
        for page in _pages(athena.list_work_groups, "ListWorkGroups", MaxResults=WORKGROUP_PAGE)
        for group in page.get("WorkGroups", [])
    ]


def list_execution_ids(athena, workgroup: str) -> list[str]:
    """Every query execution ID Athena still holds for ``workgroup`` (the last 45 days)."""
    ids: list[str] = []
    for page in _pages(
        athena.list_query_executions,
        f"ListQueryExecutions({workgroup})",
        WorkGroup=workgroup,
        MaxResults=EXECUTION_PAGE,
    ):
        ids.extend(page.get("QueryExecutionIds", []))
    return list(dict.fromkeys(ids))


def get_executions(
    athena, ids: list[str], rounds: int = UNPROCESSED_ROUNDS, pause: float = 0.5
) -> tuple[list[dict], list[dict]]:
    """Details of ``ids`` in chunks of at most 50, retrying unprocessed IDs up to ``rounds`` times
    with a growing pause. Returns (executions, still unprocessed as ``{QueryExecutionId, ErrorCode,
    ErrorMessage}``)."""
    found: dict[str, dict] = {}
    pending = list(dict.fromkeys(ids))
    unprocessed: list[dict] = []
    for attempt in range(rounds + 1):
        unprocessed = []
        for start in range(0, len(pending), BATCH_SIZE):
            chunk = pending[start : start + BATCH_SIZE]
            reply = athena.batch_get_query_execution(QueryExecutionIds=chunk)
            for execution in reply.get("QueryExecutions", []):
                found[execution["QueryExecutionId"]] = execution
            unprocessed.extend(reply.get("UnprocessedQueryExecutionIds", []))
        pending = [u["QueryExecutionId"] for u in unprocessed if u["QueryExecutionId"] not in found]
        if not pending:
            return list(found.values()), []
        if attempt < rounds:
            log.info("retrying %d unprocessed query executions", len(pending))
            time.sleep(pause * 2**attempt)
    return list(found.values()), [u for u in unprocessed if u["QueryExecutionId"] in pending]


def executions_between(athena, workgroup: str, start: datetime, end: datetime, **retry):
    """The executions of ``workgroup`` submitted in ``[start, end)``, and any left unprocessed."""
    executions, unprocessed = get_executions(athena, list_execution_ids(athena, workgroup), **retry)
    kept = [e for e in executions if _submitted_in(e, start, end)]
    return kept, unprocessed


def _submitted_in(execution: dict, start: datetime, end: datetime) -> bool:
    submitted = execution.get("Status", {}).get("SubmissionDateTime")
    return submitted is not None and start <= submitted < end


def provisioned_workgroups(athena) -> dict[str, str]:
    """``{workgroup: capacity reservation}`` for every workgroup assigned to a reservation."""
    assigned: dict[str, str] = {}
    try:
        pages = list(_pages(athena.list_capacity_reservations, "ListCapacityReservations"))
    except ClientError as error:
        log.warning("capacity reservations not readable, all taken as on-demand: %s", error)
        return assigned
    for page in pages:
        for reservation in page.get("CapacityReservations", []):
            if reservation.get("Status") in ("CANCELLED", "FAILED"):
                continue
            name = reservation["Name"]
            config = athena.get_capacity_assignment_configuration(CapacityReservationName=name)
            for assignment in config["CapacityAssignmentConfiguration"].get(
                "CapacityAssignments", []
            ):
                for workgroup in assignment.get("WorkGroupNames", []):
                    assigned[workgroup] = name
    return assigned


def workgroup_tags(athena, sts, workgroups: list[str]) -> dict[str, dict[str, str]]:
    """``{workgroup: {tag: value}}``; empty for all when the caller cannot read tags."""
    try:
        account = sts.get_caller_identity()["Account"]
    except ClientError as error:
        log.warning("no account id, workgroup tags skipped: %s", error)
        return {}
    region = athena.meta.region_name
    partition = athena.meta.partition
    tags: dict[str, dict[str, str]] = {}
    for name in workgroups:
        arn = f"arn:{partition}:athena:{region}:{account}:workgroup/{name}"
        try:
            pages = _pages(athena.list_tags_for_resource, "ListTagsForResource", ResourceARN=arn)
            tags[name] = {t["Key"]: t["Value"] for page in pages for t in page.get("Tags", [])}
        except ClientError as error:
            log.warning("tags of workgroup %s not readable: %s", name, error)
    return tags


def table_metadata(athena, catalog: str, database: str, table: str, workgroup: str) -> dict | None:
    """``{"columns": n, "partition_keys": [...]}`` of one table, None when Athena will not say."""
    try:
        meta = athena.get_table_metadata(
            CatalogName=catalog, DatabaseName=database, TableName=table, WorkGroup=workgroup
        )["TableMetadata"]
    except ClientError as error:
        log.info("no metadata for %s.%s.%s: %s", catalog, database, table, error)
        return None
    return {
        "columns": len(meta.get("Columns", [])),
        "partition_keys": [key["Name"].lower() for key in meta.get("PartitionKeys", [])],
    }

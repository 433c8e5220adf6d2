"""Reading Athena: paging by NextToken, chunks of at most 50, bounded retries of unprocessed IDs,
capacity reservations and tags; every call checked against botocore's Stubber (moto's Athena has
no BatchGetQueryExecution)."""

from datetime import timedelta

import pytest

from jupyter_remote_dev.reports.athena import fetch

from ..support.athena_support import ACCOUNT, REGION, W48, execution, stubbed


def test_fetch_list_workgroups_follows_next_token():
    """ListWorkGroups has no botocore paginator: every page is read until NextToken is absent.

    AWS API reference, ListWorkGroups: "NextToken ... To obtain the next set of pages, pass in the
    NextToken from the response object of the previous page call"; MaxResults 1 to 50.
    """
    athena, stub = stubbed("athena")
    stub.add_response(
        "list_work_groups",
        {"WorkGroups": [{"Name": "a"}, {"Name": "b"}], "NextToken": "t1"},
        {"MaxResults": 50},
    )
    stub.add_response(
        "list_work_groups", {"WorkGroups": [{"Name": "c"}]}, {"MaxResults": 50, "NextToken": "t1"}
    )
    with stub:
        assert [g["Name"] for g in fetch.list_workgroups(athena)] == ["a", "b", "c"]
    stub.assert_no_pending_responses()


def test_fetch_list_workgroups_refuses_a_repeating_token():
    """A service that hands back the same NextToken forever is an error, not an endless loop."""
    athena, stub = stubbed("athena")
    for token in (None, "same"):
        stub.add_response(
            "list_work_groups",
            {"WorkGroups": [{"Name": "a"}], "NextToken": "same"},
            {"MaxResults": 50, **({"NextToken": token} if token else {})},
        )
    with stub, pytest.raises(fetch.FetchError, match="same NextToken twice"):
        fetch.list_workgroups(athena)


def test_fetch_execution_ids_paged_per_workgroup():
    """ListQueryExecutions is paged and scoped to the workgroup (API reference,
    ListQueryExecutions: "Provides a list of available query execution IDs for the queries in the
    specified workgroup. Athena keeps a query history for 45 days"; MaxResults 0 to 50)."""
    athena, stub = stubbed("athena")
    pages = [[f"q{i}" for i in range(50)], [f"q{i}" for i in range(50, 75)]]
    stub.add_response(
        "list_query_executions",
        {"QueryExecutionIds": pages[0], "NextToken": "n"},
        {"WorkGroup": "etl", "MaxResults": 50},
    )
    stub.add_response(
        "list_query_executions",
        {"QueryExecutionIds": pages[1]},
        {"WorkGroup": "etl", "MaxResults": 50, "NextToken": "n"},
    )
    with stub:
        assert fetch.list_execution_ids(athena, "etl") == pages[0] + pages[1]


def test_fetch_details_in_chunks_of_at_most_50():
    """BatchGetQueryExecution takes 1 to 50 IDs (API reference, BatchGetQueryExecution:
    "Array Members: Minimum number of 1 item. Maximum number of 50 items"): 120 IDs are three
    calls of 50, 50 and 20, in order."""
    athena, stub = stubbed("athena")
    ids = [f"q{i:03d}" for i in range(120)]
    for start in (0, 50, 100):
        chunk = ids[start : start + 50]
        stub.add_response(
            "batch_get_query_execution",
            {"QueryExecutions": [execution(q, "etl") for q in chunk]},
            {"QueryExecutionIds": chunk},
        )
    with stub:
        found, unprocessed = fetch.get_executions(athena, ids, pause=0)
    stub.assert_no_pending_responses()
    assert sorted(e["QueryExecutionId"] for e in found) == ids and unprocessed == []


def test_fetch_retries_unprocessed_ids_until_served():
    """IDs in UnprocessedQueryExecutionIds are asked again, alone, until Athena serves them."""
    athena, stub = stubbed("athena")
    stub.add_response(
        "batch_get_query_execution",
        {
            "QueryExecutions": [execution("a", "etl")],
            "UnprocessedQueryExecutionIds": [
                {"QueryExecutionId": "b", "ErrorCode": "ThrottlingException"},
                {"QueryExecutionId": "c", "ErrorCode": "ThrottlingException"},
            ],
        },
        {"QueryExecutionIds": ["a", "b", "c"]},
    )
    stub.add_response(
        "batch_get_query_execution",
        {
            "QueryExecutions": [execution("b", "etl")],
            "UnprocessedQueryExecutionIds": [{"QueryExecutionId": "c"}],
        },
        {"QueryExecutionIds": ["b", "c"]},
    )
    stub.add_response(
        "batch_get_query_execution",
        {"QueryExecutions": [execution("c", "etl")]},
        {"QueryExecutionIds": ["c"]},
    )
    with stub:
        found, unprocessed = fetch.get_executions(athena, ["a", "b", "c"], pause=0)
    stub.assert_no_pending_responses()
    assert sorted(e["QueryExecutionId"] for e in found) == ["a", "b", "c"] and unprocessed == []


def test_fetch_gives_up_on_unprocessed_after_bounded_rounds():
    """An ID Athena never serves is retried a bounded number of times, then reported, not
    looped on forever."""
    athena, stub = stubbed("athena")
    for _ in range(3):  # the first call and two retry rounds
        stub.add_response(
            "batch_get_query_execution",
            {"QueryExecutions": [], "UnprocessedQueryExecutionIds": [
                {"QueryExecutionId": "gone", "ErrorCode": "InternalError"}]},
            {"QueryExecutionIds": ["gone"]},
        )  # fmt: skip
    with stub:
        found, unprocessed = fetch.get_executions(athena, ["gone"], rounds=2, pause=0)
    stub.assert_no_pending_responses()
    assert found == [] and unprocessed[0]["QueryExecutionId"] == "gone"


def test_fetch_keeps_executions_submitted_in_the_window():
    """Only executions submitted in [start, end) are kept: Monday 00:00 in, next Monday out; one
    without a submission time is not in any window."""
    athena, stub = stubbed("athena")
    runs = [
        execution("before", "etl", submitted=W48 - timedelta(seconds=1)),
        execution("first", "etl", submitted=W48),
        execution("last", "etl", submitted=W48 + timedelta(days=7, microseconds=-1)),
        execution("after", "etl", submitted=W48 + timedelta(days=7)),
        {**execution("undated", "etl"), "Status": {"State": "QUEUED"}},
    ]
    ids = [r["QueryExecutionId"] for r in runs]
    stub.add_response(
        "list_query_executions", {"QueryExecutionIds": ids}, {"WorkGroup": "etl", "MaxResults": 50}
    )
    stub.add_response(
        "batch_get_query_execution", {"QueryExecutions": runs}, {"QueryExecutionIds": ids}
    )
    with stub:
        kept, _ = fetch.executions_between(athena, "etl", W48, W48 + timedelta(days=7))
    assert [e["QueryExecutionId"] for e in kept] == ["first", "last"]


def test_fetch_provisioned_workgroups_from_capacity_assignments():
    """Workgroups assigned to an active capacity reservation are found through
    GetCapacityAssignmentConfiguration (API reference, CapacityAssignmentConfiguration: "Assigns
    Athena workgroups (and hence their queries) to capacity reservations"); a cancelled
    reservation's assignments no longer count."""
    athena, stub = stubbed("athena")
    stub.add_response(
        "list_capacity_reservations",
        {"CapacityReservations": [
            {"Name": "bi", "Status": "ACTIVE", "TargetDpus": 24, "AllocatedDpus": 24,
             "CreationTime": W48},
            {"Name": "old", "Status": "CANCELLED", "TargetDpus": 24, "AllocatedDpus": 0,
             "CreationTime": W48},
        ]},
        {},
    )  # fmt: skip
    stub.add_response(
        "get_capacity_assignment_configuration",
        {"CapacityAssignmentConfiguration": {
            "CapacityReservationName": "bi",
            "CapacityAssignments": [{"WorkGroupNames": ["dashboards", "finance"]}]}},
        {"CapacityReservationName": "bi"},
    )  # fmt: skip
    with stub:
        assert fetch.provisioned_workgroups(athena) == {"dashboards": "bi", "finance": "bi"}
    stub.assert_no_pending_responses()


def test_fetch_workgroup_tags_by_arn_and_tolerates_denied():
    """Tags are read by the workgroup's ARN; a workgroup whose tags are denied just has none."""
    athena, stub = stubbed("athena")
    sts, sts_stub = stubbed("sts")
    sts_stub.add_response("get_caller_identity", {"Account": ACCOUNT}, {})
    stub.add_response(
        "list_tags_for_resource",
        {"Tags": [{"Key": "owner", "Value": "alice"}]},
        {"ResourceARN": f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/etl"},
    )
    stub.add_client_error("list_tags_for_resource", "AccessDeniedException")
    with stub, sts_stub:
        assert fetch.workgroup_tags(athena, sts, ["etl", "secret"]) == {"etl": {"owner": "alice"}}

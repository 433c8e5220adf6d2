"""The Kubecost/OpenCost backends against loopback stand-ins serving contracts.md examples."""

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jupyter_remote_dev.cost import CostService, CostServiceConfig
from jupyter_remote_dev.cost.backend import AllocationBackend
from jupyter_remote_dev.cost.model import number, summarise, user_items, window_dates
from jupyter_remote_dev.errors import RemoteDevError

from ..support.cost_standin import CostStandIn, load_example

LABEL = "hub.jupyter.org/username"
# Example B, alice: day 1 and day 2 (contracts.md 1.11).
ALICE_DAYS = (0.5866, 0.39106)
ALICE_CPU, ALICE_RAM = 0.37933 + 0.25289, 0.20338 + 0.13558
# (0.3*0.37933 + 0.375*0.20338 + 0.175*0.25289 + 0.375*0.13558) / (cpu + ram)
ALICE_EFFICIENCY = 0.29363


@pytest.fixture(params=["kubecost", "opencost"])
def standin(request):
    """A running stand-in of each product, stopped afterwards."""
    server = CostStandIn(dialect=request.param).start()
    yield server
    server.stop()


def make_service(standin, user="alice", timeout=5.0, url=None):
    """A CostService for ``user`` reading the stand-in."""
    settings = CostServiceConfig(
        backend=standin.dialect,
        url=url or standin.base_url,
        label=LABEL,
        user=user,
        timeout=timeout,
        ttl=60,
    )
    return CostService(settings)


def today():
    return datetime.now(timezone.utc).date()


async def test_report_sums_daily_sets_of_example_b(standin):
    """Total, breakdown, efficiency and daily steps match example B's numbers for alice."""
    report = await make_service(standin).report("7d")
    assert report["total"] == pytest.approx(sum(ALICE_DAYS), abs=1e-5)
    assert report["breakdown"]["cpu"] == pytest.approx(ALICE_CPU, abs=1e-5)
    assert report["breakdown"]["ram"] == pytest.approx(ALICE_RAM, abs=1e-5)
    assert report["breakdown"]["gpu"] == 0
    assert report["efficiency"] == pytest.approx(ALICE_EFFICIENCY, abs=1e-5)
    assert [d["date"] for d in report["daily"]] == [
        (today() - timedelta(days=n)).isoformat() for n in range(6, -1, -1)
    ]
    assert [d["total"] for d in report["daily"][-2:]] == list(ALICE_DAYS)
    assert report["source"] == standin.dialect and report["user"] == "alice"
    assert sum(d["total"] for d in report["daily"]) == pytest.approx(report["total"])


async def test_report_query_uses_label_filter_and_daily_steps(standin):
    """One request: aggregate by the sanitized label, v2 filter on the user, daily sets, no idle."""
    await make_service(standin).report("30d")
    assert standin.calls == 1
    params = standin.requests[0]
    assert params["window"] == "30d"
    assert params["aggregate"] == "label:hub_jupyter_org_username"
    assert params["filter"] == 'label[hub_jupyter_org_username]:"alice"'
    assert (params["accumulate"], params["step"]) == ("false", "1d")
    idle = "idle" if standin.dialect == "kubecost" else "includeIdle"
    assert params[idle] == "false"


def test_efficiency_is_unknown_where_nothing_was_requested():
    """OpenCost calls usage without a request 100 % efficient; a server that requested nothing
    (the local meter's) has no efficiency to show, however busy or idle it was."""
    day = {"start": "2026-11-30T08:00:00Z", "cpuCost": 0.2, "ramCost": 0.1, "totalCost": 0.3}
    unrequested = {**day, "cpuCoreRequestAverage": 0, "ramByteRequestAverage": 0,
                   "gpuRequestAverage": 0, "cpuEfficiency": 1.0, "ramEfficiency": 1.0}  # fmt: skip
    requested = {**day, "cpuCoreRequestAverage": 2, "ramByteRequestAverage": 0,
                 "cpuEfficiency": 0.25, "ramEfficiency": 1.0}  # fmt: skip
    on = date(2026, 11, 30)
    assert summarise([{"alice": unrequested}], LABEL, "alice", "today", on)["efficiency"] is None
    mixed = summarise([{"alice": unrequested}, {"alice": requested}], LABEL, "alice", "today", on)
    assert mixed["efficiency"] == pytest.approx(0.5)  # (0.25*0.2 + 1*0.1) / 0.3: the request only
    assert mixed["total"] == pytest.approx(0.6)


@pytest.mark.parametrize("include_idle", [True, False])
async def test_idle_only_where_asked_for(standin, include_idle):
    """The cluster view asks for idle (idle=true / includeIdle=true) and gets __idle__; the
    sidebar's query says false explicitly (Kubecost's default is true) and gets none."""
    backend = AllocationBackend(
        standin.dialect, standin.base_url, LABEL, None, 5, include_idle=include_idle
    )
    sets = await backend.fetch_sets("7d")
    idle = "idle" if standin.dialect == "kubecost" else "includeIdle"
    assert standin.requests[0][idle] == str(include_idle).lower()
    idle_keys = [key for allocation_set in sets for key in allocation_set if "__idle__" in key]
    assert len(idle_keys) == (2 if include_idle else 0)  # one per daily set of example B


@pytest.mark.parametrize("key_form", ["bare", "prefixed"])
async def test_report_accepts_both_key_forms(standin, key_form):
    """Keys `alice` and `hub_jupyter_org_username=alice` are the same user."""
    standin.key_form = key_form
    report = await make_service(standin).report("7d")
    assert report["total"] == pytest.approx(sum(ALICE_DAYS), abs=1e-5)


@pytest.mark.parametrize("key_form", ["bare", "prefixed"])
async def test_report_filters_by_key_when_backend_ignores_filter(standin, key_form):
    """A version that ignores filter= and idle=false still yields only alice's spend."""
    standin.honours_filter = standin.honours_idle = False
    standin.key_form = key_form
    report = await make_service(standin).report("7d")
    assert report["total"] == pytest.approx(sum(ALICE_DAYS), abs=1e-5)
    assert report["breakdown"]["gpu"] == 0  # bob's and the idle GPU are not alice's


async def test_report_of_example_a_accumulated_set(standin):
    """Example A (one set with bob, __unallocated__ and __idle__) gives alice's totals only."""
    standin.example = "a"
    standin.honours_filter = standin.honours_idle = False
    report = await make_service(standin).report("today")
    alice = load_example("a")["data"][0]["alice"]
    assert report["total"] == alice["totalCost"]
    assert report["breakdown"]["pv"] == alice["pvCost"]
    assert report["efficiency"] == pytest.approx(alice["totalEfficiency"], abs=1e-5)
    assert report["daily"] == [{"date": today().isoformat(), "total": alice["totalCost"]}]


async def test_report_tolerates_nulls_and_unknown_fields(standin):
    """Null numbers count as 0, a null totalCost is the sum of parts, extra fields are ignored."""
    standin.mode = "nulls"
    report = await make_service(standin).report("7d")
    assert report["total"] == pytest.approx(sum(ALICE_DAYS), abs=1e-5)
    assert report["breakdown"]["gpu"] == 0


async def test_report_of_no_allocations_is_zero(standin):
    """`data: [{}]` (no matching allocations) is a zero report with no efficiency."""
    standin.mode = "empty"
    report = await make_service(standin).report("week")
    assert report["total"] == 0 and report["efficiency"] is None
    assert all(day["total"] == 0 for day in report["daily"])
    assert report["daily"][-1]["date"] == today().isoformat()


async def test_report_of_another_user_is_zero(standin):
    """A user without allocations gets zero, not someone else's numbers."""
    standin.honours_filter = False
    report = await make_service(standin, user="carol").report("7d")
    assert report["total"] == 0


@pytest.mark.parametrize(
    ("mode", "status", "reason"),
    [
        ("plain400", 502, "HTTP 400: Invalid 'window' parameter: illegal window: 7d"),
        ("json500", 502, "HTTP 500: Error: prom down"),
        ("code200", 502, "reported error 500: ETL not ready"),
        ("not_json", 502, "not JSON"),
    ],
)
async def test_report_error_shapes_become_502(standin, mode, status, reason):
    """Each error shape of contracts.md 1.9 raises an error naming the backend's reason."""
    standin.mode = mode
    with pytest.raises(RemoteDevError) as failure:
        await make_service(standin).report("7d")
    assert failure.value.status == status
    assert reason in failure.value.message
    assert standin.dialect in failure.value.message


async def test_report_slow_backend_is_504_after_timeout(standin):
    """A backend slower than the timeout gives 504 after that timeout, not later."""
    standin.delay = 3
    started = datetime.now()
    with pytest.raises(RemoteDevError) as failure:
        await make_service(standin, timeout=0.3).report("7d")
    assert failure.value.status == 504
    assert "did not answer within 0.3 s" in failure.value.message
    assert (datetime.now() - started).total_seconds() < 2


async def test_report_unreachable_backend_is_502_without_credentials(standin):
    """A backend that is down gives 502; credentials in the URL never reach the message."""
    url = standin.base_url.replace("http://", "http://admin:s3cret@")
    standin.stop()
    with pytest.raises(RemoteDevError) as failure:
        await make_service(standin, url=url).report("7d")
    assert failure.value.status == 502
    assert "unreachable" in failure.value.message
    assert "s3cret" not in failure.value.message and "admin" not in failure.value.message


async def test_report_retries_without_filter_when_it_is_refused(standin):
    """A 400 refusing filter= is retried once without it, and the filter is not sent again."""
    standin.mode = "filter400"
    service = make_service(standin)
    report = await service.report("7d")
    assert report["total"] == pytest.approx(sum(ALICE_DAYS), abs=1e-5)
    assert ["filter" in params for params in standin.requests] == [True, False]
    await service.report("30d")
    assert "filter" not in standin.requests[-1]


async def test_report_bad_window_is_400_without_upstream_call(standin):
    """An unsupported window is refused before the backend is asked."""
    with pytest.raises(RemoteDevError) as failure:
        await make_service(standin).report("7d offset 7d")
    assert failure.value.status == 400 and "today, 7d, 30d" in failure.value.message
    assert standin.calls == 0


def test_settings_problem_names_what_is_missing():
    """Each missing or unsafe setting is named; complete settings have no problem."""
    good = CostServiceConfig("opencost", "http://opencost:9003", "owner", "alice")
    assert good.problem() is None
    assert "JUPYTER_REMOTE_DEV_COST_BACKEND" in CostServiceConfig("", "u", "owner", "a").problem()
    assert "unknown cost backend" in CostServiceConfig("prometheus", "u", "owner", "a").problem()
    assert (
        "JUPYTER_REMOTE_DEV_COST_URL" in CostServiceConfig("kubecost", "", "owner", "a").problem()
    )
    assert (
        "JUPYTER_REMOTE_DEV_COST_USER" in CostServiceConfig("kubecost", "u", "owner", "").problem()
    )
    assert "not a valid" in CostServiceConfig("kubecost", "u", "owner", 'a"+b').problem()
    assert "not a valid" in CostServiceConfig("kubecost", "u", "owner", "alice\n").problem()
    assert "not a valid" in CostServiceConfig("kubecost", "u", "owner", "a" * 64).problem()


@pytest.mark.parametrize(
    ("window", "first", "count"),
    [
        ("today", date(2026, 11, 25), 1),
        ("7d", date(2026, 11, 19), 7),
        ("30d", date(2026, 10, 27), 30),
        ("week", date(2026, 11, 22), 4),  # Sunday to Wednesday
        ("lastweek", date(2026, 11, 15), 7),
        ("month", date(2026, 11, 1), 25),
    ],
)
def test_window_dates_frame_each_window(window, first, count):
    """Each window's days, for Wednesday 2026-11-25 (UTC)."""
    days = window_dates(window, date(2026, 11, 25))
    assert (days[0], len(days)) == (first, count)
    assert days == sorted(days) and len(set(days)) == count


def test_model_numbers_and_keys_are_lenient():
    """null/NaN/bools/strings count as 0; multi-part and prefixed keys match, idle never does."""
    assert [number(v) for v in (None, float("nan"), float("inf"), True, "3", 2)] == [
        0,
        0,
        0,
        0,
        0,
        2,
    ]
    sets = {"c1/alice": {"totalCost": 1}, "owner=alice": {"totalCost": 2}, "alice__idle__": {}}
    assert [i["totalCost"] for i in user_items(sets, "owner", "alice")] == [1, 2]
    assert user_items(["not", "a", "set"], "owner", "alice") == []
    report = summarise([sets, None], "owner", "alice", "today", date(2026, 1, 1))
    assert report["total"] == 3 and report["daily"] == [{"date": "2026-01-01", "total": 0}]


amounts = st.one_of(st.none(), st.floats(0, 1e4, allow_nan=False), st.just(float("nan")))


@given(
    days=st.lists(
        st.tuples(
            st.integers(0, 6),  # day offset inside a 7d window
            st.sampled_from(["alice", "owner=alice", "bob", "__idle__", "c1/alice"]),
            amounts,  # cpuCost
            amounts,  # totalCost
        ),
        max_size=30,
    )
)
def test_model_total_is_alices_daily_sum(days):
    """Whatever the mix of users, key forms and nulls, total = sum of alice's daily totals."""
    today = date(2026, 11, 25)
    sets, expected = [], 0.0
    for offset, key, cpu, total in days:
        start = f"{today - timedelta(days=offset)}T00:00:00Z"
        item = {"window": {"start": start}, "cpuCost": cpu, "totalCost": total}
        sets.append({key: item})
        if key.rsplit("/", 1)[-1] in ("alice", "owner=alice"):
            expected += number(total) if number(total) or total == 0 else number(cpu)
    report = summarise(sets, "owner", "alice", "7d", today)
    assert report["total"] == pytest.approx(expected, abs=1e-4)
    assert sum(d["total"] for d in report["daily"]) == pytest.approx(report["total"], abs=1e-4)
    assert len(report["daily"]) == 7

"""The local spend meter: a real process tree metered with psutil, its sqlite history, and its
OpenCost allocation API (contracts.md section 1) read by the server's own OpenCost backend.

The hub's part (which PID is whose server, whose token is whose) is played here by the list of
servers and a token table; tests/e2e/test_spend_e2e.py runs the same service under a real
JupyterHub.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from jupyter_remote_dev.cost import CostBackendError, CostService, CostServiceConfig
from jupyter_remote_dev.cost.backend import AllocationBackend
from jupyter_remote_dev.services.spend_meter.allocation import Ledger
from jupyter_remote_dev.services.spend_meter.meter import Meter, Server, tree_usage
from jupyter_remote_dev.services.spend_meter.pricing import GIB, Rates
from jupyter_remote_dev.services.spend_meter.store import Baseline, Usage, UsageStore
from jupyter_remote_dev.services.spend_meter.web import make_app
from jupyter_remote_dev.services.spend_view.access import SPEND_SCOPE

from .spend_support import BurningTree

PREFIX = "/services/spend-meter/"
TOKENS = {
    "tok-alice": {"kind": "user", "name": "alice"},
    "tok-bob": {"kind": "user", "name": "bob"},
    "tok-service": {"kind": "service", "name": "announcer"},
    # the spend view's own token: a service holding the spend scope
    "tok-view": {"kind": "service", "name": "remote-dev-spend", "scopes": [SPEND_SCOPE]},
    "tok-narrow-view": {"kind": "service", "name": "v", "scopes": [f"{SPEND_SCOPE}!group=ml"]},
    # a user with the spend scope (the demo admin) still reads only their own servers here
    "tok-admin": {"kind": "user", "name": "admin", "scopes": [SPEND_SCOPE]},
}
ALICE = {"owner": "alice", "team": "data-science"}
BOB = {"owner": "bob", "team": "ml"}


async def identify(token):
    return TOKENS.get(token)


@pytest.fixture
def tree():
    burning = BurningTree()
    yield burning
    burning.stop()


@pytest.fixture
def store(tmp_path):
    db = UsageStore(tmp_path / "state" / "spend.sqlite")
    yield db
    db.close()


def alice_server(pid: int) -> Server:
    return Server("alice", "", pid, time.time() - 5, ALICE, ALICE)


class Service:
    """The service's application on a free loopback port of this test's event loop."""

    def __init__(self, store, rates=Rates()):
        self.ledger = Ledger(store, rates, node="test-node")
        sock, port = bind_unused_port()
        self.server = HTTPServer(make_app(PREFIX, self.ledger, identify))
        self.server.add_sockets([sock])
        self.base = f"http://127.0.0.1:{port}{PREFIX.rstrip('/')}"

    async def get(self, token="tok-alice", path="allocation", **params) -> httpx.Response:
        headers = {"Authorization": f"token {token}"} if token else {}
        async with httpx.AsyncClient() as client:
            return await client.get(f"{self.base}/{path}", params=params, headers=headers)

    async def sets(self, token="tok-alice", **params) -> list[dict]:
        response = await self.get(token, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["code"], body["status"]) == (200, "success")
        return body["data"]


def test_tree_usage_counts_live_and_reaped_descendants(tree):
    """CPU burnt by a reaped child and by a live grandchild both show in the tree's total."""
    before = tree_usage(tree.pid)
    tree.burn("reaped", 0.4)
    tree.burn("live", 0.4)
    after = tree_usage(tree.pid)
    assert after.created == before.created
    assert after.cpu_seconds - before.cpu_seconds >= 0.75  # /proc counts in 10 ms ticks
    assert after.rss > before.rss  # the live child's memory joined the tree
    assert tree_usage(tree.pid, started=time.time() - 2 * 3600) is None  # a reused PID


def test_meter_records_cpu_and_memory_between_samples(tree, store):
    """The second sample records the CPU spent since the first and memory x time."""
    meter = Meter(store)
    meter.sample([alice_server(tree.pid)], time.time())
    first = sum(r.cpu_core_seconds for r in store.totals(0, time.time() + 60))
    tree.burn("reaped", 0.5)
    meter.sample([alice_server(tree.pid)], time.time())
    rows = store.totals(0, time.time() + 60, "alice")
    assert sum(r.cpu_core_seconds for r in rows) - first >= 0.45
    assert sum(r.ram_byte_seconds for r in rows) > 0
    assert {r.server for r in rows} == {""} and rows[0].labels == ALICE
    assert store.totals(0, time.time() + 60, "bob") == []


def test_history_and_baseline_survive_a_restart(tree, tmp_path):
    """A new meter on the same file keeps the history and does not count old CPU twice."""
    path = tmp_path / "spend.sqlite"
    store = UsageStore(path)
    Meter(store).sample([alice_server(tree.pid)], time.time())
    tree.burn("reaped", 0.5)
    Meter(store).sample([alice_server(tree.pid)], time.time())
    before = sum(r.cpu_core_seconds for r in store.totals(0, time.time() + 60))
    store.close()

    reopened = UsageStore(path)
    assert sum(r.cpu_core_seconds for r in reopened.totals(0, time.time() + 60)) == before
    Meter(reopened).sample([alice_server(tree.pid)], time.time())  # nothing burnt meanwhile
    after = sum(r.cpu_core_seconds for r in reopened.totals(0, time.time() + 60))
    assert before >= 0.45 and after - before < 0.2
    reopened.close()
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_stopped_server_is_forgotten_and_a_new_process_counted_from_its_start(tree, store):
    """A different process under the same server name starts a new baseline."""
    meter = Meter(store)
    meter.sample([alice_server(tree.pid)], time.time())
    meter.sample([], time.time())
    assert store.baselines() == {}
    other = BurningTree()
    try:
        other.burn("reaped", 0.3)
        before = sum(r.cpu_core_seconds for r in store.totals(0, time.time() + 60))
        meter.sample([alice_server(other.pid)], time.time())
        after = sum(r.cpu_core_seconds for r in store.totals(0, time.time() + 60))
        assert after - before >= 0.25
    finally:
        other.stop()


async def test_allocation_api_shape_and_prices(tree, store):
    """An accumulated set keyed by the user label, fields as OpenCost's, priced at its rates."""
    meter = Meter(store)
    meter.sample([alice_server(tree.pid)], time.time())
    tree.burn("reaped", 0.6)
    meter.sample([alice_server(tree.pid)], time.time())
    service = Service(store)
    (only,) = await service.sets(window="today", aggregate="label:owner", accumulate="true")
    alice = only["alice"]
    rates = Rates()
    assert alice["name"] == "alice"
    assert alice["cpuCoreHours"] * 3600 >= 0.55
    assert alice["cpuCost"] == pytest.approx(alice["cpuCoreHours"] * rates.cpu_core_hour, abs=2e-5)
    assert alice["ramCost"] == pytest.approx(
        alice["ramByteHours"] / GIB * rates.ram_gib_hour, abs=2e-5
    )
    assert alice["totalCost"] == pytest.approx(alice["cpuCost"] + alice["ramCost"], abs=2e-5)
    assert alice["totalCost"] > 0 and alice["cpuEfficiency"] == 1.0
    today = datetime.now(timezone.utc).strftime("%Y-%m-%dT00:00:00Z")
    assert alice["window"]["start"] == today
    assert alice["start"] >= today and alice["minutes"] > 0
    assert alice["properties"]["namespace"] == "jupyterhub"
    assert alice["properties"]["pod"] == "jupyter-alice"
    for field in ("gpuCost", "pvCost", "networkCost", "sharedCost", "externalCost"):
        assert alice[field] == 0.0
    assert (await service.get(path="allocation/compute", window="today")).status_code == 200


def _seed(store, days_ago: float, user="alice", labels=ALICE, cpu=3600.0, ram=GIB * 3600):
    """One hour of recorded use ``days_ago`` days back (as the meter records it)."""
    start = time.time() - days_ago * 86400
    meta = {"labels": labels, "annotations": labels}
    store.record([Usage(user, "", meta, (start, start + 3600), cpu, ram)])


async def test_windows_steps_and_accumulate(store):
    """Daily sets over 7d, keywords, RFC3339 and unix pairs, accumulate by day."""
    _seed(store, 3)
    _seed(store, 0.05)
    service = Service(store)
    daily = await service.sets(window="7d", aggregate="label:owner", step="1d")
    assert len(daily) == 7
    assert [bool(s) for s in daily].count(True) in (2, 3)  # an hour may straddle midnight
    expected = Rates().cpu_core_hour + Rates().ram_gib_hour
    assert sum(s["alice"]["totalCost"] for s in daily if s) == pytest.approx(2 * expected, 1e-3)
    days = await service.sets(window="7d", aggregate="label:owner", accumulate="day")
    assert len(days) == 7 and [bool(s) for s in days] == [bool(s) for s in daily]
    seeded = datetime.now(timezone.utc) - timedelta(days=3)
    (last_month,) = await service.sets(window="lastmonth", accumulate="true")
    assert bool(last_month) == (seeded.month != datetime.now(timezone.utc).month)
    end = datetime.now(timezone.utc)
    start = end - timedelta(days=4)
    pair = f"{start:%Y-%m-%dT%H:%M:%SZ},{end:%Y-%m-%dT%H:%M:%SZ}"
    (accumulated,) = await service.sets(window=pair, aggregate="label:owner", accumulate="true")
    assert accumulated["alice"]["totalCost"] == pytest.approx(2 * expected, 1e-3)
    unix = f"{int(start.timestamp()) + 86400 * 2},{int(end.timestamp())}"
    (recent,) = await service.sets(window=unix, aggregate="label:owner", accumulate="true")
    assert recent["alice"]["totalCost"] == pytest.approx(expected, 1e-3)
    hourly = await service.sets(window="today", step="1h", aggregate="label:owner")
    assert len(hourly) == 24


async def test_aggregation_and_filter_are_within_the_callers_own_servers(store):
    """Bob's figures never reach Alice's token, whatever she aggregates or filters by."""
    _seed(store, 0.05)
    _seed(store, 0.05, user="bob", labels=BOB, cpu=7200.0)
    service = Service(store)
    (by_team,) = await service.sets(window="1d", aggregate="label:team", accumulate="true")
    assert list(by_team) == ["data-science"]
    (mine,) = await service.sets(window="1d", filter='label[owner]:"bob"', accumulate="true")
    assert mine == {}
    (bobs,) = await service.sets("tok-bob", window="1d", aggregate="label:owner", accumulate="1d")
    assert list(bobs) == ["bob"]
    (multi,) = await service.sets(window="1d", aggregate="namespace,label:owner", accumulate="true")
    assert list(multi) == ["jupyterhub/alice"]
    (missing,) = await service.sets(window="1d", aggregate="label:department", accumulate="true")
    assert list(missing) == ["__unallocated__"]
    (default,) = await service.sets(window="1d", accumulate="true")
    assert list(default) == ["local/test-node/jupyterhub/jupyter-alice/notebook"]
    matches = await service.sets(window="1d", filter='label[team]:"data-science"+pod<~:"jupyter-"',
                                 aggregate="label:owner", accumulate="true")  # fmt: skip
    assert list(matches[0]) == ["alice"]
    negated = await service.sets(window="1d", filter='label[team]!:"data-science"',
                                 accumulate="true")  # fmt: skip
    assert negated == [{}]


async def test_the_spend_views_token_reads_every_user_a_users_token_only_their_own(store):
    """The spend view's service token (with the spend scope) sees Alice and Bob; a user's token,
    even one holding the spend scope, sees only that user's servers."""
    _seed(store, 0.05)
    _seed(store, 0.05, user="bob", labels=BOB, cpu=7200.0)
    service = Service(store)
    params = {"window": "1d", "aggregate": "label:owner,label:team", "accumulate": "true"}
    (everyone,) = await service.sets("tok-view", **params)
    assert sorted(everyone) == ["alice/data-science", "bob/ml"]
    (alices,) = await service.sets("tok-alice", **params)
    assert list(alices) == ["alice/data-science"]
    (admins,) = await service.sets("tok-admin", **params)
    assert admins == {}
    refused = await service.get("tok-narrow-view", **params)
    assert refused.status_code == 403 and refused.json()["data"] is None


async def test_idle_is_never_invented(store):
    """Asked with includeIdle=true the meter answers no __idle__: it prices what servers use, and
    a machine is not billed by the hour (the spend view then shows idle capacity as n/a)."""
    _seed(store, 0.05)
    for include in ("true", "false"):
        (found,) = await Service(store).sets(
            "tok-view", window="1d", accumulate="true", includeIdle=include
        )
        assert list(found) == ["local/test-node/jupyterhub/jupyter-alice/notebook"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"window": "3x"}, "window"),
        ({"window": "99999999999d"}, "window"),
        ({"window": "7d offset 99999999999w"}, "window"),
        ({"window": "1,99999999999999999"}, "window"),
        ({"window": "2026-01-02T00:00:00Z,2026-01-01T00:00:00Z"}, "window"),
        ({"window": "2026-01-01T00:00:00,2026-01-02T00:00:00"}, "window"),
        ({"window": "30d", "step": "1s"}, "step"),
        ({"window": "1,9999999999", "accumulate": "hour"}, "accumulate"),
        ({"window": "7d", "step": "99999999999d"}, "step"),
        ({}, "window"),
        ({"window": "7d", "step": "0d"}, "step"),
        ({"window": "7d", "aggregate": "planet"}, "aggregate"),
        ({"window": "7d", "filter": 'label[owner]="alice"'}, "filter"),
        ({"window": "7d", "filter": 'pod:"a"+pod:"b"|pod:"c"'}, "filter"),
        ({"window": "7d", "filter": 'planet:"mars"'}, "filter"),
    ],
)
async def test_bad_parameters_are_400_text_as_opencost(store, params, parameter):
    """Bad input: 400 text/plain naming the parameter (contracts.md 1.9)."""
    response = await Service(store).get(**params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith(f"Invalid '{parameter}' parameter: ")


@pytest.mark.parametrize(
    ("token", "status"),
    [("", 401), ("tok-unknown", 403), ("tok-service", 403), ("tok-narrow-view", 403)],
)
async def test_no_user_token_no_figures(store, token, status):
    """Without a user's hub token: OpenCost's JSON error envelope, no data."""
    _seed(store, 0.05)
    response = await Service(store).get(token, window="1d")
    assert response.status_code == status
    body = response.json()
    assert body["code"] == status and body["data"] is None and body["message"].startswith("Error:")


async def test_the_servers_opencost_backend_reads_the_meter(tree, store):
    """The production backend (cost/backend.py + model) with the server's hub token: a total."""
    meter = Meter(store)
    meter.sample([alice_server(tree.pid)], time.time())
    tree.burn("reaped", 0.5)
    meter.sample([alice_server(tree.pid)], time.time())
    service = Service(store, Rates(cpu_core_hour=36.0))  # 0.5 s must not round to 0 (5 decimals)
    settings = CostServiceConfig(
        "opencost", service.base, "owner", "alice", hub_auth=True, token="tok-alice", note="est."
    )
    report = await CostService(settings).report("today")
    assert report["breakdown"]["cpu"] >= 0.0045 and report["note"] == "est."
    assert report["efficiency"] is None  # a local server requests nothing: n/a, not 100 %
    assert report["total"] == pytest.approx(report["breakdown"]["cpu"] + report["breakdown"]["ram"])
    assert report["daily"][-1]["total"] == report["total"]
    week = await CostService(settings).report("7d")
    assert week["total"] == report["total"] and len(week["daily"]) == 7
    assert "tok-alice" not in repr(settings)
    foreign = CostServiceConfig(
        "opencost", service.base, "owner", "alice", hub_auth=True, token="x"
    )
    with pytest.raises(CostBackendError) as caught:
        await CostService(foreign).report("today")
    assert "403" in str(caught.value) and "not a JupyterHub user's token" in str(caught.value)
    anonymous = AllocationBackend("opencost", service.base, "owner", "alice", 5)
    with pytest.raises(CostBackendError, match="401"):
        await anonymous.fetch_sets("today")


def test_hub_auth_without_a_token_is_not_configured():
    """cost_hub_auth on a server without JUPYTERHUB_API_TOKEN says so instead of failing later."""
    settings = CostServiceConfig("opencost", "http://127.0.0.1:1", "owner", "alice", hub_auth=True)
    assert "no JupyterHub API token" in settings.problem()


def test_rates_refuse_nonsense():
    with pytest.raises(ValueError, match="cpu_core_hour"):
        Rates(cpu_core_hour=float("nan"))
    with pytest.raises(ValueError, match="ram_gib_hour"):
        Rates(ram_gib_hour=-1)


def test_usage_rows_are_json_labels(store):
    _seed(store, 0.05)
    (row,) = {json.dumps(r.labels) for r in store.totals(0, time.time() + 60)}
    assert json.loads(row) == ALICE


@pytest.fixture
def meter_socket():
    """A loopback socket for the service, bound before the Jupyter server reads its config."""
    sock, port = bind_unused_port()
    yield sock, port
    sock.close()


@pytest.fixture
def remote_dev_config(meter_socket, monkeypatch):
    """The environment local_config.py gives a user server, pointing at the meter's socket."""
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "tok-alice")
    return {
        "cost_backend": "opencost",
        "cost_url": f"http://127.0.0.1:{meter_socket[1]}{PREFIX}",
        "cost_label": "owner",
        "cost_user": "alice",
        "cost_hub_auth": True,
        "cost_estimate_note": "A local estimate.",
        "cost_cache_ttl": 60,
    }


async def test_get_cost_on_a_real_server_reads_the_meter(jp_fetch, meter_socket, tree, store):
    """GET cost of a real Jupyter server: non-zero total, the note, valid per openapi.yaml."""
    from ..support.openapi_check import assert_response_matches

    meter = Meter(store)
    meter.sample([alice_server(tree.pid)], time.time())
    tree.burn("reaped", 0.5)
    meter.sample([alice_server(tree.pid)], time.time())
    server = HTTPServer(make_app(PREFIX, Ledger(store, Rates(cpu_core_hour=36.0)), identify))
    server.add_sockets([meter_socket[0]])
    try:
        response = await jp_fetch("remote-dev", "api", "cost", params={"window": "today"})
    finally:
        server.stop()
    assert_response_matches(response, "GET", "/cost?window=today")
    report = json.loads(response.body)
    assert report["total"] > 0 and report["note"] == "A local estimate."


def test_configure_local_spend_wires_service_role_and_servers(tmp_path, monkeypatch):
    """The hub config gets the managed service, its role, and the servers' backend variables."""
    from traitlets.config import Config

    from jupyter_remote_dev.services.spend_meter.config import configure as configure_local_spend
    from jupyter_remote_dev.services.spend_meter.hub import SCOPES

    monkeypatch.setenv("JUPYTER_REMOTE_DEV_SPEND_INTERVAL", "2.5")
    c = Config()
    c.CostLabels.user_label = "hub.jupyter.org/username"
    url = configure_local_spend(c, tmp_path)
    assert configure_local_spend(Config(), tmp_path) == url  # the same port after a restart
    (service,) = c.JupyterHub.services.get_value([])
    assert service["name"] == "spend-meter" and service["url"] == url
    assert url.startswith("http://127.0.0.1:")
    command = service["command"]
    assert command[command.index("--db") + 1] == str(tmp_path / "spend.sqlite")
    assert command[command.index("--interval") + 1] == "2.5"
    assert command[command.index("--user-label") + 1] == "hub.jupyter.org/username"
    (role,) = c.JupyterHub.load_roles.get_value([])
    assert role == {"name": "spend-meter", "scopes": SCOPES, "services": ["spend-meter"]}
    env = c.Spawner.environment.get_value({})
    assert env["JUPYTER_REMOTE_DEV_COST_URL"] == f"{url}/services/spend-meter"
    assert env["JUPYTER_REMOTE_DEV_COST_LABEL"] == "hub.jupyter.org/username"
    spawner = type("S", (), {"user": type("U", (), {"name": "Ève Doe"})()})()
    assert env["JUPYTER_REMOTE_DEV_COST_USER"](spawner).startswith("ve-doe---")
    assert env["JUPYTER_REMOTE_DEV_COST_HUB_AUTH"] == "1"
    assert "estimate" in env["JUPYTER_REMOTE_DEV_COST_NOTE"]


async def test_hub_unreachable_is_503_not_500(store):
    """When the hub cannot check the token, the caller gets a clear 503 and no data."""

    async def hub_down(token):
        raise ConnectionRefusedError("hub down")

    service = Service(store)
    service.server.stop()
    sock, port = bind_unused_port()
    server = HTTPServer(make_app(PREFIX, service.ledger, hub_down))
    server.add_sockets([sock])
    try:
        async with httpx.AsyncClient() as client:
            response = await client.get(
                f"http://127.0.0.1:{port}{PREFIX}allocation",
                params={"window": "1d"},
                headers={"Authorization": "token tok-alice"},
            )
    finally:
        server.stop()
    assert response.status_code == 503 and response.json()["data"] is None


def test_servers_of_reads_pids_and_teams_from_the_hub_model():
    """Only integer PIDs count; the team label comes from the user's groups."""
    from jupyter_remote_dev.hub.labels import CostLabels
    from jupyter_remote_dev.services.spend_meter.hub import servers_of

    labels = CostLabels(team_group_pattern="^team-")
    model = {
        "name": "alice",
        "groups": ["staff", "team-ds"],
        "servers": {
            "": {"state": {"pid": 4242}, "started": "2026-01-01T10:00:00.000000Z"},
            "gpu": {"state": {"pid": True}},
            "pending": {"state": {}},
            "odd": None,
        },
    }
    (server,) = servers_of(model, labels)
    assert (server.user, server.name, server.pid) == ("alice", "", 4242)
    assert server.labels == {"owner": "alice", "team": "team-ds"}
    assert server.started == datetime(2026, 1, 1, 10, tzinfo=timezone.utc).timestamp()
    assert servers_of({"servers": {}}, labels) == []


def test_a_second_meter_on_the_same_history_is_refused(store, tmp_path):
    """Two meters would keep separate baselines and count every process twice."""
    with pytest.raises(RuntimeError, match="another spend meter is using"):
        UsageStore(tmp_path / "state" / "spend.sqlite")


def test_usage_and_baselines_are_written_together_or_not_at_all(store):
    """A failure while saving baselines rolls back the usage of that sample too."""
    usage = Usage("alice", "", {"labels": ALICE}, (time.time() - 10, time.time()), 1.0, 1.0)
    broken = {("alice", ""): Baseline(1, 0.0, 1.0, None, time.time())}  # rss NOT NULL
    with pytest.raises(Exception, match="NOT NULL"):
        store.record([usage], baselines=broken)
    assert store.totals(0, time.time() + 60) == [] and store.baselines() == {}
    with pytest.raises(ValueError, match="finite"):
        Usage("alice", "", {}, (0, 1), float("nan"), 0.0)

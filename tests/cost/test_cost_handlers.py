"""GET cost on a real Jupyter server, validated against openapi.yaml."""

import json

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_remote_dev.embedded.ports import free_port

from ..support.cost_standin import CostStandIn
from ..support.openapi_check import assert_response_matches

COST_ENV = (
    "JUPYTER_REMOTE_DEV_COST_BACKEND",
    "JUPYTER_REMOTE_DEV_COST_URL",
    "JUPYTER_REMOTE_DEV_COST_LABEL",
    "JUPYTER_REMOTE_DEV_COST_USER",
    "JUPYTER_REMOTE_DEV_RAY_CLUSTER",
)


@pytest.fixture
def standin():
    """A Kubecost stand-in (with the /model prefix), stopped afterwards."""
    server = CostStandIn(dialect="kubecost").start()
    yield server
    server.stop()


@pytest.fixture
def cost_env(monkeypatch, standin):
    """The variables the hub hooks set on the user pod, pointing at the stand-in."""
    for name in COST_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_REMOTE_DEV_COST_BACKEND", "Kubecost")
    monkeypatch.setenv("JUPYTER_REMOTE_DEV_COST_URL", standin.base_url)
    monkeypatch.setenv("JUPYTER_REMOTE_DEV_COST_LABEL", "hub.jupyter.org/username")
    monkeypatch.setenv("JUPYTER_REMOTE_DEV_COST_USER", "alice")
    monkeypatch.setenv("JUPYTER_REMOTE_DEV_RAY_CLUSTER", "ray-alice")


@pytest.fixture
def remote_dev_config(cost_env):
    """Traits come from the environment, as on a spawned pod; only the timeout is set here."""
    return {"cost_request_timeout": 0.5}


async def fetch_cost(jp_fetch, query="window=7d"):
    """GET cost, returning the response whatever its status."""
    params = dict(pair.split("=", 1) for pair in query.split("&")) if query else {}
    try:
        return await jp_fetch("remote-dev", "api", "cost", params=params)
    except HTTPClientError as error:
        return error.response


async def test_cost_handler_reports_the_servers_user(jp_fetch, standin):
    """The report comes from the stand-in, for the user of the environment, valid per openapi."""
    response = await fetch_cost(jp_fetch)
    assert response.code == 200
    body = json.loads(response.body)
    assert body["configured"] is True and body["user"] == "alice"
    assert body["source"] == "kubecost" and body["includes_ray"] is True
    assert body["total"] == pytest.approx(0.97766, abs=1e-5)
    assert len(body["daily"]) == 7
    assert_response_matches(response, "GET", "/cost?window=7d")
    assert standin.requests[0]["filter"] == 'label[hub_jupyter_org_username]:"alice"'


async def test_cost_handler_ignores_a_user_parameter(jp_fetch, standin):
    """?user=bob changes nothing: nobody can read another user's spend."""
    standin.honours_filter = False
    response = await fetch_cost(jp_fetch, "window=7d&user=bob")
    body = json.loads(response.body)
    assert body["user"] == "alice"
    assert body["total"] == pytest.approx(0.97766, abs=1e-5)


async def test_cost_handler_serves_repeats_from_cache(jp_fetch, standin):
    """Refreshes within the TTL make no further upstream call."""
    for _ in range(5):
        assert (await fetch_cost(jp_fetch)).code == 200
    assert standin.calls == 1


async def test_cost_handler_bad_window_is_400(jp_fetch, standin):
    """An unknown window is a 400 naming the accepted ones; the backend is not asked."""
    response = await fetch_cost(jp_fetch, "window=1y")
    assert response.code == 400
    assert "today, 7d, 30d, week, lastweek, month" in json.loads(response.body)["message"]
    assert_response_matches(response, "GET", "/cost?window=1y")
    assert standin.calls == 0


async def test_cost_handler_backend_down_is_502(jp_fetch, standin):
    """A stopped backend answers 502 with the reason."""
    standin.stop()
    response = await fetch_cost(jp_fetch)
    assert response.code == 502
    assert "kubecost at http://127.0.0.1" in json.loads(response.body)["message"]
    assert_response_matches(response, "GET", "/cost?window=7d")


async def test_cost_handler_slow_backend_is_504(jp_fetch, standin):
    """A backend slower than cost_request_timeout answers 504 naming the timeout."""
    standin.delay = 3
    response = await fetch_cost(jp_fetch, "window=today")
    assert response.code == 504
    assert "within 0.5 s" in json.loads(response.body)["message"]
    assert_response_matches(response, "GET", "/cost?window=today")


async def test_cost_handler_backend_error_shape_is_502(jp_fetch, standin):
    """A JSON error inside an HTTP 200 is a 502 carrying the backend's message."""
    standin.mode = "code200"
    response = await fetch_cost(jp_fetch, "window=month")
    assert response.code == 502
    assert "ETL not ready" in json.loads(response.body)["message"]


@pytest.mark.parametrize("remote_dev_config", [{"cost_backend": ""}])
async def test_cost_handler_not_configured_is_200(jp_fetch, standin, remote_dev_config):
    """Without a backend the answer is 200 configured:false with a message, and info says so."""
    response = await fetch_cost(jp_fetch)
    assert response.code == 200
    body = json.loads(response.body)
    assert body == {"configured": False, "message": body["message"]}
    assert "JUPYTER_REMOTE_DEV_COST_BACKEND" in body["message"]
    assert_response_matches(response, "GET", "/cost?window=7d")
    info = json.loads((await jp_fetch("remote-dev", "api", "info")).body)
    assert info["features"]["cost"] is False
    assert standin.calls == 0


async def test_cost_handler_feature_flag_on_when_configured(jp_fetch):
    """info lists cost as enabled when a backend is configured."""
    info = json.loads((await jp_fetch("remote-dev", "api", "info")).body)
    assert info["features"]["cost"] is True


async def fetch_budget(jp_fetch):
    """GET cost/budget, returning the response whatever its status."""
    try:
        return await jp_fetch("remote-dev", "api", "cost", "budget")
    except HTTPClientError as error:
        return error.response


async def test_cost_budget_without_a_budget_url_is_not_configured(jp_fetch):
    """No spend view with budgets on this hub: 200 configured:false, valid per openapi."""
    response = await fetch_budget(jp_fetch)
    assert response.code == 200 and json.loads(response.body) == {"configured": False}
    assert_response_matches(response, "GET", "/cost/budget")


@pytest.fixture
def server_token(monkeypatch):
    """The server's own hub token, as the hub sets it (before the server starts)."""
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "server-token")


@pytest.mark.parametrize(
    "remote_dev_config", [{"cost_budget_url": f"http://127.0.0.1:{free_port()}/api/budget"}]
)
async def test_cost_budget_view_down_is_502(server_token, jp_fetch, remote_dev_config):
    """A spend view that does not answer is a 502 naming it (the token is the server's own)."""
    response = await fetch_budget(jp_fetch)
    assert response.code == 502
    assert "the spend view is unreachable" in json.loads(response.body)["message"]
    assert_response_matches(response, "GET", "/cost/budget")

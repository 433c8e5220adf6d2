"""Each hub service's ``configure(c, ...)`` adds to a hub config and keeps what it already holds."""

from __future__ import annotations

import importlib
import json

import pytest
from traitlets.config import Config

from jupyter_remote_dev.budgets.config import BudgetError
from jupyter_remote_dev.services.git_remote import config as team_git
from jupyter_remote_dev.services.ray_head import config as ray_head
from jupyter_remote_dev.services.spend_meter import config as spend_meter
from jupyter_remote_dev.services.spend_view import configure_spend_view

SERVICES = ["git_remote", "ray_head", "spend_meter", "spend_view"]
TEAM_GIT = "access:services!service=team-git"


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_package_has_configure_in_config(name):
    module = importlib.import_module(f"jupyter_remote_dev.services.{name}.config")
    assert callable(module.configure)


def platform_config() -> Config:
    """A config a platform team wrote before calling ours."""
    c = Config()
    c.JupyterHub.services = [{"name": "theirs", "url": "http://127.0.0.1:1"}]
    c.JupyterHub.load_roles = [
        {"name": "user", "scopes": ["self", "read:users"]},
        {"name": "ops", "scopes": ["admin:users"], "users": ["root"]},
    ]
    c.JupyterHub.custom_scopes = {"custom:theirs:read": {"description": "theirs"}}
    c.Spawner.server_token_scopes = ["access:servers!server"]
    c.Spawner.environment = {"THEIRS": "1"}
    return c


def test_configure_calls_keep_the_config_services_roles_and_scopes(tmp_path):
    c = platform_config()
    spend_meter.configure(c, tmp_path, port=10001, viewers=["admin"])
    team_git.configure(c, tmp_path / "git", public_url="http://127.0.0.1:8000/", port=10002)
    ray_head.configure(c, tmp_path / "ray", client_port=10003, dashboard_port=10004)
    configure_spend_view(c, cost_backend="opencost", cost_url="http://cost", port=10005, name="v2")
    names = [s["name"] for s in c.JupyterHub.services]
    assert names == ["theirs", "spend-meter", "remote-dev-spend", "team-git", "ray-head", "v2"]
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert roles["user"]["scopes"] == ["self", "read:users", TEAM_GIT]
    assert roles["ops"] == {"name": "ops", "scopes": ["admin:users"], "users": ["root"]}
    assert {"spend-meter", "remote-dev-spend-viewers", "v2-viewers"} <= set(roles)
    assert set(c.JupyterHub.custom_scopes) == {"custom:theirs:read", "custom:remote-dev:spend:read"}
    assert c.Spawner.server_token_scopes == ["access:servers!server", TEAM_GIT]
    env = c.Spawner.environment
    assert env["THEIRS"] == "1" and env["RAY_ADDRESS"] == "ray://127.0.0.1:10003"
    assert env["JUPYTER_REMOTE_DEV_COST_URL"] == "http://127.0.0.1:10001/services/spend-meter"
    assert env["JUPYTER_REMOTE_DEV_GIT_REPO"].startswith("http://127.0.0.1:8000/services/team-git/")


def test_configure_on_an_empty_config_starts_from_jupyterhubs_roles(tmp_path):
    """Unset lists stay lazy (JupyterHub's own defaults are extended); the user role and the
    server tokens start from JupyterHub's ``user`` and ``server`` roles."""
    c = Config()
    team_git.configure(c, tmp_path, public_url="http://127.0.0.1:8000/", port=10002)
    (service,) = c.JupyterHub.services.get_value([])
    assert service["name"] == "team-git" and service["url"] == "http://127.0.0.1:10002"
    assert c.JupyterHub.load_roles.get_value([]) == [{"name": "user", "scopes": ["self", TEAM_GIT]}]
    assert c.Spawner.server_token_scopes == [
        "users:activity!user",
        "access:servers!server",
        TEAM_GIT,
    ]


def test_spend_view_budgets_compose_scopes_and_reach_the_servers(tmp_path):
    """Budgets add the budget scope to the user role and the server tokens next to what the
    config holds, hand the validated budgets to the service, and point the servers at it."""
    c = platform_config()
    team_git.configure(c, tmp_path / "git", public_url="http://127.0.0.1:8000/", port=10002)
    budgets = {"default": 5, "users": {"alice": {"amount": 2, "period": "week"}}}
    service = configure_spend_view(
        c, cost_backend="opencost", cost_url="http://cost", port=10005, budgets=budgets,
        state_dir=str(tmp_path), team_leads={"team-a": ["carol"]},
    )  # fmt: skip
    budget, view = "custom:remote-dev:budget:read", "access:services!service=remote-dev-spend"
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert roles["user"]["scopes"] == ["self", "read:users", TEAM_GIT, budget, view]
    assert c.Spawner.server_token_scopes == ["access:servers!server", TEAM_GIT, budget, view]
    assert "list:groups" in roles["remote-dev-spend-service"]["scopes"]
    assert set(c.JupyterHub.custom_scopes) == {
        "custom:theirs:read", "custom:remote-dev:spend:read", budget
    }  # fmt: skip
    assert budget in service["oauth_client_allowed_scopes"]
    env = service["environment"]
    assert json.loads(env["JUPYTER_REMOTE_DEV_SPEND_BUDGETS"])["users"] == {
        "alice": {"amount": 2.0, "period": "week"}
    }
    assert json.loads(env["JUPYTER_REMOTE_DEV_SPEND_TEAM_LEADS"]) == {"team-a": ["carol"]}
    assert c.Spawner.environment["JUPYTER_REMOTE_DEV_COST_BUDGET_URL"] == (
        "http://127.0.0.1:10005/services/remote-dev-spend/api/budget"
    )


@pytest.mark.parametrize(
    ("budgets", "message"),
    [
        ({"default": -1}, "budget default: amount must be a finite number >= 0"),
        ({"users": {"bob": {"amount": 1, "period": "day"}}}, "users.bob: period must be month"),
        ({"groups": {"a": {"amount": 1, "member": 2}}}, "member budget exceeds"),
    ],
)
def test_spend_view_bad_budgets_fail_at_config_load(budgets, message):
    """A bad budget stops the hub's start with a message naming it; nothing is added."""
    c = Config()
    with pytest.raises(BudgetError, match=message):
        configure_spend_view(c, cost_backend="opencost", cost_url="http://cost", port=1,
                             budgets=budgets)  # fmt: skip
    assert "custom_scopes" not in c.JupyterHub and "services" not in c.JupyterHub


def test_spend_view_guard_rail_is_off_by_default_and_runs_before_existing_hooks():
    """Off: no hook. On: an API-only service holding the view's scope, and the hook run before the
    config's own pre-spawn hook (a refused spawn creates nothing). Without budgets it is refused."""
    off = Config()
    configure_spend_view(off, cost_backend="opencost", cost_url="http://c", port=1, budgets={})
    assert "pre_spawn_hook" not in off.Spawner and "pre_spawn_hook" not in off.KubeSpawner
    c = platform_config()
    c.KubeSpawner.pre_spawn_hook = theirs = lambda spawner: None
    configure_spend_view(c, cost_backend="opencost", cost_url="http://c", port=1, budgets={},
                         guard_rail={"enabled": True})  # fmt: skip
    assert c.KubeSpawner.pre_spawn_hook.hooks[0].__name__ == "budget_guard"
    assert c.KubeSpawner.pre_spawn_hook.hooks[1] is theirs
    (guard,) = [s for s in c.JupyterHub.services if s["name"] == "remote-dev-spend-guard"]
    assert len(guard["api_token"]) == 64 and "url" not in guard
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert roles["remote-dev-spend-guard"]["scopes"][0] == "custom:remote-dev:spend:read"
    with pytest.raises(BudgetError, match="guard_rail needs budgets"):
        configure_spend_view(Config(), cost_backend="opencost", cost_url="http://c", port=1,
                             guard_rail={"enabled": True})  # fmt: skip

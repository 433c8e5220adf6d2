"""c.RemoteDevExtension reaches every area's settings, on a real server and in the help."""

import subprocess
import sys
from pathlib import Path

import pytest
from traitlets import TraitError

from jupyter_remote_dev.extension import AREA_SETTINGS as AREAS
from jupyter_remote_dev.extension import RemoteDevExtension

# one trait of each area: (value set through c.RemoteDevExtension, value the extension holds)
AREA_SETTINGS = {
    "max_upload_size": (12345, 12345),  # files
    "exec_kill_grace": (2.5, 2.5),  # exec
    "git_sync_branch": ("dev/{username}", "dev/{username}"),  # git sync
    "cost_backend": (" OpenCost ", "opencost"),  # cost (its validator normalises)
    "ray_dashboard_url": ("http://127.0.0.1:8265/", "http://127.0.0.1:8265"),  # ray
}


@pytest.fixture
def remote_dev_config():
    """Configure the server with one trait of each area."""
    return {name: configured for name, (configured, _) in AREA_SETTINGS.items()}


async def test_extension_config_reaches_every_area_on_a_running_server(remote_dev):
    """Each area's trait set in c.RemoteDevExtension is what the running extension holds."""
    defaults = RemoteDevExtension()
    for name, (_, expected) in AREA_SETTINGS.items():
        assert getattr(defaults, name) != expected, name
        assert getattr(remote_dev, name) == expected, name
    assert remote_dev.feature_flags()["cost"] is True
    assert remote_dev.feature_flags()["ray"] is True


def test_extension_config_help_lists_every_area_trait():
    """Every area's traits are documented as RemoteDevExtension options, in full."""
    help_text = RemoteDevExtension.class_get_help()
    section = RemoteDevExtension.class_config_section([RemoteDevExtension])
    for name in ("max_upload_size", "exec_retention", "git_token_file", "cost_url", "ray_timeout"):
        assert f"--RemoteDevExtension.{name}=" in help_text
        assert f"# c.RemoteDevExtension.{name} = " in section
    assert "See also" not in section


def test_extension_config_settings_modules_stay_plain_traitlets():
    """Importing the settings mixins loads neither tornado nor jupyter_server."""
    probe = (
        "import sys, jupyter_remote_dev.files.settings, jupyter_remote_dev.exec.settings, "
        "jupyter_remote_dev.gitsync.settings, jupyter_remote_dev.cost.settings, "
        "jupyter_remote_dev.ray.settings; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'tornado', 'jupyter_server'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("remote_dev_config", [{}])
def test_extension_config_bad_environment_fails_loading(
    jp_configurable_serverapp, monkeypatch, capsys
):
    """A bad value from the environment stops the extension loading, naming the setting."""
    monkeypatch.setenv("JUPYTER_REMOTE_DEV_GIT_INTERVAL", "soon")
    app = jp_configurable_serverapp()
    assert "remote_dev_config" not in app.web_app.settings
    assert "JUPYTER_REMOTE_DEV_GIT_INTERVAL is not a number: 'soon'" in capsys.readouterr().err


_AREA_TRAITS = {name for area in AREAS for name in area.class_own_traits()}
NUMERIC_TRAITS = sorted(
    name
    for name, trait in RemoteDevExtension.class_traits(config=True).items()
    if type(trait).__name__ in ("Float", "Int") and name in _AREA_TRAITS
)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), -1])
@pytest.mark.parametrize("name", NUMERIC_TRAITS)
def test_extension_config_numbers_refuse_nan_infinity_and_negatives(name, value):
    """Every numeric setting refuses NaN (which passes any ``<= 0`` check), infinities and
    negatives with an error naming it."""
    with pytest.raises(TraitError, match=name):
        RemoteDevExtension(**{name: value})


def test_extension_config_servers_recheck_hub_tokens_every_minute():
    """The package's server config (installed in jupyter_server_config.d) makes a JupyterHub
    user server ask the hub about a token again after 60 s, not JupyterHub's 300 s: a revoked
    token stops working within a minute."""
    from jupyterhub.services.auth import HubOAuth
    from traitlets.config import JSONFileConfigLoader

    shipped = Path(__file__).parents[1] / "jupyter-config" / "server-config"
    config = JSONFileConfigLoader("jupyter_remote_dev.json", str(shipped)).load_config()
    assert HubOAuth().cache_max_age == 300
    hub_auth = HubOAuth(config=config)
    assert (hub_auth.cache_max_age, hub_auth.cache.max_age) == (60, 60)

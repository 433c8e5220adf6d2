"""The client's start-up: what importing it and starting the console script pull in."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys

from jupyter_remote_dev.client import transport
from jupyter_remote_dev.client.api import RemoteDevClient
from jupyter_remote_dev.client.hub import HubClient
from jupyter_remote_dev.client.profiles import Profile

from .cli_support import cli, login


def test_client_package_imports_no_server_packages():
    """Importing every client module pulls in no jupyter_server, jupyterhub or kubernetes."""
    code = """
import importlib, pkgutil, sys
import jupyter_remote_dev.client as client
for module in pkgutil.walk_packages(client.__path__, "jupyter_remote_dev.client."):
    importlib.import_module(module.name)
server_side = ("jupyter_server", "jupyterhub", "kubernetes", "kubernetes_asyncio", "tornado")
bad = sorted(m for m in sys.modules if m.split(".")[0] in server_side)
print(",".join(bad))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_cli_main_skips_unused_optional_imports(tmp_path):
    """The console script starts without click, rich, pygments or trio, and its client works."""
    code = """
import sys
from jupyter_remote_dev.client.cli import main
try:
    main(["status", "--profile", "nobody"])
except SystemExit as e:
    print("exit", e.code)
import httpx
httpx.HTTPTransport().close()  # imports httpcore, which looks for trio
heavy = ("click", "rich", "pygments", "trio")
print(sorted(m for m in sys.modules if m.split(".")[0] in heavy and sys.modules[m] is not None))
"""
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert result.stdout.split("\n")[:2] == ["exit 1", "[]"], result
    assert "no profile 'nobody'" in result.stderr


def test_a_resync_imports_no_filelock(tmp_path):
    """The sync command's modules, and taking a project's lock once its lock file is there, import
    no filelock (~15 ms of start-up)."""
    (tmp_path / ".jupyter-remote-dev").mkdir()
    (tmp_path / ".jupyter-remote-dev" / "lock").touch()
    code = f"""
import sys
from pathlib import Path
import jupyter_remote_dev.client.commands.sync
print("filelock" in sys.modules)
from jupyter_remote_dev.client.sync.lock import ProjectLock
with ProjectLock(Path({str(tmp_path)!r})):
    print("filelock" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False", "False"], result


def test_plain_http_clients_load_no_ca_bundle(monkeypatch):
    """The clients of an http:// server and of its hub load no CA certificates (tens of ms per
    start-up); their context still verifies and trusts nothing, so no https gets through it."""

    def refuse(*args, **kwargs):
        raise AssertionError("a CA bundle was loaded")

    monkeypatch.setattr(ssl.SSLContext, "load_default_certs", refuse)
    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", refuse)
    transport.tls_context.cache_clear()
    profile = Profile(
        "p", "http://127.0.0.1:9/user/a/", "t", "hub", "a", "", "http://127.0.0.1:9/hub/api/"
    )
    RemoteDevClient(profile).close()
    HubClient(profile.hub, profile.token).close()
    context = transport.client_tls(profile.url, False)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.get_ca_certs() == []


def test_https_clients_keep_the_profiles_verification():
    """An https:// URL gets the profile's setting: the verifying context, or --insecure's."""
    url = "https://hub.example.com/user/a/"
    assert transport.client_tls(url, True) is transport.tls_context(True)
    assert transport.client_tls(url, False) is False


async def test_sync_asks_get_info_once(jp_serverapp, laptop, server_url, token, monkeypatch):
    """A sync plans with the ``GET info`` answer of its first contact instead of asking again."""
    await login(laptop, server_url, token)
    (laptop["project"] / "a.py").write_text("a\n")
    paths = []
    settings = jp_serverapp.web_app.settings
    log = settings["log_function"]
    monkeypatch.setitem(
        settings, "log_function", lambda handler: paths.append(handler.request.path) or log(handler)
    )
    result = await cli(laptop, "sync", "--yes", "--remote", "p")
    assert result.returncode == 0, result.stderr
    assert sum(p.endswith("remote-dev/api/info") for p in paths) == 1, paths


def test_cli_main_freezes_the_collector_before_the_interpreter_exits(tmp_path):
    """Once a command is done (even by an error), the console script freezes the collector, so
    the interpreter's exit does not walk every object left (~45 ms of each command)."""
    code = """
import gc
from jupyter_remote_dev.client.cli import main
print(gc.get_freeze_count())
try:
    main(["status", "--profile", "nobody"])
except SystemExit as e:
    print(e.code, gc.get_freeze_count() > 0)
"""
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.stdout.split() == ["0", "1", "True"], result

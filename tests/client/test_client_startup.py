"""The client's start-up: what importing it and starting the console script pull in."""

from __future__ import annotations

import os
import subprocess
import sys


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

"""One owner object per server area, built once at start-up and reached one way by handlers."""

from __future__ import annotations

import ast
from pathlib import Path

from jupyter_remote_dev.base import handlers as base
from jupyter_remote_dev.cost.service import CostService
from jupyter_remote_dev.exec.service import ExecService
from jupyter_remote_dev.extension import ROUTES
from jupyter_remote_dev.files.service import FilesService
from jupyter_remote_dev.gitsync.service import GitSyncService
from jupyter_remote_dev.ray.service import RayService

OWNERS = {
    base.FILES_SERVICE: (FilesService, "files_service"),
    base.EXEC_SERVICE: (ExecService, "exec_service"),
    base.GIT_SERVICE: (GitSyncService, "git_service"),
    base.COST_SERVICE: (CostService, "cost_service"),
    base.RAY_SERVICE: (RayService, "ray_service"),
}


async def test_each_area_has_one_owner_built_at_start(jp_serverapp, remote_dev, jp_root_dir):
    """Every area's service is in the web app's settings, of its class, with the server root,
    and the handlers' property for it names that very object."""
    settings = jp_serverapp.web_app.settings
    for key, (cls, accessor) in OWNERS.items():
        assert isinstance(settings[key], cls), key
        handler = type("Probe", (), {"settings": settings})()
        assert getattr(base.RemoteDevHandler, accessor).fget(handler) is settings[key]
        assert callable(settings[key].start) and callable(settings[key].stop)
    assert {id(s) for s in remote_dev.services()} == {id(settings[key]) for key in OWNERS}
    root = str(jp_root_dir)
    assert settings[base.FILES_SERVICE].root == settings[base.EXEC_SERVICE].root == root
    assert settings[base.RAY_SERVICE].root == root


def test_handlers_never_read_the_extension():
    """No handler module reaches the extension or its traits: only the area properties."""
    for module in {*ROUTES, base}:
        tree = ast.parse(Path(module.__file__).read_text("utf-8"))
        names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        strings = {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        assert not names & {"extensionapp", "remote_dev"}, module.__name__
        assert "remote_dev_config" not in strings, module.__name__

"""GET info (version, features, limits, ignore patterns) and GET openapi.json (the contract)."""

from __future__ import annotations

import functools
from importlib.resources import files as package_files

import yaml
from jupyter_server.auth.decorator import authorized
from tornado import web

from .. import __version__
from ..base.handlers import (
    COST_SERVICE,
    EXEC_SERVICE,
    GIT_SERVICE,
    RAY_SERVICE,
    RemoteDevHandler,
    api_path,
)

AUTH_RESOURCE = "remote_dev:status"


@functools.cache
def load_openapi() -> dict:
    """The parsed ``openapi.yaml`` shipped in the package."""
    text = package_files("jupyter_remote_dev").joinpath("openapi.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def feature_flags(settings: dict) -> dict[str, bool]:
    """What this server offers, from the areas' services in the web app's ``settings``."""
    return {
        "files": True,
        "batch": True,
        "resumable_uploads": True,
        "exec": settings[EXEC_SERVICE].allow_exec,
        "cost": bool(settings[COST_SERVICE].settings.backend),
        "ray": settings[RAY_SERVICE].configured,
        "git": settings[GIT_SERVICE].configured,
    }


class InfoHandler(RemoteDevHandler):
    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized
    def get(self):
        files = self.files_service
        self.write_json(
            {
                "version": __version__,
                "features": feature_flags(self.settings),
                "limits": {
                    "max_upload_size": files.max_upload_size,
                    "max_concurrent_exec": self.exec_service.jobs.max_running,
                    "batch_max_files": files.batch_max_files,
                    "batch_max_expanded_size": files.batch_max_expanded_size,
                },
                "ignore_patterns": list(files.ignore_patterns),
                "allow_hidden": files.allow_hidden,
            }
        )


class OpenAPIHandler(RemoteDevHandler):
    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized
    def get(self):
        self.write_json(load_openapi())


default_handlers = [
    (api_path("info"), InfoHandler),
    (api_path("openapi.json"), OpenAPIHandler),
]

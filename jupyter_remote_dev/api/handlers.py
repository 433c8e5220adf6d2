"""GET info (version, features, limits, ignore patterns) and GET openapi.json (the contract)."""

from __future__ import annotations

import functools
from importlib.resources import files as package_files

import yaml
from jupyter_server.auth.decorator import authorized
from tornado import web

from .. import __version__
from ..base.handlers import RemoteDevHandler, api_path

AUTH_RESOURCE = "remote_dev:status"


@functools.cache
def load_openapi() -> dict:
    """The parsed ``openapi.yaml`` shipped in the package."""
    text = package_files("jupyter_remote_dev").joinpath("openapi.yaml").read_text("utf-8")
    return yaml.safe_load(text)


class InfoHandler(RemoteDevHandler):
    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized
    def get(self):
        app = self.remote_dev
        self.write_json(
            {
                "version": __version__,
                "features": app.feature_flags(),
                "limits": {
                    "max_upload_size": app.max_upload_size,
                    "max_concurrent_exec": app.max_concurrent_exec,
                    "batch_max_files": app.batch_max_files,
                    "batch_max_expanded_size": app.batch_max_expanded_size,
                },
                "ignore_patterns": list(app.ignore_patterns),
                "allow_hidden": app.allow_hidden_files,
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

"""A loopback stand-in for the Kubernetes API's RayCluster endpoints (tornado on 127.0.0.1).

It follows the real REST contract: ``/apis/ray.io/v1/namespaces/{ns}/rayclusters[/{name}]``,
201 on create, 409 ``AlreadyExists``, 404 ``NotFound``, 403 ``Forbidden``, 422 ``Invalid`` (the
CRD's openAPIV3Schema is enforced like the API server does), and ``Status`` objects as error bodies.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import pytest
import tornado.httpserver
import tornado.testing
import tornado.web
from kubernetes_asyncio.client import ApiClient, Configuration, CustomObjectsApi

from .hub_support import SCHEMAS, raycluster_validator

PATH = r"/apis/ray\.io/v1/namespaces/([^/]+)/rayclusters"
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")


def status(code: int, reason: str, message: str, name: str = "") -> dict:
    """A metav1.Status failure body as the API server sends it."""
    details = {"group": "ray.io", "kind": "rayclusters"}
    if name:
        details["name"] = name
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code,
    }


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch (what ``application/merge-patch+json`` means)."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


class KubeState:
    """Stored objects plus knobs: verbs to forbid, a delay before answering, a request log."""

    def __init__(self, validator=None):
        self.objects: dict[tuple[str, str], dict] = {}
        self.forbidden: set[str] = set()
        self.delay = 0.0
        self.requests: list[tuple[str, str]] = []
        self.validator = validator
        self.crd_installed = True


class _Handler(tornado.web.RequestHandler):
    def initialize(self, state: KubeState):
        self.state = state

    def _status(self, code, reason, message, name=""):
        self.set_status(code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(status(code, reason, message, name)))

    def _object(self, code, obj):
        self.set_status(code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(obj))

    async def prepare(self):
        self.state.requests.append((self.request.method, self.request.path))
        if self.state.delay:
            await asyncio.sleep(self.state.delay)
        verb = {"POST": "create", "GET": "get", "DELETE": "delete", "PATCH": "patch"}[
            self.request.method
        ]
        if not self.state.crd_installed:  # the API server knows no such resource type
            self._status(404, "NotFound", "the server could not find the requested resource")
        elif verb in self.state.forbidden:
            ns = self.path_args[0]
            self._status(
                403,
                "Forbidden",
                f'rayclusters.ray.io is forbidden: User "system:serviceaccount:{ns}:hub" cannot '
                f'{verb} resource "rayclusters" in API group "ray.io" in the namespace "{ns}"',
            )


class CollectionHandler(_Handler):
    def post(self, ns):
        body = json.loads(self.request.body)
        name = body.get("metadata", {}).get("name", "")
        if not _SUBDOMAIN.match(name) or len(name) > 253:
            return self._status(422, "Invalid", f'RayCluster.ray.io "{name}" is invalid', name)
        if self.state.validator is not None:
            errors = list(self.state.validator.iter_errors(body))
            if errors:
                message = "; ".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors)
                return self._status(
                    422, "Invalid", f'RayCluster.ray.io "{name}" is invalid: {message}'
                )
        if (ns, name) in self.state.objects:
            return self._status(
                409, "AlreadyExists", f'rayclusters.ray.io "{name}" already exists', name
            )
        body["metadata"].update(namespace=ns, uid=str(uuid.uuid4()), resourceVersion="1")
        self.state.objects[(ns, name)] = body
        self._object(201, body)


class ItemHandler(_Handler):
    def get(self, ns, name):
        if (ns, name) not in self.state.objects:
            return self._status(404, "NotFound", f'rayclusters.ray.io "{name}" not found', name)
        self._object(200, self.state.objects[(ns, name)])

    def patch(self, ns, name):
        content_type = self.request.headers.get("Content-Type", "")
        if content_type != "application/merge-patch+json":  # CRDs: no strategic merge patch
            message = f"the body of the request was in an unknown format: {content_type}"
            return self._status(415, "UnsupportedMediaType", message)
        if (ns, name) not in self.state.objects:
            return self._status(404, "NotFound", f'rayclusters.ray.io "{name}" not found', name)
        obj = merge_patch(self.state.objects[(ns, name)], json.loads(self.request.body))
        self.state.objects[(ns, name)] = obj
        self._object(200, obj)

    def delete(self, ns, name):
        obj = self.state.objects.pop((ns, name), None)
        if obj is None:
            return self._status(404, "NotFound", f'rayclusters.ray.io "{name}" not found', name)
        self._object(200, obj)


@pytest.fixture
def kube_api(jp_asyncio_loop):
    """(state, factory): factory() gives a kubernetes_asyncio CustomObjectsApi on the stand-in."""
    # the API server enforces the CRD schema; without the shared schemas, store unchecked
    state = KubeState(raycluster_validator() if SCHEMAS.exists() else None)
    app = tornado.web.Application(
        [
            (PATH, CollectionHandler, {"state": state}),
            (PATH + r"/([^/]+)", ItemHandler, {"state": state}),
        ]
    )
    sock, port = tornado.testing.bind_unused_port()

    async def start():
        server = tornado.httpserver.HTTPServer(app)
        server.add_socket(sock)
        config = Configuration(host=f"http://127.0.0.1:{port}")
        return server, ApiClient(config)

    server, api_client = jp_asyncio_loop.run_until_complete(start())
    yield state, lambda: CustomObjectsApi(api_client)
    server.stop()
    jp_asyncio_loop.run_until_complete(api_client.close())
    jp_asyncio_loop.run_until_complete(server.close_all_connections())

"""RayCluster create/delete through kubernetes_asyncio's CustomObjectsApi (KubeSpawner's client)."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from kubernetes_asyncio.client.exceptions import ApiException

GROUP, VERSION, PLURAL = "ray.io", "v1", "rayclusters"
RBAC_HINT = (
    "grant the hub's service account create/get/patch/delete on rayclusters.ray.io "
    "(hub_config/raycluster-rbac.yaml)"
)


class RayClusterError(RuntimeError):
    """A RayCluster call failed; ``jupyterhub_message`` is what the spawn page shows."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status
        self.jupyterhub_message = message


def _api_message(error: ApiException) -> str:
    """The ``message`` of the Kubernetes Status object in an error body, else the HTTP reason."""
    try:
        return json.loads(error.body)["message"]
    except (TypeError, ValueError, KeyError):
        return str(error.reason)


class RayClusterClient:
    """RayCluster lifecycle in one namespace, every call bounded by ``timeout`` seconds."""

    def __init__(self, api, namespace: str, timeout: float = 30.0, log=None):
        self.api = api
        self.namespace = namespace
        self.timeout = timeout
        self.log = log

    def _where(self, name: str) -> str:
        return f"RayCluster {name!r} in namespace {self.namespace!r}"

    async def _call(self, what: str, method, *args, **kwargs):
        try:
            return await asyncio.wait_for(
                method(
                    GROUP,
                    VERSION,
                    self.namespace,
                    PLURAL,
                    *args,
                    _request_timeout=self.timeout,
                    **kwargs,
                ),
                self.timeout + 1,
            )
        except asyncio.TimeoutError:
            raise RayClusterError(
                f"Could not {what}: the Kubernetes API did not answer within {self.timeout:g}s"
            ) from None
        except aiohttp.ClientError as e:
            raise RayClusterError(f"Could not {what}: Kubernetes API unreachable ({e})") from None

    def _error(self, what: str, error: ApiException) -> RayClusterError:
        message = f"Could not {what}: {error.status} {_api_message(error)}"
        if error.status == 403:
            message += f"; {RBAC_HINT}"
        elif error.status == 404 and what.startswith("create"):  # no such resource type
            message += "; is the KubeRay operator (its RayCluster CRD) installed?"
        return RayClusterError(message, error.status)

    async def create(self, body: dict) -> dict:
        """Create ``body``; if it already exists, return the existing object (idempotent)."""
        name = body["metadata"]["name"]
        what = f"create {self._where(name)}"
        try:
            created = await self._call(what, self.api.create_namespaced_custom_object, body)
        except ApiException as e:
            if e.status != 409:
                raise self._error(what, e) from None
            if self.log:
                self.log.info("%s already exists; reusing it", self._where(name))
            return await self.get(name)
        if self.log:
            self.log.info("Created %s", self._where(name))
        return created

    async def get(self, name: str) -> dict:
        """The current object."""
        what = f"read {self._where(name)}"
        try:
            return await self._call(what, self.api.get_namespaced_custom_object, name)
        except ApiException as e:
            raise self._error(what, e) from None

    async def set_owner(self, name: str, owner: dict) -> dict:
        """Make ``owner`` (an ownerReference, e.g. the user pod) the cluster's only owner."""
        what = f"set the owner of {self._where(name)}"
        patch = {"metadata": {"ownerReferences": [owner]}}
        try:
            return await self._call(
                what,
                self.api.patch_namespaced_custom_object,
                name,
                patch,
                _content_type="application/merge-patch+json",  # CRDs take no strategic merge
            )
        except ApiException as e:
            raise self._error(what, e) from None

    async def delete(self, name: str) -> bool:
        """Delete the cluster (its pods follow by owner reference); False if it was already gone."""
        what = f"delete {self._where(name)}"
        try:
            await self._call(what, self.api.delete_namespaced_custom_object, name)
        except ApiException as e:
            if e.status == 404:
                if self.log:
                    self.log.info("%s was already gone", self._where(name))
                return False
            raise self._error(what, e) from None
        if self.log:
            self.log.info("Deleted %s", self._where(name))
        return True

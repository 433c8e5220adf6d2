"""Fixtures of the hub tests: the loopback stand-in of the Kubernetes API."""

from .kube_standin import kube_api  # noqa: F401 (fixture)

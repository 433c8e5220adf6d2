"""A real S3-compatible server for the Airflow branch-staging tests: moto's server on loopback.

Each test module starts one server (the ``s3`` fixture, or ``with MotoS3() as s3``) and takes a
fresh bucket per test (the ``store`` fixture). A module uses the fixtures by importing
``s3_fixture`` and ``store_fixture``.
Credentials are dummies in the environment, i.e. boto3's standard chain, as in production.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections import Counter

import boto3
import pytest
from moto.server import ThreadedMotoServer

from jupyter_remote_dev.airflow.store import BranchStore

_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


class MotoS3:
    """Start moto's S3 server on 127.0.0.1 (a free port) with dummy credentials; stop it on exit."""

    def __enter__(self) -> MotoS3:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        self._saved = {key: os.environ.get(key) for key in _ENV}
        os.environ.update(_ENV)
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint)

    def new_store(self, prefix: str = "dags-branches") -> BranchStore:
        """A store on a new, empty bucket."""
        bucket = f"test-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=bucket)
        return BranchStore(bucket=bucket, prefix=prefix, endpoint_url=self.endpoint)


@pytest.fixture(scope="module", name="s3")
def s3_fixture():
    """One moto S3 server for the whole test module."""
    with MotoS3() as server:
        yield server


@pytest.fixture(name="store")
def store_fixture(s3):
    """A store on a new, empty bucket of the module's server."""
    return s3.new_store()


class CallCounter:
    """Count S3 operations a store's client makes, and the keys of each DeleteObjects call."""

    def __init__(self, store: BranchStore):
        self.calls: Counter[str] = Counter()
        self.delete_batches: list[int] = []
        events = store.client.meta.events
        events.register("before-call.s3", self._on_call)
        events.register("before-parameter-build.s3.DeleteObjects", self._on_delete)

    def _on_call(self, model, **_):
        self.calls[model.name] += 1

    def _on_delete(self, params, **_):
        self.delete_batches.append(len(params["Delete"]["Objects"]))

    def reset(self) -> None:
        self.calls.clear()
        self.delete_batches.clear()


def write_tree(root, files: dict[str, str]) -> None:
    """Write ``{relative path: text}`` under ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def read_tree(root) -> dict[str, str]:
    """``{relative path: text}`` of the regular files under ``root``, hidden ones left out."""
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }

"""The bucket side of branch staging: key layout and the few S3 calls we make.

Layout under ``s3://BUCKET/PREFIX/``::

    <slug>/manifest.json        {"branch", "slug", "dag_ids",
                                 "files": {path: {"sha256", "size", "dag_ids" (.py only)}}}
    <slug>/files/<path>         each file, with its sha256 in the object metadata

A branch is live while its ``manifest.json`` exists. Credentials come only from boto3's standard
chain (environment, shared config, web identity / IRSA, instance metadata); an endpoint URL points
the client at MinIO or another S3-compatible store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

#: S3's limit on keys per DeleteObjects call.
DELETE_BATCH = 1000
MANIFEST = "manifest.json"
FILES = "files/"


def _is_missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}


@dataclass
class BranchStore:
    """One bucket and prefix holding branch folders.

    Parameters
    ----------
    bucket:
        The bucket name.
    prefix:
        Folder inside the bucket for all branches (``""`` for the bucket root).
    endpoint_url:
        An S3-compatible endpoint (MinIO, Ceph, ...); None for AWS.
    region:
        The region; None lets boto3 decide.
    client:
        A ready boto3 S3 client (tests); built from the other fields when None.
    delete_batch:
        Keys per DeleteObjects call: S3's limit of 1,000 (smaller in tests).
    """

    bucket: str
    prefix: str = "dags-branches"
    endpoint_url: str | None = None
    region: str | None = None
    client: object = None
    delete_batch: int = DELETE_BATCH

    def __post_init__(self):
        if not self.bucket:
            raise ValueError("no bucket given (--bucket or JUPYTER_REMOTE_DEV_DAGS_BUCKET)")
        self.prefix = self.prefix.strip("/")
        if self.client is None:
            self.client = boto3.client(
                "s3",
                endpoint_url=self.endpoint_url or None,
                region_name=self.region or None,
                config=Config(retries={"max_attempts": 5, "mode": "standard"}),
            )

    # ----- keys -----
    def branch_prefix(self, slug: str) -> str:
        """The key prefix of one branch's folder, ending in ``/``."""
        return f"{self.prefix}/{slug}/" if self.prefix else f"{slug}/"

    def manifest_key(self, slug: str) -> str:
        return self.branch_prefix(slug) + MANIFEST

    def file_key(self, slug: str, path: str) -> str:
        return self.branch_prefix(slug) + FILES + path

    # ----- reading -----
    def list_slugs(self) -> list[str]:
        """Every folder directly under the prefix (live or half-deleted branches alike)."""
        root = f"{self.prefix}/" if self.prefix else ""
        slugs = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=root, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                slugs.append(common["Prefix"][len(root) :].rstrip("/"))
        return slugs

    def list_objects(self, prefix: str) -> Iterator[dict]:
        """Yield ``{"Key", "Size", ...}`` for every object under ``prefix``, page by page."""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Contents", [])

    def get_manifest(self, slug: str) -> dict | None:
        """The branch's manifest, or None when the branch is not (or no longer) live."""
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.manifest_key(slug))["Body"]
        except ClientError as error:
            if _is_missing(error):
                return None
            raise
        with body:
            return json.loads(body.read())

    def open_file(self, slug: str, path: str):
        """A streaming body for one file; raises FileNotFoundError when it is gone."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.file_key(slug, path))
        except ClientError as error:
            if _is_missing(error):
                raise FileNotFoundError(self.file_key(slug, path)) from error
            raise
        return response["Body"]

    # ----- writing -----
    def upload_file(self, slug: str, path: str, local_path: str, sha256: str) -> None:
        """Upload one file (multipart when large) with its sha256 in the metadata."""
        self.client.upload_file(
            local_path,
            self.bucket,
            self.file_key(slug, path),
            ExtraArgs={"Metadata": {"sha256": sha256}},
        )

    def put_manifest(self, slug: str, manifest: dict) -> None:
        body = json.dumps(manifest, indent=1, sort_keys=True).encode()
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.manifest_key(slug),
            Body=body,
            ContentType="application/json",
            CacheControl="no-cache",
        )

    def delete_keys(self, keys: Iterable[str]) -> int:
        """Delete keys in DeleteObjects calls of ``delete_batch`` keys at most; return the count."""
        deleted = 0
        batch: list[str] = []
        for key in keys:
            batch.append(key)
            if len(batch) == self.delete_batch:
                deleted += self._delete_batch(batch)
                batch = []
        if batch:
            deleted += self._delete_batch(batch)
        return deleted

    def _delete_batch(self, keys: list[str]) -> int:
        response = self.client.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
        )
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise RuntimeError(
                f"S3 refused to delete {len(errors)} of {len(keys)} keys, "
                f"first {first.get('Key')}: {first.get('Code')} {first.get('Message')}"
            )
        return len(keys)

    def delete_branch(self, slug: str) -> int:
        """Delete a branch folder: the manifest first (so readers drop it), then every object."""
        self.client.delete_object(Bucket=self.bucket, Key=self.manifest_key(slug))
        keys = (item["Key"] for item in self.list_objects(self.branch_prefix(slug)))
        return self.delete_keys(keys)

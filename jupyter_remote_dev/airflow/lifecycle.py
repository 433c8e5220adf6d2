"""``dags lifecycle``: an expiry rule for the branch prefix, merged into the bucket's rules.

S3's PutBucketLifecycleConfiguration replaces the whole configuration, so the current rules are read
first and only our rule (found by its ID) is added or replaced; every other rule is kept as it was.

Objects expire by their own age, so set the expiry longer than any branch lives unpublished: a file
that expires while its branch is still live makes sync keep that branch's last good copy and report
it, and the next publish uploads the file again.
"""

from __future__ import annotations

import hashlib

from botocore.exceptions import ClientError

from .store import BranchStore

RULE_ID_PREFIX = "jupyter-remote-dev-dags-"


def rule_id(prefix: str) -> str:
    """Our rule's ID for a prefix (S3 allows 255 characters, so long prefixes are hashed)."""
    return RULE_ID_PREFIX + hashlib.sha256(prefix.encode()).hexdigest()[:16]


def expiry_rule(prefix: str, days: int) -> dict:
    """A rule expiring objects under ``prefix`` after ``days`` days, and stale multipart uploads."""
    if days < 1:
        raise ValueError("expiry days must be at least 1")
    return {
        "ID": rule_id(prefix),
        "Filter": {"Prefix": f"{prefix}/" if prefix else ""},
        "Status": "Enabled",
        "Expiration": {"Days": days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }


def merge_rules(existing: list[dict], rule: dict) -> list[dict]:
    """``existing`` with ``rule`` added, or replacing the rule with the same ID."""
    return [r for r in existing if r.get("ID") != rule["ID"]] + [rule]


def current_rules(store: BranchStore) -> list[dict]:
    """The bucket's lifecycle rules; an empty list when it has none."""
    try:
        response = store.client.get_bucket_lifecycle_configuration(Bucket=store.bucket)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchLifecycleConfiguration":
            return []
        raise
    return response.get("Rules", [])


def apply_expiry(store: BranchStore, days: int) -> list[dict]:
    """Write our expiry rule into the bucket's lifecycle configuration; return the new rules."""
    rules = merge_rules(current_rules(store), expiry_rule(store.prefix, days))
    store.client.put_bucket_lifecycle_configuration(
        Bucket=store.bucket, LifecycleConfiguration={"Rules": rules}
    )
    return rules

"""Branch slugs and branch DAG IDs.

A slug names a branch's folder in the bucket and on disk, and ends every branch DAG ID. It is our
own, not GitLab's ``CI_COMMIT_REF_SLUG``, which maps ``feature/A`` and ``feature-a`` to the same
name: a readable part (lowercase ASCII letters, digits and ``-``) plus a short hash of the full
branch name, so two different branches never share a slug.

Standard library only: the Airflow policy imports this module inside the DAG parser.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

#: Separates a DAG's own ID from its branch slug in a branch DAG ID.
DAG_ID_MARKER = "__br_"
#: Branch DAGs are tagged ``branch:<branch name>``.
TAG_PREFIX = "branch:"
#: Airflow's limit on a DAG ID's length and its allowed characters.
MAX_DAG_ID_LENGTH = 250
_DAG_ID_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
_SLUG_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?-[0-9a-f]{10}$")
_READABLE_LENGTH = 40
_HASH_LENGTH = 10
MAX_BRANCH_LENGTH = 1024


class BranchNameError(ValueError):
    """A branch name, slug or DAG ID that cannot be used."""


def normalize_branch(branch: str) -> str:
    """Strip the ``refs/heads/`` prefix CI systems sometimes pass, and refuse unusable names."""
    if not isinstance(branch, str) or not branch.strip():
        raise BranchNameError("the branch name is empty")
    if "\x00" in branch or len(branch) > MAX_BRANCH_LENGTH:
        raise BranchNameError("the branch name has a NUL byte or is over 1024 characters")
    branch = branch.strip()
    return branch.removeprefix("refs/heads/") or branch


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_LENGTH]


def branch_slug(branch: str) -> str:
    """Return the slug of a branch: ``<readable part>-<10 hex digits of sha256(branch)>``.

    ``refs/heads/x`` and ``x`` are the same branch. Unicode is folded to ASCII where it can be
    (``é`` -> ``e``); a name with nothing readable left becomes ``br-<hash>``.
    """
    branch = normalize_branch(branch)
    ascii_name = unicodedata.normalize("NFKD", branch).encode("ascii", "ignore").decode()
    readable = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    readable = readable[:_READABLE_LENGTH].strip("-") or "br"
    return f"{readable}-{_short_hash(branch)}"


def is_slug(text: str) -> bool:
    """True if ``text`` has the shape :func:`branch_slug` produces (and so is safe as a folder)."""
    return bool(_SLUG_RE.match(text)) and len(text) <= _READABLE_LENGTH + 1 + _HASH_LENGTH


def is_valid_dag_id(dag_id: str) -> bool:
    """True if Airflow accepts ``dag_id`` and it has no ``..``."""
    return (
        len(dag_id) <= MAX_DAG_ID_LENGTH and bool(_DAG_ID_RE.match(dag_id)) and ".." not in dag_id
    )


def branch_dag_id(dag_id: str, slug: str) -> str:
    """Return ``<dag_id>__br_<slug>``, shortened with a hash where needed to stay a valid ID.

    Idempotent: a DAG ID that already ends with this branch's suffix is returned unchanged.
    """
    if not is_slug(slug):
        raise BranchNameError(f"not a branch slug: {slug!r}")
    suffix = DAG_ID_MARKER + slug
    if dag_id.endswith(suffix) and is_valid_dag_id(dag_id):
        return dag_id
    base = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9_.-]", "_", dag_id))
    room = MAX_DAG_ID_LENGTH - len(suffix)
    if base != dag_id or len(base) > room:
        keep = room - _HASH_LENGTH - 1
        base = f"{base[:keep].rstrip('.')}_{_short_hash(dag_id)}"
    return base + suffix


def slug_of_dag_id(dag_id: str) -> str | None:
    """Return the branch slug a branch DAG ID ends with, or None for an ordinary DAG ID."""
    _, marker, slug = dag_id.rpartition(DAG_ID_MARKER)
    return slug if marker and is_slug(slug) else None

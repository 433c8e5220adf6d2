"""``dags fetch``: the worker init container's step.

A task of a branch DAG runs on a worker that has the main DAG folder but not the branch. The
suffixed DAG ID names the branch; only that branch's folder is fetched, into ``DIR/<slug>/``, the
same path the DAG processor parsed it at, so the policy derives the same DAG ID on the worker.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .slug import slug_of_dag_id
from .store import BranchStore
from .sync import mirror_branch

log = logging.getLogger(__name__)


class BranchGoneError(LookupError):
    """The DAG's branch is no longer published."""


def fetch_for_dag(
    store: BranchStore, dag_id: str, root: str | os.PathLike, retries: int = 3
) -> str | None:
    """Fetch the branch ``dag_id`` belongs to; return its slug, or None for a non-branch DAG."""
    slug = slug_of_dag_id(dag_id)
    if slug is None:
        log.info("%s is not a branch DAG: nothing to fetch", dag_id)
        return None
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    if mirror_branch(store, slug, root, retries=retries) is None:
        raise BranchGoneError(f"the branch of {dag_id} ({slug}) is no longer published")
    log.info("fetched branch %s for %s into %s", slug, dag_id, root / slug)
    return slug

"""Airflow cluster policy: give every DAG parsed from a branch folder its own DAG ID.

A DAG loaded from ``<branch root>/<slug>/...`` becomes ``<dag_id>__br_<slug>``. The branch comes
from the file's path alone, so the DAG processor and a worker that fetched the branch to the same
path agree on the ID. Inside the branch, ``ExternalTaskSensor``/``ExternalTaskMarker``
(``external_dag_id``) and ``TriggerDagRunOperator`` (``trigger_dag_id``) references to DAGs the
branch defines follow to the branch's copies. Branch DAGs start paused, carry a
``branch:<name>`` tag and show as ``<display name> [<branch>]``. Before each branch file is
imported, its imports are pointed at the branch's own helper modules (:mod:`.branch_imports`).
Running it twice changes nothing.

Shipped through the ``airflow.policy`` entry point, so installing the package in the Airflow image
is enough; it can also be used from ``airflow_local_settings.py``::

    from jupyter_remote_dev.airflow.policy import dag_policy, get_dagbag_import_timeout  # noqa

The branch root is read from ``JUPYTER_REMOTE_DEV_DAGS_BRANCH_ROOT`` (several roots separated by
``os.pathsep``); without it the policy leaves every DAG alone. This module imports only the standard
library and pluggy (Airflow's own dependency), so it costs the parser next to nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
from functools import lru_cache

import pluggy

from .branch_imports import prepare_imports
from .slug import TAG_PREFIX, branch_dag_id, is_slug, is_valid_dag_id

hookimpl = pluggy.HookimplMarker("airflow.policy")

BRANCH_ROOT_ENV = "JUPYTER_REMOTE_DEV_DAGS_BRANCH_ROOT"
#: Same as :data:`jupyter_remote_dev.airflow.publish.LOCAL_MANIFEST` (not imported: boto3).
LOCAL_MANIFEST = ".jupyter-remote-dev-branch.json"
#: Operator attributes that name another DAG.
REFERENCE_ATTRS = ("external_dag_id", "trigger_dag_id")
TAG_MAX_LENGTH = 100


def branch_roots() -> list[str]:
    """The configured branch roots, absolute and normalised."""
    value = os.environ.get(BRANCH_ROOT_ENV, "")
    return [os.path.normpath(os.path.abspath(p)) for p in value.split(os.pathsep) if p.strip()]


def locate_branch(fileloc: str | None, roots: list[str] | None = None) -> tuple[str, str] | None:
    """Return ``(slug, branch folder)`` if ``fileloc`` lies in a branch folder under a root."""
    if not fileloc:
        return None
    roots = branch_roots() if roots is None else roots
    candidates = {os.path.normpath(os.path.abspath(fileloc)), os.path.realpath(fileloc)}
    for root in roots:
        for real_root in {root, os.path.realpath(root)}:
            for path in candidates:
                rel = os.path.relpath(path, real_root)
                parts = rel.split(os.sep)
                if len(parts) >= 2 and parts[0] != ".." and is_slug(parts[0]):
                    return parts[0], os.path.join(real_root, parts[0])
    return None


@lru_cache(maxsize=256)
def _read_branch_info(path: str, mtime_ns: int) -> dict:
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    return {"branch": manifest.get("branch"), "dag_ids": frozenset(manifest.get("dag_ids", ()))}


def branch_info(branch_dir: str) -> dict:
    """The branch name and literal DAG IDs recorded by sync/fetch next to the branch's files."""
    path = os.path.join(branch_dir, LOCAL_MANIFEST)
    try:
        return _read_branch_info(path, os.stat(path).st_mtime_ns)
    except (OSError, ValueError):
        return {"branch": None, "dag_ids": frozenset()}


def _violation(message: str) -> Exception:
    try:
        from airflow.exceptions import AirflowClusterPolicyViolation
    except ImportError:  # outside Airflow (unit tests, docs)
        return ValueError(message)
    return AirflowClusterPolicyViolation(message)


def apply_branch_policy(dag, slug: str, branch_dir: str) -> None:
    """Rename ``dag`` and its in-branch references for ``slug``; pause it; tag it."""
    info = branch_info(branch_dir)
    new_id = branch_dag_id(dag.dag_id, slug)
    if not is_valid_dag_id(new_id):
        raise _violation(f"cannot make a valid branch DAG ID from {dag.dag_id!r}")
    in_branch = set(info["dag_ids"]) | {dag.dag_id}
    for task in dag.tasks:
        for attr in REFERENCE_ATTRS:
            target = getattr(task, attr, None)
            if isinstance(target, str) and target in in_branch:
                setattr(task, attr, branch_dag_id(target, slug))
    branch = info["branch"] or slug
    if dag.dag_id != new_id:
        display = getattr(dag, "dag_display_name", None) or dag.dag_id
        dag.dag_id = new_id
        if not display.endswith(f" [{branch}]"):
            with contextlib.suppress(AttributeError):  # read-only before Airflow 3
                dag.dag_display_name = f"{display} [{branch}]"
    dag.is_paused_upon_creation = True
    tag = f"{TAG_PREFIX}{branch}"[:TAG_MAX_LENGTH]
    tags = dag.tags if dag.tags is not None else set()
    if isinstance(tags, set):
        tags.add(tag)
    elif tag not in tags:
        tags = [*tags, tag]
    dag.tags = tags


@hookimpl(tryfirst=True)
def get_dagbag_import_timeout(dag_file_path: str) -> None:
    """Called by Airflow right before it imports each DAG file: make a branch file's imports
    resolve in its own branch folder (:mod:`.branch_imports`). Answers None, so the configured
    timeout (``core.dagbag_import_timeout`` or an ``airflow_local_settings`` hook) still rules."""
    roots = branch_roots()
    if roots:
        located = locate_branch(dag_file_path, roots)
        prepare_imports(located[1] if located else None, roots)


@hookimpl
def dag_policy(dag) -> None:
    """Airflow's ``dag_policy`` hook: apply the branch policy to DAGs from branch folders."""
    located = locate_branch(getattr(dag, "fileloc", None))
    if located is not None:
        apply_branch_policy(dag, *located)

"""``dags cleanup`` and ``dags reconcile``: remove branches from the bucket and from Airflow.

``cleanup --branch NAME`` is the CI stop job when a merge request is merged or closed.
``reconcile --live-branches FILE`` is the scheduled backstop: every folder in the bucket whose
branch is not in the list goes, and so does every branch DAG in Airflow whose branch is not live.
Keys are deleted in DeleteObjects calls of at most 1,000 keys, the manifest first so readers drop
the branch at once. With an Airflow URL and token, the branch's DAGs are deleted through
Airflow's REST API (``DELETE /api/v2/dags/{dag_id}``) too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import httpx

from .slug import DAG_ID_MARKER, branch_slug, is_slug, slug_of_dag_id
from .store import BranchStore

log = logging.getLogger(__name__)


class AirflowAPIError(RuntimeError):
    """Airflow's REST API refused a call."""


class AirflowAPI:
    """The two Airflow REST calls cleanup needs, with a bearer token (never logged).

    Parameters
    ----------
    url:
        Airflow's base URL, e.g. ``https://airflow.example.com``.
    token:
        An API token (Airflow 3: a JWT from ``/auth/token``) allowed to delete DAGs.
    api_version:
        ``v2`` (Airflow 3) or ``v1`` (Airflow 2).
    """

    page_size = 100

    def __init__(self, url: str, token: str, api_version: str = "v2", timeout: float = 30.0):
        if not url or not token:
            raise ValueError("Airflow cleanup needs both a URL and a token")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
            # not echoed: a URL with user:password@ would put a secret into the message
            raise ValueError("the Airflow URL must be http(s)://HOST[:PORT][/PATH], no credentials")
        self.client = httpx.Client(
            base_url=f"{url.rstrip('/')}/api/{api_version}/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def close(self) -> None:
        self.client.close()

    def branch_dag_ids(self) -> list[str]:
        """Every DAG ID Airflow knows with a branch suffix, stale ones included."""
        dag_ids, offset = [], 0
        while True:
            response = self.client.get(
                "dags",
                params={
                    "dag_id_pattern": DAG_ID_MARKER,
                    "exclude_stale": "false",
                    "limit": self.page_size,
                    "offset": offset,
                },
            )
            self._check(response, "list DAGs")
            page = response.json()
            dags = page.get("dags", [])
            dag_ids += [d["dag_id"] for d in dags if slug_of_dag_id(d["dag_id"])]
            offset += len(dags)
            if not dags or offset >= page.get("total_entries", 0):
                return dag_ids

    def delete_dag(self, dag_id: str) -> bool:
        """Delete one DAG's metadata; False if Airflow did not know it."""
        response = self.client.delete(f"dags/{quote(dag_id, safe='')}")
        if response.status_code == 404:
            return False
        self._check(response, f"delete {dag_id}")
        return True

    @staticmethod
    def _check(response: httpx.Response, what: str) -> None:
        if response.is_error:
            try:
                detail = response.json().get("detail", "")
            except ValueError:
                detail = response.text[:200]
            status = response.status_code
            raise AirflowAPIError(f"Airflow refused to {what}: HTTP {status} {detail}")


@dataclass
class CleanupReport:
    """What cleanup or reconcile removed."""

    slugs: list[str] = field(default_factory=list)
    keys_deleted: int = 0
    dags_deleted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _branch_dags(airflow: AirflowAPI | None, doomed: Callable[[str | None], bool]) -> list[str]:
    """The branch DAG IDs whose slug is ``doomed`` ([] without Airflow). Asked before anything is
    deleted, so a refused token or a wrong URL fails with the bucket unchanged."""
    if airflow is None:
        return []
    return [dag_id for dag_id in airflow.branch_dag_ids() if doomed(slug_of_dag_id(dag_id))]


def _delete_dags(airflow: AirflowAPI | None, dag_ids: Iterable[str], report: CleanupReport) -> None:
    for dag_id in dag_ids:
        try:
            if airflow.delete_dag(dag_id):
                report.dags_deleted.append(dag_id)
        except (AirflowAPIError, httpx.HTTPError) as error:
            report.errors.append(str(error))


def cleanup_branch(
    store: BranchStore, branch: str, airflow: AirflowAPI | None = None
) -> CleanupReport:
    """Remove one branch's folder from the bucket and its DAGs from Airflow."""
    slug = branch_slug(branch)
    report = CleanupReport(slugs=[slug])
    doomed = _branch_dags(airflow, lambda dag_slug: dag_slug == slug)
    report.keys_deleted = store.delete_branch(slug)
    _delete_dags(airflow, doomed, report)
    log.info("cleaned up %s (%s): %d keys", branch, slug, report.keys_deleted)
    return report


def read_live_branches(lines: Iterable[str]) -> set[str]:
    """Branch names, one a line; blank lines and ``#`` comments are skipped."""
    return {line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")}


def reconcile(
    store: BranchStore,
    live_branches: Iterable[str],
    airflow: AirflowAPI | None = None,
    allow_empty: bool = False,
) -> CleanupReport:
    """Remove every branch folder (and branch DAG) whose branch is not in ``live_branches``."""
    live = {branch_slug(b) for b in live_branches}
    if not live and not allow_empty:
        raise ValueError("the live branch list is empty; pass allow_empty to remove every branch")
    doomed = _branch_dags(airflow, lambda dag_slug: dag_slug not in live)
    report = CleanupReport()
    for slug in store.list_slugs():
        if is_slug(slug) and slug not in live:
            report.keys_deleted += store.delete_branch(slug)
            report.slugs.append(slug)
    _delete_dags(airflow, doomed, report)
    log.info("reconcile removed %d branches, %d keys", len(report.slugs), report.keys_deleted)
    return report

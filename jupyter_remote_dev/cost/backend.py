"""The Kubecost and OpenCost allocation APIs: one client, two dialects (contracts.md section 1).

Both products serve ``GET <base>/allocation`` with the same parameters and envelope; they differ in
the name of the idle switch and in which versions honour the v2 ``filter=``. One request per
report: daily sets (``accumulate=false&step=1d``) aggregated by the user cost label and filtered to
the user; totals are accumulated from the days, so total and trend always agree.

The idle switch is always sent, as the two products' defaults differ (Kubecost ``idle`` true,
OpenCost ``includeIdle`` false; contracts.md 1.2): true only where the cluster's idle capacity is
shown (the team and admin spend view), false for a user's own spend.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from ..errors import RemoteDevError
from .model import sanitize_label_name

#: Largest answer read from a backend (a cluster-wide answer when the filter is ignored).
MAX_ANSWER_BYTES = 64 * 1024 * 1024


class CostBackendError(RemoteDevError):
    """The cost backend is unreachable or answered an error (502)."""

    status = 502


class CostTimeoutError(CostBackendError):
    """The cost backend did not answer within the configured time (504)."""

    status = 504


class _FilterRejected(Exception):
    """The backend refused the v2 filter (a version that does not know it)."""


@dataclass(frozen=True)
class Dialect:
    """What differs between the products' allocation queries."""

    name: str
    idle_parameter: str


DIALECTS = {
    "kubecost": Dialect("kubecost", idle_parameter="idle"),
    "opencost": Dialect("opencost", idle_parameter="includeIdle"),
}


def display_url(url: str) -> str:
    """``url`` without credentials, query or fragment, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _error_text(body: bytes) -> str:
    """A short reason from an error body: JSON ``message`` if there is one, else the first line."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("message"), str):
        text = payload["message"]
    first_line = text.splitlines()[0] if text else "(empty body)"
    return first_line[:300]


class AllocationBackend:
    """Fetch daily allocation sets of one user (or of everyone) from Kubecost or OpenCost.

    ``user=None`` asks for every user's allocations; ``group_by`` adds label names to the
    aggregation (multi-aggregation keys join the values with ``/``, contracts.md 1.4); ``token``
    is sent as ``Authorization: token ...`` (the embedded default's local meter wants one);
    ``include_idle`` asks for the ``__idle__`` entry of unallocated capacity (contracts.md 1.7).
    """

    def __init__(
        self,
        kind: str,
        url: str,
        label: str,
        user: str | None,
        timeout: float,
        group_by: tuple[str, ...] = (),
        token: str = "",
        include_idle: bool = False,
    ):
        if kind not in DIALECTS:
            raise ValueError(f"cost backend must be one of {sorted(DIALECTS)}, got {kind!r}")
        self.dialect = DIALECTS[kind]
        self.endpoint = url.rstrip("/") + "/allocation"
        self.label = sanitize_label_name(label)
        self.group_by = tuple(sanitize_label_name(name) for name in group_by)
        self.user = user
        self.timeout = timeout
        self.filter_supported = user is not None
        self.headers = {"Authorization": f"token {token}"} if token else {}
        self.include_idle = include_idle

    @property
    def where(self) -> str:
        """The backend as named in error messages (no credentials)."""
        return f"{self.dialect.name} at {display_url(self.endpoint)}"

    def query(self, window: str, with_filter: bool) -> dict[str, str]:
        """The query parameters for daily sets of ``window`` aggregated by the user label."""
        params = {
            "window": window,
            "aggregate": ",".join(f"label:{name}" for name in (self.label, *self.group_by)),
            "accumulate": "false",
            "step": "1d",
            self.dialect.idle_parameter: "true" if self.include_idle else "false",
            "shareIdle": "false",
        }
        if with_filter:
            params["filter"] = f'label[{self.label}]:"{self.user}"'
        return params

    async def fetch_sets(self, window: str) -> list:
        """The list of allocation sets for ``window``; raises :class:`CostBackendError`.

        A backend that refuses the filter with a 400 naming it is asked once more without it, and
        not asked with it again; the caller filters by key in any case.
        """
        if self.filter_supported:
            try:
                return await self._get(self.query(window, with_filter=True))
            except _FilterRejected:
                self.filter_supported = False
        return await self._get(self.query(window, with_filter=False))

    async def _get(self, params: dict[str, str]) -> list:
        try:
            status, body = await asyncio.wait_for(self._request(params), self.timeout)
        except (asyncio.TimeoutError, httpx.TimeoutException) as error:
            raise CostTimeoutError(
                f"{self.where} did not answer within {self.timeout:g} s"
            ) from error
        except httpx.HTTPError as error:
            reason = str(error) or type(error).__name__
            raise CostBackendError(f"{self.where} is unreachable: {reason}") from error
        return self._parse(status, body, "filter" in params)

    async def _request(self, params: dict[str, str]) -> tuple[int, bytes]:
        async with httpx.AsyncClient(
            timeout=self.timeout, follow_redirects=False, headers=self.headers
        ) as client:
            async with client.stream("GET", self.endpoint, params=params) as response:
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_ANSWER_BYTES:
                        raise CostBackendError(
                            f"{self.where} answered more than {MAX_ANSWER_BYTES} bytes"
                        )
                    chunks.append(chunk)
                return response.status_code, b"".join(chunks)

    def _parse(self, status: int, body: bytes, filtered: bool) -> list:
        if status != 200:
            reason = _error_text(body)
            if filtered and status == 400 and "filter" in reason.lower():
                raise _FilterRejected(reason)
            raise CostBackendError(f"{self.where} answered HTTP {status}: {reason}")
        try:
            payload = json.loads(body)
        except ValueError as error:
            raise CostBackendError(f"{self.where} answered something that is not JSON") from error
        if not isinstance(payload, dict):
            raise CostBackendError(f"{self.where} answered JSON that is not an allocation response")
        code = payload.get("code", 200)
        if code != 200 or payload.get("status") == "error":
            reason = payload.get("message") or payload.get("status") or "no message"
            if filtered and code == 400 and "filter" in str(reason).lower():
                raise _FilterRejected(str(reason))
            raise CostBackendError(f"{self.where} reported error {code}: {str(reason)[:300]}")
        data = payload.get("data")
        if data is None:
            return []
        if not isinstance(data, list):
            raise CostBackendError(f"{self.where} answered data that is not a list of sets")
        return data

"""The per-user spend report: settings, backend, TTL cache and normalisation tied together."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import httpx

from ..errors import RemoteDevError
from .backend import DIALECTS, AllocationBackend
from .cache import SingleFlightCache
from .model import WINDOWS, is_valid_label_value, summarise


@dataclass(frozen=True)
class CostServiceConfig:
    """Where the spend comes from and whose it is (the server's own identity, never a request's)."""

    backend: str
    url: str
    label: str
    user: str
    currency: str = "USD"
    timeout: float = 10.0
    ttl: float = 300.0
    includes_ray: bool = False
    note: str = ""
    hub_auth: bool = False
    token: str = field(default="", repr=False)
    budget_url: str = ""
    server_token: str = field(default="", repr=False)

    def problem(self) -> str | None:
        """Why these settings cannot be used, or None when they can."""
        if not self.backend:
            return (
                "no cost backend configured (set JUPYTER_REMOTE_DEV_COST_BACKEND or cost_backend)"
            )
        if self.backend not in DIALECTS:
            return f"unknown cost backend {self.backend!r}; expected one of {sorted(DIALECTS)}"
        if not self.url:
            return "no cost backend URL configured (set JUPYTER_REMOTE_DEV_COST_URL or cost_url)"
        if not self.user:
            return "no cost user configured (set JUPYTER_REMOTE_DEV_COST_USER or cost_user)"
        if not is_valid_label_value(self.user):
            return f"cost user {self.user!r} is not a valid Kubernetes label value"
        if not self.label:
            return "no cost label configured (cost_label)"
        if self.hub_auth and not self.token:
            return "cost_hub_auth is set but this server has no JupyterHub API token"
        return None


def check_window(window: str) -> None:
    """Raise a 400 RemoteDevError unless ``window`` is one the report supports."""
    if window not in WINDOWS:
        raise RemoteDevError(
            f"window must be one of {', '.join(WINDOWS)}, got {window[:40]!r}", status=400
        )


class CostService:
    """Spend reports for one user, one upstream call per window per TTL however many ask."""

    def __init__(self, settings: CostServiceConfig):
        self.settings = settings
        self.problem = settings.problem()
        self.backend = None
        if self.problem is None:
            self.backend = AllocationBackend(
                settings.backend,
                settings.url,
                settings.label,
                settings.user,
                settings.timeout,
                token=settings.token,
            )
        self.cache: SingleFlightCache[dict] = SingleFlightCache(settings.ttl)
        self.budget_cache: SingleFlightCache[dict] = SingleFlightCache(min(settings.ttl, 60.0))

    @property
    def configured(self) -> bool:
        return self.problem is None

    def start(self) -> None:
        """Nothing to start: reports are fetched when asked for."""

    async def stop(self) -> None:
        """Nothing to stop: each backend call opens and closes its own client."""

    async def report(self, window: str) -> dict:
        """The spend report for ``window`` (``configured: false`` and why, when the settings
        cannot be used); raises RemoteDevError (400 bad window, 502/504)."""
        check_window(window)
        if self.problem is not None:
            return {"configured": False, "message": self.problem}
        return await self.cache.get(window, lambda: self._load(window))

    async def budget(self) -> dict:
        """This server's user's budget status from the spend view (``configured: false`` when
        none is configured), asked with the server's own hub token; 502/504 when it fails."""
        if not self.settings.budget_url or not self.settings.server_token:
            return {"configured": False}
        return await self.budget_cache.get("budget", self._load_budget)

    async def _load_budget(self) -> dict:
        headers = {"Authorization": f"token {self.settings.server_token}"}
        url = self.settings.budget_url
        try:
            async with httpx.AsyncClient(timeout=self.settings.timeout, headers=headers) as client:
                response = await client.get(url)
        except httpx.TimeoutException:
            raise RemoteDevError("the spend view did not answer in time", status=504) from None
        except httpx.HTTPError as error:
            reason = str(error) or type(error).__name__
            raise RemoteDevError(f"the spend view is unreachable: {reason}", status=502) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code != 200 or not isinstance(answer, dict):
            message = answer.get("message") if isinstance(answer, dict) else None
            raise RemoteDevError(
                f"the spend view answered HTTP {response.status_code}: {message or 'no message'}",
                status=502,
            )
        return answer

    async def _load(self, window: str) -> dict:
        sets = await self.backend.fetch_sets(window)
        now = datetime.now(timezone.utc)
        settings = self.settings
        summary = summarise(sets, settings.label, settings.user, window, now.date())
        return {
            "configured": True,
            "user": settings.user,
            "window": window,
            "currency": settings.currency,
            **summary,
            "includes_ray": settings.includes_ray,
            "note": settings.note or None,
            "source": settings.backend,
            "updated_at": now.isoformat(timespec="seconds"),
        }

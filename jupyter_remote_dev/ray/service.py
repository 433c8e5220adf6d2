"""The Ray area's owner: where the cluster and its dashboard are, whose jobs, which limits."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConflictError
from .dashboard import Dashboard


@dataclass
class RayService:
    """One per server (built by :meth:`.settings.RaySettings.make_ray_service`); each request
    opens its own :class:`Dashboard` client with :meth:`dashboard`."""

    root: str
    address: str
    dashboard_url: str
    cluster_name: str
    state_file: str
    timeout: float
    request_timeout: float
    log_poll_interval: float
    log_follow_timeout: float
    max_working_dir_size: int
    allow_job_submission: bool
    job_owner: str

    @property
    def configured(self) -> bool:
        return bool(self.address or self.dashboard_url)

    def checked_dashboard_url(self) -> str:
        """The dashboard's URL; 409 naming the setting when Ray is not configured."""
        if not self.dashboard_url:
            raise ConflictError(
                "Ray is not configured on this server: set JUPYTER_REMOTE_DEV_RAY_DASHBOARD_URL "
                "or c.RemoteDevExtension.ray_dashboard_url"
            )
        return self.dashboard_url.rstrip("/")

    def dashboard(self) -> Dashboard:
        """A client of the dashboard's REST API (``async with`` it)."""
        return Dashboard(self.checked_dashboard_url(), self.request_timeout)

    def start(self) -> None:
        """Nothing to start: every request opens its own client."""

    async def stop(self) -> None:
        """Nothing to stop."""

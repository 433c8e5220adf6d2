"""Settings of the user's Ray cluster: its addresses, probes, jobs and log streaming."""

from __future__ import annotations

import os

from traitlets import Bool, Float, HasTraits, Int, Unicode, default, validate

from ..base.validators import positive


class RaySettings(HasTraits):
    """Where the cluster is, how long to wait for it, and what job submission may do."""

    ray_address = Unicode(
        config=True,
        help="""Ray Client address of the user's cluster, e.g.
        ray://<cluster>-head-svc.<namespace>.svc.cluster.local:10001 (what ray.init() reads from
        RAY_ADDRESS). Shown in the panel and probed for reachability. Default: $RAY_ADDRESS (set by
        the hub hooks).""",
    )
    ray_dashboard_url = Unicode(
        config=True,
        help="""Base URL of the Ray dashboard (port 8265), used for the version check, job
        submission and the proxied dashboard. Default: $JUPYTER_REMOTE_DEV_RAY_DASHBOARD_URL, else
        http://<host of ray_address>:8265 when ray_address is a ray:// URL (KubeRay's layout).""",
    )
    ray_cluster_name = Unicode(
        config=True,
        help="""Name of the user's RayCluster, for display only.
        Default: $JUPYTER_REMOTE_DEV_RAY_CLUSTER.""",
    )
    ray_state_file = Unicode(
        config=True,
        help="""State file of a local Ray launcher (the one-machine hub's ray-head service):
        while it says the head is starting, GET ray answers state "starting" rather than
        "unreachable". Default: $JUPYTER_REMOTE_DEV_RAY_STATE_FILE.""",
    )
    ray_timeout = Float(
        3.0,
        config=True,
        help="""Seconds GET ray waits for the client port and the dashboard before it reports the
        cluster unreachable (both are probed at once, so the answer comes within this bound).""",
    )
    ray_request_timeout = Float(
        30.0,
        config=True,
        help="""Seconds a Jobs API or proxied dashboard request may take; slower answers 504.""",
    )
    ray_log_poll_interval = Float(
        1.0,
        config=True,
        help="""Seconds between polls of a job's logs while GET ray/jobs/<id>/logs?follow=1
        streams them.""",
    )
    ray_log_follow_timeout = Float(
        6 * 3600.0,
        config=True,
        help="""Longest a log-follow stream stays open; it then ends with a "timeout" event (the
        job keeps running; follow again to continue).""",
    )
    ray_max_working_dir_size = Int(
        100 * 1024**2,
        config=True,
        help="""Largest working_dir (total file bytes before compression) a job submission may
        upload to the cluster. Ray keeps packages in its GCS, which refuses more than 512 MiB;
        put data sets in object storage instead.""",
    )
    ray_allow_job_submission = Bool(
        True,
        config=True,
        help="""Allow POST ray/jobs. A job runs arbitrary code on the cluster, so submission is
        also bound by the authorizer's rules for the 'terminals' resource.""",
    )
    ray_job_owner = Unicode(
        config=True,
        help="""Name recorded in the metadata of jobs submitted through this server; GET ray/jobs
        lists that owner's jobs (?all=1 lists every job) and stop refuses jobs recorded for another
        owner. Default: $JUPYTERHUB_USER, else the local user name.""",
    )

    @default("ray_address")
    def _ray_address_default(self):
        return os.environ.get("RAY_ADDRESS", "").strip()

    @default("ray_dashboard_url")
    def _ray_dashboard_url_default(self):
        from .dashboard import default_dashboard_url

        url = os.environ.get("JUPYTER_REMOTE_DEV_RAY_DASHBOARD_URL", "").strip()
        return url or default_dashboard_url(self.ray_address)

    @default("ray_cluster_name")
    def _ray_cluster_name_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_RAY_CLUSTER", "")

    @default("ray_state_file")
    def _ray_state_file_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_RAY_STATE_FILE", "").strip()

    @default("ray_job_owner")
    def _ray_job_owner_default(self):
        from ..user import current_user

        return current_user()

    @validate("ray_dashboard_url")
    def _ray_dashboard_url_valid(self, proposal):
        from urllib.parse import urlsplit

        parts = urlsplit(proposal.value)
        if proposal.value and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise ValueError(f"ray_dashboard_url must be an http(s) URL, got {proposal.value!r}")
        if parts.username or parts.password:
            raise ValueError("ray_dashboard_url must not carry credentials")
        return proposal.value.rstrip("/")

    _ray_positive = positive(
        "ray_timeout",
        "ray_request_timeout",
        "ray_log_poll_interval",
        "ray_log_follow_timeout",
        "ray_max_working_dir_size",
    )

    def make_ray_service(self, root: str):
        """The Ray area's owner, from these traits (the only place they are copied)."""
        from .service import RayService

        return RayService(
            root=root,
            address=self.ray_address,
            dashboard_url=self.ray_dashboard_url,
            cluster_name=self.ray_cluster_name,
            state_file=self.ray_state_file,
            timeout=self.ray_timeout,
            request_timeout=self.ray_request_timeout,
            log_poll_interval=self.ray_log_poll_interval,
            log_follow_timeout=self.ray_log_follow_timeout,
            max_working_dir_size=self.ray_max_working_dir_size,
            allow_job_submission=self.ray_allow_job_submission,
            job_owner=self.ray_job_owner,
        )

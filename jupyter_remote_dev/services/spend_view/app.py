"""The spend view service: OAuth through the hub, one page and one JSON endpoint.

Run by the hub (``configure_spend_view``) as ``python -m jupyter_remote_dev.services.spend_view``;
JupyterHub hands it its URL, prefix and API token in ``JUPYTERHUB_*`` variables.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import httpx
from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import web
from traitlets import Bool, Float, Instance, Unicode, default
from traitlets.config import Application

from ...budgets.guard import SpawnRequest
from ...budgets.scope import Actor
from ...cost.backend import DIALECTS, AllocationBackend
from ...cost.cache import SingleFlightCache
from ...errors import RemoteDevError
from .access import BUDGET_SCOPE, SPEND_SCOPE, Visibility, visibility
from .athena import latest_report
from .budgets import BudgetService, actor_of
from .page import render_page
from .summary import build_view, iso_week, last_complete_week, week_name, window


def _env(name: str, fallback: str = "") -> str:
    return os.environ.get(f"JUPYTER_REMOTE_DEV_SPEND_{name}", fallback)


class SpendViewApp(Application):
    """Spend per user and per team for the platform team and team leads."""

    name = "jupyter-remote-dev-spend-view"
    cost_backend = Unicode(help="kubecost or opencost ($JUPYTER_REMOTE_DEV_SPEND_BACKEND).").tag(
        config=True
    )
    cost_url = Unicode(help="Base URL of the allocation API ($..._SPEND_URL).").tag(config=True)
    user_label = Unicode(
        "hub.jupyter.org/username", help="The pod label carrying the user (as the hooks set it)."
    ).tag(config=True)
    team_label = Unicode(
        "team", help="The pod label carrying the team (CostLabels.team_label)."
    ).tag(config=True)
    currency = Unicode("USD", help="Currency the backend reports in.").tag(config=True)
    idle_threshold = Float(
        0.05, help="A server whose usage is below this share of its request for the week is idle."
    ).tag(config=True)
    timeout = Float(20.0, help="Seconds allowed for one backend call.").tag(config=True)
    ttl = Float(300.0, help="Seconds a week's figures are cached.").tag(config=True)
    athena_report_dir = Unicode(help="Folder of the weekly Athena reports ($..._ATHENA_DIR).").tag(
        config=True
    )
    cache = Instance(SingleFlightCache, help="A week's allocation sets, kept for ttl seconds.")
    hub_auth = Bool(
        False,
        help="Send the service's own hub token to the backend: the embedded default's local meter "
        "answers it with every user. Leave off for Kubecost or OpenCost (they would receive it).",
    ).tag(config=True)

    @default("cost_backend")
    def _backend_default(self):
        return _env("BACKEND")

    @default("cost_url")
    def _url_default(self):
        return _env("URL")

    @default("athena_report_dir")
    def _athena_default(self):
        return _env("ATHENA_DIR")

    @default("cache")
    def _cache_default(self):
        return SingleFlightCache(self.ttl)

    def problem(self) -> str | None:
        """Why the backend settings cannot be used, or None."""
        if self.cost_backend not in DIALECTS:
            return f"cost backend must be one of {sorted(DIALECTS)}, got {self.cost_backend!r}"
        if not self.cost_url:
            return "no cost URL (JUPYTER_REMOTE_DEV_SPEND_URL)"
        return None

    def backend(self) -> AllocationBackend:
        """Every user's allocations by user and team, with the cluster's idle capacity."""
        return AllocationBackend(
            self.cost_backend,
            self.cost_url,
            self.user_label,
            None,
            self.timeout,
            (self.team_label,),
            token=os.environ.get("JUPYTERHUB_API_TOKEN", "") if self.hub_auth else "",
            include_idle=True,
        )

    budgets: BudgetService | None = None

    async def week_view(self, week: str, allowed: set[str] | None) -> dict:
        """The view of ISO ``week`` (ValueError if it is none) for a viewer who sees ``allowed``
        users (None: everyone, with the cluster's figures); RemoteDevError from the backend."""
        start, _ = iso_week(week)
        previous = week_name(start - timedelta(days=7))
        backend = self.backend()
        current = await self.cache.get(week, lambda: backend.fetch_sets(window(week)))
        before = await self.cache.get(previous, lambda: backend.fetch_sets(window(previous)))
        result = build_view(
            week,
            current,
            before,
            (self.user_label, self.team_label),
            lambda user, _team: allowed is None or user in allowed,
            self.idle_threshold,
            show_cluster=allowed is None,
            currency=self.currency,
        )
        result["currency"] = self.currency
        result["previous_week"] = previous
        report = latest_report(self.athena_report_dir)
        result["athena"] = report.summary if report else None
        return result

    def make_app(self) -> web.Application:
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
        settings = {
            "spend_view": self,
            "budgets": self.budgets,
            "cookie_secret": os.urandom(32),
            "xsrf_cookies": False,
        }
        return web.Application(
            [
                (prefix, PageHandler),
                (url_path_join(prefix, "api/spend"), SpendHandler),
                (url_path_join(prefix, "athena/report.html"), AthenaHandler),
                (url_path_join(prefix, "api/budget"), BudgetHandler),
                (url_path_join(prefix, "api/budgets"), BudgetsHandler),
                (url_path_join(prefix, "api/guard"), GuardHandler),
                (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
            ],
            **settings,
        )

    def start(self):
        problem = self.problem()
        if problem:
            self.log.error("spend view not started: %s", problem)
            self.exit(1)
        url = urlsplit(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10102"))
        self.budgets = BudgetService.from_env(self.backend, self.user_label, self.week_view)
        self.make_app().listen(url.port or 80, url.hostname or "127.0.0.1")
        self.log.info("spend view on %s", url.geturl())
        loop = asyncio.get_event_loop()
        if self.budgets is not None:
            loop.call_soon(self.budgets.start)
        loop.run_forever()


class _Base(HubOAuthenticated, web.RequestHandler):
    """Hub login; then the viewer's spend scope decides what they see (403 without it)."""

    @property
    def app(self) -> SpendViewApp:
        return self.settings["spend_view"]

    def viewer(self) -> Visibility:
        seen = visibility(self.current_user.get("scopes", []))
        if seen is None:
            raise web.HTTPError(403, f"your account lacks the {SPEND_SCOPE} scope")
        return seen

    def budget_actor(self) -> Actor:
        """Who asks about budgets: a viewer (admin or lead), or a user reading their own."""
        scopes = self.current_user.get("scopes", [])
        seen = visibility(scopes)
        if seen is None and BUDGET_SCOPE not in scopes:
            raise web.HTTPError(403, f"your token lacks the {BUDGET_SCOPE} scope")
        return actor_of(self.current_user["name"], seen)

    @property
    def budgets(self) -> BudgetService:
        service = self.settings.get("budgets")
        if service is None:
            raise web.HTTPError(404, "no budgets are configured on this hub")
        return service

    async def members(self, seen: Visibility) -> set[str]:
        """The users a filtered viewer may see (group members from the hub API)."""
        names = set(seen.users)
        api = os.environ["JUPYTERHUB_API_URL"]
        headers = {"Authorization": f"token {os.environ['JUPYTERHUB_API_TOKEN']}"}
        try:
            async with httpx.AsyncClient(timeout=10, headers=headers) as client:
                for group in sorted(seen.groups):
                    response = await client.get(url_path_join(api, "groups", group))
                    if response.status_code == 404:
                        continue  # a role naming a group that does not exist (yet) shows no one
                    response.raise_for_status()
                    names.update(response.json().get("users", []))
        except (httpx.HTTPError, ValueError) as error:
            raise web.HTTPError(502, f"the hub's group list is unavailable: {error}") from None
        return names

    async def view(self, week: str | None) -> dict:
        seen = self.viewer()
        week = week or last_complete_week(datetime.now(timezone.utc))
        allowed = None if seen.everyone else await self.members(seen)
        try:
            result = await self.app.week_view(week, allowed)
        except ValueError as error:
            raise web.HTTPError(400, str(error)) from None
        except RemoteDevError as error:
            raise web.HTTPError(error.status, str(error)) from None
        result["viewer"] = self.current_user["name"]
        result["scope"] = "everyone" if seen.everyone else "filtered"
        return result

    def write_error(self, status_code, **kwargs):
        error = kwargs.get("exc_info", (None, None))[1]
        message = getattr(error, "log_message", None) or self._reason
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message}))


class PageHandler(_Base):
    @web.authenticated
    async def get(self):
        result = await self.view(self.get_argument("week", None))
        if self.settings.get("budgets") is not None:
            result["budgets"] = await self.budgets.overview(self.budget_actor())
            result["xsrf"] = self.xsrf_token.decode()
        self.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
        self.finish(render_page(result))


class SpendHandler(_Base):
    @web.authenticated
    async def get(self):
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(await self.view(self.get_argument("week", None))))


class AthenaHandler(_Base):
    @web.authenticated
    async def get(self):
        self.viewer()
        report = latest_report(self.app.athena_report_dir)
        if report is None or report.html is None:
            raise web.HTTPError(404, "no Athena report has been written yet")
        with open(report.html, "rb") as f:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(f.read())


class BudgetHandler(_Base):
    """GET api/budget: the caller's own budget status (``?user=`` another's, within scope)."""

    @web.authenticated
    async def get(self):
        actor = self.budget_actor()
        user = self.get_argument("user", actor.name)
        try:
            answer = await self.budgets.status(actor, user)
        except RemoteDevError as error:
            raise web.HTTPError(error.status, str(error)) from None
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(answer))


class BudgetsHandler(_Base):
    """GET api/budgets: budgets, changes and alerts a viewer may see; POST: set or remove one
    (JSON ``{"kind", "name", "budget"}``, or the page's form, which returns to the page)."""

    @web.authenticated
    async def get(self):
        self.viewer()
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(await self.budgets.overview(self.budget_actor())))

    @web.authenticated
    async def post(self):
        self.viewer()
        form = not self.request.headers.get("Content-Type", "").startswith("application/json")
        kind, name, spec = change_of(self.request.body, form and self.request.body_arguments)
        try:
            answer = await self.budgets.change(self.budget_actor(), kind, name, spec)
        except RemoteDevError as error:
            raise web.HTTPError(error.status, str(error)) from None
        if form:
            return self.redirect(url_path_join(os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/"),
                                               "#budgets"), status=303)  # fmt: skip
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(answer))


class GuardHandler(_Base):
    """GET api/guard?user=&kind=server|ray&cpu=&gpu=&profile=: the guard rail's refusal (or
    null) for a spawn; for the hub's pre-spawn hook (an unfiltered spend scope only)."""

    @web.authenticated
    async def get(self):
        if not self.viewer().everyone:
            raise web.HTTPError(403, f"the guard rail needs the unfiltered {SPEND_SCOPE} scope")
        kind = self.get_argument("kind", "server")
        try:
            cpu, gpu = float(self.get_argument("cpu", "0")), float(self.get_argument("gpu", "0"))
        except ValueError:
            raise web.HTTPError(400, "cpu and gpu must be numbers") from None
        if kind not in ("server", "ray"):
            raise web.HTTPError(400, "kind must be server or ray")
        request = SpawnRequest(kind, cpu, gpu, self.get_argument("profile", ""))
        refusal = await self.budgets.guard(self.get_argument("user"), request)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"refusal": refusal}))


def change_of(body: bytes, form: dict | None) -> tuple[str, str, object]:
    """(kind, name, budget or None) of a change request; 400 naming what is wrong."""
    if form:
        fields = {k: v[-1].decode("utf-8", "replace") for k, v in form.items()}
        try:
            amount = None if fields.get("remove") else float(fields.get("amount", ""))
        except ValueError:
            raise web.HTTPError(400, "amount must be a number") from None
        spec = None if amount is None else {"amount": amount,
                                            "period": fields.get("period", "month")}  # fmt: skip
        request = {"kind": fields.get("kind"), "name": fields.get("name", ""), "budget": spec}
    else:
        try:
            request = json.loads(body or b"null")
        except ValueError:
            raise web.HTTPError(400, "the body must be JSON") from None
    if not isinstance(request, dict) or not isinstance(request.get("kind"), str):
        raise web.HTTPError(400, 'give {"kind": ..., "name": ..., "budget": ...}')
    name = request.get("name", "")
    if not isinstance(name, str):
        raise web.HTTPError(400, "name must be a string")
    return request["kind"], name, request.get("budget")

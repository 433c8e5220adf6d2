"""The spend view's budgets (issue 25): the owner of the budget book, the alert loop and delivery.

:class:`BudgetService` holds what :mod:`jupyter_remote_dev.budgets` needs at run time: the budgets
of ``configure(c, budgets=...)`` (``$JUPYTER_REMOTE_DEV_SPEND_BUDGETS``) overlaid by those set in
the view (``<state dir>/budgets.sqlite``, audited), every user's spend this month and week from the
view's backend, group membership from the hub, and the alert loop with its channels (e-mail from
``$JUPYTER_REMOTE_DEV_SMTP_*``, a webhook from ``$JUPYTER_REMOTE_DEV_BUDGET_WEBHOOK``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
from jupyterhub.utils import url_path_join

from ...budgets.book import BudgetBook
from ...budgets.channels import EmailChannel, WebhookChannel
from ...budgets.config import BudgetConfig, parse_budgets
from ...budgets.digest import AtRisk, build_digest
from ...budgets.dispatch import Dispatcher
from ...budgets.guard import GuardRail, SpawnRequest, check_spawn, parse_guard_rail
from ...budgets.notify import evaluate_and_notify
from ...budgets.periods import ON_TRACK, project
from ...budgets.rightsizing import accumulate, hints, items_by_key
from ...budgets.scope import Actor
from ...budgets.sidebar import budget_answer
from ...budgets.spend import spend_by_user, spend_window
from ...budgets.store import BudgetStore
from ...cost.backend import AllocationBackend
from ...cost.cache import SingleFlightCache
from ...cost.model import item_date, sanitize_label_name
from .access import Visibility
from .summary import last_complete_week

log = logging.getLogger(__name__)
HINT_DAYS = 7


def env(name: str, fallback: str = "") -> str:
    return os.environ.get(f"JUPYTER_REMOTE_DEV_{name}", fallback)


class HubGroups:
    """Every group's members, from the hub API with the service's own token (cached briefly)."""

    def __init__(self, api_url: str, token: str, ttl: float = 60.0):
        self.api_url, self.token = api_url, token
        self.cache: SingleFlightCache[dict] = SingleFlightCache(ttl)

    async def members(self) -> dict[str, list[str]]:
        """``{group: [users]}``."""
        return await self.cache.get("groups", self._load)

    async def _load(self) -> dict[str, list[str]]:
        headers = {
            "Authorization": f"token {self.token}",
            "Accept": "application/jupyterhub-pagination+json",
        }
        found, offset = {}, 0
        async with httpx.AsyncClient(timeout=10, headers=headers) as client:
            while True:
                response = await client.get(
                    url_path_join(self.api_url, "groups"), params={"offset": offset}
                )
                response.raise_for_status()
                page = response.json()
                for group in page["items"]:
                    found[group["name"]] = list(group.get("users", []))
                following = page.get("_pagination", {}).get("next")
                if not following or not page["items"]:
                    return found
                offset = following["offset"]

    async def groups_of(self) -> dict[str, list[str]]:
        """``{user: [groups]}``."""
        inverted: dict[str, list[str]] = {}
        for group, users in (await self.members()).items():
            for user in users:
                inverted.setdefault(user, []).append(group)
        return inverted


def actor_of(name: str, seen: Visibility | None) -> Actor:
    """The budget actor of a viewer: the unfiltered spend scope is an admin, ``!group=`` a lead."""
    if seen is None:
        return Actor(name)
    return Actor(name, admin=seen.everyone, leads=frozenset(seen.groups))


def channels_from_env() -> list:
    """The e-mail channel (when ``$JUPYTER_REMOTE_DEV_SMTP_HOST`` is set) and the webhook."""
    found = []
    email = EmailChannel.from_env()
    if email is not None:
        found.append(email)
    if env("BUDGET_WEBHOOK"):
        found.append(WebhookChannel(env("BUDGET_WEBHOOK")))
    return found


class BudgetService:
    """Budgets in effect, each user's status and hints, and the periodic alert evaluation."""

    def __init__(
        self,
        config: BudgetConfig,
        store: BudgetStore,
        backend: Callable[[], AllocationBackend],
        user_label: str,
        groups: HubGroups,
        interval: float = 600.0,
        leads: dict[str, list[str]] | None = None,
        address_template: str = "",
        channels: list | None = None,
        week_view: Callable[[str, set[str] | None], Awaitable[dict]] | None = None,
        rail: GuardRail = GuardRail(),
    ):
        self.book = BudgetBook(config, store)
        self.backend, self.user_label, self.groups = backend, user_label, groups
        self.interval = interval
        self.leads = leads or {}
        self.address_template = address_template
        self.dispatcher = Dispatcher(channels if channels is not None else channels_from_env())
        self.spend_cache: SingleFlightCache[list] = SingleFlightCache(min(interval, 60.0))
        self.task: asyncio.Task | None = None
        self.week_view = week_view
        self.rail = rail
        self.last_spend: dict[str, dict[date, float]] = {}

    @classmethod
    def from_env(cls, backend, user_label: str, week_view=None) -> BudgetService | None:
        """The service ``configure(c, budgets=...)`` asked for, or None when it asked for none."""
        spec = env("SPEND_BUDGETS")
        if not spec:
            return None
        folder = Path(env("SPEND_STATE_DIR") or "remote-dev-spend")
        return cls(
            parse_budgets(json.loads(spec)),
            BudgetStore(folder / "budgets.sqlite"),
            backend,
            user_label,
            HubGroups(os.environ["JUPYTERHUB_API_URL"], os.environ["JUPYTERHUB_API_TOKEN"]),
            float(env("SPEND_ALERT_INTERVAL", "600")),
            json.loads(env("SPEND_TEAM_LEADS", "{}")),
            env("SPEND_EMAIL_TEMPLATE"),
            week_view=week_view,
            rail=parse_guard_rail(json.loads(env("SPEND_GUARD_RAIL", "{}"))),
        )

    # ----- reading -----
    async def sets(self) -> list:
        """Every user's allocation sets from the start of this month and week (cached briefly)."""
        return await self.spend_cache.get(
            "spend",
            lambda: self.backend().fetch_sets(spend_window(datetime.now(timezone.utc))),
        )

    def hints_for(self, sets: list, users: set[str] | None, now: datetime) -> list:
        """Right-sizing hints per user of ``users`` (None: everyone) from the last week's items."""
        prefix, since = (
            sanitize_label_name(self.user_label) + "=",
            (now - timedelta(HINT_DAYS)).date(),
        )
        items = []
        for key, item in items_by_key(sets):
            user = key.split("/", 1)[0].removeprefix(prefix)
            if (users is None or user in users) and (item_date(item) or since) >= since:
                items.append((user, item))
        return hints(accumulate(items))

    async def status(self, actor: Actor, user: str) -> dict:
        """``user``'s budget, spend, projection, this period's alerts and hints (the sidebar's
        answer); a BudgetScopeError (403) unless ``actor`` may read it."""
        groups_of = await self.groups.groups_of()
        resolved = self.book.user_budget(actor, user, groups_of.get(user, ()))
        if resolved is None:
            return {"configured": False}
        now = datetime.now(timezone.utc)
        sets = await self.sets()
        daily = spend_by_user(sets, self.user_label).get(user, {})
        found = self.hints_for(sets, {user}, now)
        return budget_answer(
            resolved,
            [{"date": day.isoformat(), "total": cost} for day, cost in daily.items()],
            now,
            self.book.config.currency,
            self.book.store.alerts("user", user),
            found,
        )

    async def overview(self, actor: Actor) -> dict:
        """The budgets, changes and alerts ``actor`` may see (everything for an admin; a lead's
        groups and their members)."""
        config = self.book.current().to_dict()
        members = await self.groups.members()
        visible_users = {u for g in actor.leads for u in members.get(g, ())}

        def sees(kind: str, name: str) -> bool:
            if actor.admin:
                return True
            if kind in ("group", "member"):
                return name in actor.leads
            return kind == "user" and name in visible_users

        config["groups"] = {g: b for g, b in config["groups"].items() if sees("group", g)}
        config["users"] = {u: b for u, b in config["users"].items() if sees("user", u)}
        if not actor.admin:
            config.pop("default", None)
        return {
            "budgets": config,
            "admin": actor.admin,
            "leads": sorted(actor.leads),
            "audit": [a for a in self.book.store.audit() if sees(a["kind"], a["name"])],
            "alerts": [
                a for a in self.book.store.alerts() if sees(a["subject_kind"], a["subject"])
            ],
        }

    async def change(self, actor: Actor, kind: str, name: str, spec: object | None) -> dict:
        """Set (``spec``) or remove (None) one budget as ``actor``: audited; 400/403 errors."""
        groups_of = await self.groups.groups_of()
        self.book.set(actor, kind, name, spec, groups_of)
        return await self.overview(actor)

    async def guard(self, user: str, request: SpawnRequest) -> str | None:
        """Why the guard rail refuses ``request`` for ``user`` now, or None."""
        groups = (await self.groups.groups_of()).get(user, [])
        config = self.book.current()
        resolved = config.resolve(user, groups)
        if resolved is None or not self.rail.enabled:
            return None
        daily = spend_by_user(await self.sets(), self.user_label).get(user, {})
        status = project(resolved.budget, daily, datetime.now(timezone.utc))
        return check_spawn(
            self.rail, request, user, groups, resolved, status, self.leads, config.currency
        )

    # ----- the alert loop -----
    def start(self) -> None:
        self.dispatcher.start()
        self.task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.dispatcher.close()

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
                if self.week_view is not None:
                    await self.digests(datetime.now(timezone.utc))
            except Exception as error:  # a bad tick (backend or hub down) waits for the next
                log.warning("budget evaluation failed: %s", error)
            await asyncio.sleep(self.interval)

    def address_of(self, user: str) -> str | None:
        return self.address_template.format(user=user) if self.address_template else None

    async def tick(self) -> list:
        """One evaluation: every user's and group's new alerts, recorded and queued."""
        spend = spend_by_user(await self.backend().fetch_sets(
            spend_window(datetime.now(timezone.utc))), self.user_label)  # fmt: skip
        self.last_spend = spend
        alerts = evaluate_and_notify(
            self.book,
            spend,
            await self.groups.groups_of(),
            datetime.now(timezone.utc),
            self.dispatcher,
            self.address_of,
            self.leads,
        )
        for alert in alerts:
            log.info("budget alert for %s %s: %s", alert.subject_kind, alert.subject, alert.text)
        return alerts

    # ----- the weekly digest -----
    async def digests(self, now: datetime) -> list[str]:
        """The last complete week's digest for the admins and each group's leads, each sent once
        (recorded in the alert ledger as ``digest``); returns the readers it went to now."""
        week = last_complete_week(now)
        members = await self.groups.members()
        readers: list[tuple[str, set[str] | None, tuple[str, ...] | None]] = [
            ("admins", None, None)
        ]
        for group, leads in sorted(self.leads.items()):
            to = tuple(a for a in map(self.address_of, leads) if a)
            readers.append((group, set(members.get(group, ())), to))
        config, sent = self.book.current(), []
        for reader, allowed, to in readers:
            if any(a["period_start"] == week for a in self.book.store.alerts("digest", reader)):
                continue
            view = await self.week_view(week, allowed)
            message = build_digest(
                reader, view, self.at_risk(config, reader, allowed, members, now),
                self.hints_for(await self.sets(), allowed, now),
                athena=view.get("athena"), currency=config.currency, to=to,
            )  # fmt: skip
            if self.book.store.claim_alert("digest", reader, week, "weekly", message.subject):
                self.dispatcher.submit(message)
                sent.append(reader)
        return sent

    def at_risk(self, config, reader, allowed, members, now) -> list[AtRisk]:
        """Budgets of ``reader``'s users and groups that are not on track, projected from the
        spend the loop's last evaluation read."""
        risky = []
        spend = self.last_spend
        for user in sorted(spend):
            resolved = config.resolve(user, [g for g, m in members.items() if user in m])
            if resolved and (allowed is None or user in allowed):
                risky.append(AtRisk("user", user, project(resolved.budget, spend[user], now)))
        for group in sorted(members if allowed is None else [reader]):
            budget = config.group_budget(group)
            if budget is not None:
                daily: dict = {}
                for user in members.get(group, ()):
                    for day, cost in spend.get(user, {}).items():
                        daily[day] = daily.get(day, 0.0) + cost
                risky.append(AtRisk("group", group, project(budget, daily, now)))
        return [r for r in risky if r.status.state != ON_TRACK]

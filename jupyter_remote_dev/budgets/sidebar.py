"""What the sidebar's budget line gets: one user's own budget, status, alerts and hints."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from .config import Resolved
from .periods import daily_totals, describe, project
from .rightsizing import Hint


def budget_answer(
    resolved: Resolved | None,
    daily: Iterable[dict],
    now: datetime,
    currency: str = "USD",
    alerts: Sequence[dict] = (),
    hints: Sequence[Hint] = (),
) -> dict:
    """The JSON for ``GET .../budget``: ``{"configured": False}`` when no budget applies.

    ``daily`` is the user's daily spend (``[{"date", "total"}]``) covering the period;
    ``alerts`` the user's own recorded alerts (``BudgetStore.alerts("user", name)``), shown as
    notifications.
    """
    if resolved is None:
        return {"configured": False}
    status = project(resolved.budget, daily_totals(daily), now)
    return {
        "configured": True,
        "currency": currency,
        "source": resolved.source,
        "source_name": resolved.name or None,
        **status.to_dict(),
        "line": describe(status, currency),
        "alerts": [
            {"at": a["at"], "level": a["level"], "message": a["message"]}
            for a in alerts
            if a["period_start"] == status.period_start.isoformat()
        ],
        "hints": [
            {
                "name": h.name,
                "unused": round(h.unused_cost, 2),
                "message": h.message(currency=currency),
            }
            for h in hints
        ],
    }

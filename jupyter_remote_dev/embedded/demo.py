"""The embedded default's demo budget: small enough that a minute of burnt CPU shows an alert.

The local meter prices a CPU-minute at about $0.0005 (OpenCost's default $0.031611 per
core-hour), so the default of $0.001 a month for every user crosses 50 % after a minute of one busy
core. ``$JUPYTER_REMOTE_DEV_DEMO_BUDGET`` sets another amount; ``off`` means no budgets.
"""

from __future__ import annotations

import os

DEFAULT_AMOUNT = "0.001"


def budgets() -> dict | None:
    """The demo's ``budgets=`` for the spend view, or None when switched off."""
    amount = os.environ.get("JUPYTER_REMOTE_DEV_DEMO_BUDGET", DEFAULT_AMOUNT).strip()
    if amount.lower() in ("off", "0", ""):
        return None
    try:
        value = float(amount)
    except ValueError:
        message = f"JUPYTER_REMOTE_DEV_DEMO_BUDGET must be an amount or off, got {amount!r}"
        raise ValueError(message) from None
    return {"default": {"amount": value, "period": "month"}}

"""Make the report from what :mod:`.fetch` read: a plain dict (``report.json``) and CSV rows.

The dict is the stable contract other tools read (see docs/athena-report.md): its ``schema`` names
the version, amounts are in ``currency`` rounded to 1e-6, byte counts are exact integers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from .fingerprint import fingerprint, normalize
from .hints import HintSettings, TableInfo, hints_for
from .pricing import Pricing, billed_bytes, is_billed
from .week import Week

SCHEMA = "jupyter-remote-dev/athena-report/v1"
OWNER_TAGS = ("owner", "team", "user", "cost-center")
ATTRIBUTION = (
    "Athena's query history does not record who ran a query (the IAM principal is only in "
    "CloudTrail's StartQueryExecution events). Queries are attributed to their workgroup, the "
    "workgroup's owner tags ({tags}) and the database they ran in."
)


@dataclass
class Collected:
    """What was read from AWS for one report."""

    week: Week
    region: str
    workgroups: list[dict]
    current: dict[str, list[dict]]
    previous: dict[str, list[dict]]
    provisioned: dict[str, str] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    unprocessed: list[dict] = field(default_factory=list)
    #: Workgroups whose queries could not be listed: ``{"workgroup", "error"}``.
    skipped: list[dict] = field(default_factory=list)


#: How long Athena keeps query history (ListQueryExecutions).
HISTORY = timedelta(days=45)


def history_notes(week: Week, now: datetime) -> list[str]:
    """Why the figures may be incomplete: the week (or the one before) older than the history,
    or not over yet."""
    notes = []
    for label, w in (("this week", week), ("the comparison week", week.previous())):
        if w.start < now - HISTORY:
            notes.append(
                f"Athena keeps 45 days of query history; {label} ({w}) began earlier, so its "
                "figures miss the queries already dropped."
            )
    if week.end > now:
        notes.append(f"{week} is not over yet: its figures will still grow.")
    return notes


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(round(value, 6))


def _change(now: Decimal, before: Decimal) -> float | None:
    return None if not before else float(round((now - before) / before, 4))


def priced(execution: dict, price: Decimal | None, pricing: Pricing) -> dict:
    """One execution as a row: state, bytes scanned and billed, cost (None on capacity)."""
    status = execution.get("Status", {})
    state = status.get("State", "UNKNOWN")
    kind = execution.get("StatementType", "DML")
    scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes", 0) or 0)
    billed = is_billed(state, kind)
    context = execution.get("QueryExecutionContext", {})
    return {
        "id": execution["QueryExecutionId"],
        "workgroup": execution.get("WorkGroup", ""),
        "state": state,
        "statement_type": kind,
        "submitted": status["SubmissionDateTime"].astimezone(timezone.utc).isoformat(),
        "catalog": context.get("Catalog", ""),
        "database": context.get("Database", ""),
        "scanned_bytes": scanned,
        "billed_bytes": billed_bytes(scanned) if billed and price is not None else 0,
        "cost": None if price is None else pricing.cost(scanned, price) if billed else Decimal(0),
        "sql": normalize(execution.get("Query", "")),
        "raw": execution.get("Query", ""),
    }


def _sum(rows: list[dict]) -> dict:
    cost = sum((r["cost"] for r in rows if r["cost"] is not None), Decimal(0))
    return {
        "queries": len(rows),
        "billed_queries": sum(1 for r in rows if r["billed_bytes"]),
        "scanned_bytes": sum(r["scanned_bytes"] for r in rows),
        "billed_bytes": sum(r["billed_bytes"] for r in rows),
        "cost": cost,
    }


def _figures(totals: dict, previous: dict, provisioned: bool) -> dict:
    cost = None if provisioned else totals["cost"]
    before = None if provisioned else previous["cost"]
    return {
        **totals,
        "cost": _money(cost),
        "previous": {**previous, "cost": _money(before)},
        "cost_change": None if provisioned else _change(cost, before),
        "scanned_change": _change(
            Decimal(totals["scanned_bytes"]), Decimal(previous["scanned_bytes"])
        ),
    }


def _owner(tags: dict[str, str]) -> str:
    lower = {k.lower(): v for k, v in tags.items()}
    return ", ".join(f"{k}={lower[k]}" for k in OWNER_TAGS if lower.get(k))


def _groups(rows: list[dict], owners: dict[str, str]) -> list[dict]:
    by_print: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_print[row["fingerprint"]].append(row)
    groups = []
    for key, runs in by_print.items():
        totals = _sum(runs)
        priced_runs = [r for r in runs if r["cost"] is not None]
        identical = Counter(r["raw"] for r in runs if r["scanned_bytes"]).most_common(1)
        workgroups = sorted({r["workgroup"] for r in runs})
        groups.append(
            {
                "fingerprint": key,
                "sql": runs[0]["sql"],
                "statement_type": runs[0]["statement_type"],
                "count": len(runs),
                "states": dict(Counter(r["state"] for r in runs)),
                "workgroups": workgroups,
                "owners": sorted({owners[w] for w in workgroups if owners.get(w)}),
                "databases": sorted({r["database"] for r in runs if r["database"]}),
                "scanned_bytes": totals["scanned_bytes"],
                "billed_bytes": totals["billed_bytes"],
                "cost": totals["cost"] if priced_runs else None,
                "max_cost": max((r["cost"] for r in priced_runs), default=None),
                "identical_runs": identical[0][1] if identical else 0,
                "_sample": runs[0],
            }
        )
    groups.sort(key=lambda g: (g["cost"] or 0, g["scanned_bytes"], g["count"]), reverse=True)
    return groups


def build_report(
    data: Collected,
    pricing: Pricing,
    table_info: TableInfo,
    top: int = 25,
    hint_settings: HintSettings | None = None,
    now: datetime | None = None,
) -> tuple[dict, list[dict]]:
    """The report dict and one CSV row per execution of the week."""
    settings = hint_settings or HintSettings()
    now = now or datetime.now(timezone.utc)
    owners = {name: _owner(data.tags.get(name, {})) for name in data.current}
    prices = {
        name: None if name in data.provisioned else pricing.price_per_tb(data.region, name)
        for name in {g["Name"] for g in data.workgroups} | set(data.current) | set(data.previous)
    }

    def rows_of(executions: dict[str, list[dict]]) -> dict[str, list[dict]]:
        out = {}
        for name, runs in executions.items():
            out[name] = [priced(e, prices[name], pricing) for e in runs]
            for row in out[name]:
                row["workgroup"] = row["workgroup"] or name
                row["fingerprint"] = fingerprint(row["raw"])
        return out

    current, previous = rows_of(data.current), rows_of(data.previous)
    workgroups = []
    for summary in sorted(data.workgroups, key=lambda g: g["Name"]):
        name = summary["Name"]
        totals = _sum(current.get(name, []))
        before = _sum(previous.get(name, []))
        provisioned = name in data.provisioned
        workgroups.append(
            {
                "name": name,
                "state": summary.get("State", ""),
                "billing": "capacity" if provisioned else "per-query",
                "capacity_reservation": data.provisioned.get(name),
                "price_per_tb": None if provisioned else float(prices[name]),
                "tags": data.tags.get(name, {}),
                "owner": owners.get(name, ""),
                "failed": sum(1 for r in current.get(name, []) if r["state"] == "FAILED"),
                "cancelled": sum(1 for r in current.get(name, []) if r["state"] == "CANCELLED"),
                "ddl": sum(1 for r in current.get(name, []) if r["statement_type"] == "DDL"),
                **_figures(totals, before, provisioned),
            }
        )
    workgroups.sort(key=lambda w: (w["cost"] or 0, w["scanned_bytes"]), reverse=True)

    all_rows = [row for rows in current.values() for row in rows]
    groups = _groups(all_rows, owners)[:top]
    hints = []
    for rank, group in enumerate(groups, 1):
        sample = group.pop("_sample")
        group["rank"] = rank
        context = (sample["catalog"], sample["database"], sample["workgroup"])
        group["hints"] = hints_for(group, context, table_info, settings)
        group["cost"], group["max_cost"] = _money(group["cost"]), _money(group["max_cost"])
        hints += [{**h, "fingerprint": group["fingerprint"], "rank": rank} for h in group["hints"]]

    on_demand = [r for r in all_rows if r["cost"] is not None]
    before_rows = [r for rows in previous.values() for r in rows if r["cost"] is not None]
    report = {
        "schema": SCHEMA,
        "week": str(data.week),
        "start": data.week.start.isoformat(),
        "end": data.week.end.isoformat(),
        "previous_week": str(data.week.previous()),
        "generated_at": now.isoformat(timespec="seconds"),
        "region": data.region,
        "currency": "USD",
        "pricing": pricing.to_json(),
        "totals": {
            **_figures(_sum(on_demand), _sum(before_rows), False),
            "queries_on_capacity": len(all_rows) - len(on_demand),
        },
        "workgroups": workgroups,
        "top_queries": groups,
        "hints": hints,
        "attribution": ATTRIBUTION.format(tags=", ".join(OWNER_TAGS)),
        "unprocessed": [u["QueryExecutionId"] for u in data.unprocessed],
        "skipped_workgroups": data.skipped,
        "notes": history_notes(data.week, now),
    }
    csv_rows = [
        {**{k: v for k, v in r.items() if k != "raw"}, "cost": _money(r["cost"])}
        for r in sorted(all_rows, key=lambda r: r["submitted"])
    ]
    return report, csv_rows

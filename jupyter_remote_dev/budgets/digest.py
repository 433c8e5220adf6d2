"""The weekly digest for a team lead or the admins: plain text and simple HTML (no I/O).

``view`` is the spend view's week for that reader (``build_view`` in the spend view's
``summary.py``: ``week``, ``total``, ``previous_total``, ``users``, ``teams``, ``idle_servers``),
so a lead's digest holds exactly what the lead may see. Send the result with a Dispatcher.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from html import escape

from .channels import Message
from .config import money
from .periods import ON_TRACK, BudgetStatus, describe
from .rightsizing import Hint


@dataclass(frozen=True)
class AtRisk:
    """A budget that is not on track: whose (``user``/``group`` and name) and its status."""

    kind: str
    name: str
    status: BudgetStatus


def change(cost: float, previous: float) -> str:
    """``+12 %``, ``-3 %``, or ``new`` when nothing was spent the week before."""
    if not previous:
        return "new" if cost else "0 %"
    return f"{(cost - previous) / previous * 100:+.0f} %"


def _sections(view, at_risk, hints, athena, currency, movers) -> list[tuple[str, list[list[str]]]]:
    """(title, rows) of each part of the digest; the first row of each table is its header."""
    m = partial(money, currency=currency)
    teams = [["Team", "This week", "Week before", "Change"]] + [
        [t["team"], m(t["cost"]), m(t["previous"]), change(t["cost"], t["previous"])]
        for t in view["teams"]
    ]
    users = [["User", "Team", "This week", "Week before", "Change"]] + [
        [u["user"], u["team"], m(u["cost"]), m(u["previous"]), change(u["cost"], u["previous"])]
        for u in view["users"]
    ]
    moved = sorted(
        (u for u in view["users"] if u["cost"] != u["previous"]),
        key=lambda u: (-abs(u["cost"] - u["previous"]), u["user"]),
    )[:movers]
    top = [["User", "Moved by", "Change"]] + [
        [
            u["user"],
            f"{'+' if u['cost'] >= u['previous'] else '-'}{m(abs(u['cost'] - u['previous']))}",
            change(u["cost"], u["previous"]),
        ]
        for u in moved
    ]
    idle = view["idle_servers"]
    unused = [["Where", "Unused", "Advice"]]
    if idle["users"]:
        unused.append([f"{idle['users']} idle server(s)", m(idle["cost"]), "stop or shrink them"])
    unused += [[h.name, m(h.unused_cost), h.message("this week", currency)] for h in hints]
    risk = [["Budget", "State"]] + [
        [f"{r.kind} {r.name}", describe(r.status, currency)]
        for r in at_risk
        if r.status.state != ON_TRACK
    ]
    sections = [
        ("Spend per team", teams),
        ("Spend per user", users),
        ("Top movers", top),
        ("Unused capacity", unused),
        ("Budgets at risk", risk),
    ]
    if athena and athena.get("cost") is not None:
        sections.append(
            ("Athena", [["Latest report", "Total"], [str(athena.get("week")), m(athena["cost"])]])
        )
    return sections


def build_digest(
    reader: str,
    view: Mapping,
    at_risk: Sequence[AtRisk] = (),
    hints: Sequence[Hint] = (),
    athena: Mapping | None = None,
    currency: str = "USD",
    to: tuple[str, ...] | None = None,
    movers: int = 5,
) -> Message:
    """The digest of ``view`` for ``reader`` (``admins`` or ``team-a``) as a Message to ``to``
    (None: the e-mail channel's default recipients, the admins)."""
    total, previous = view["total"], view["previous_total"]
    headline = (
        f"{money(total, currency)} in {view['week']} "
        f"({change(total, previous)} on {money(previous, currency)} the week before)"
    )
    subject = f"Spend digest {view['week']} for {reader}: {money(total, currency)}"
    sections = _sections(view, at_risk, hints, athena, currency, movers)
    text = [headline, ""]
    html = [f"<h1>{escape(subject)}</h1>", f"<p>{escape(headline)}</p>"]
    for title, rows in sections:
        text.append(title)
        html.append(f"<h2>{escape(title)}</h2>")
        if len(rows) == 1:
            text += ["  (none)", ""]
            html.append("<p>(none)</p>")
            continue
        text += ["  " + " | ".join(row) for row in rows[1:]] + [""]
        head = "".join(f"<th>{escape(cell)}</th>" for cell in rows[0])
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
            for row in rows[1:]
        )
        html.append(f"<table><tr>{head}</tr>{body}</table>")
    return Message(subject, "\n".join(text).rstrip() + "\n", "\n".join(html), to)

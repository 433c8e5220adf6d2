"""The weekly digest: content from a spend view week, sent over real SMTP and a webhook."""

import asyncio
from datetime import date, datetime, timezone

from jupyter_remote_dev.budgets.channels import WebhookChannel
from jupyter_remote_dev.budgets.config import Budget
from jupyter_remote_dev.budgets.digest import AtRisk, build_digest, change
from jupyter_remote_dev.budgets.dispatch import Dispatcher
from jupyter_remote_dev.budgets.periods import project
from jupyter_remote_dev.budgets.rightsizing import accumulate, hints
from jupyter_remote_dev.services.spend_view.summary import build_view

from .test_delivery import email_channel

NOW = datetime(2026, 12, 9, 12, tzinfo=timezone.utc)
LABELS = ("hub.jupyter.org/username", "team")


def day(cost, cpu_req=2, cpu_use=1.0):
    return {
        "totalCost": cost,
        "cpuCost": cost,
        "ramCost": 0,
        "totalEfficiency": cpu_use / cpu_req,
        "minutes": 1440,
        "cpuCoreRequestAverage": cpu_req,
        "cpuCoreUsageAverage": cpu_use,
    }


CURRENT = [
    {
        "alice/team-a": day(30),
        "bob/team-a": day(5, 4, 0.1),
        "carol/team-b": day(8),
        "__idle__": day(50),
    }
]
PREVIOUS = [{"alice/team-a": day(10), "bob/team-a": day(6), "carol/team-b": day(8)}]


def view_for(visible):
    return build_view("2026-W49", CURRENT, PREVIOUS, LABELS, visible, 0.05, show_cluster=False)


def digest(visible=lambda user, team: True, **kwargs):
    at_risk = [
        AtRisk("user", "alice", project(Budget(40, "week"), {date(2026, 12, 8): 30}, NOW)),
        AtRisk("user", "carol", project(Budget(400), {date(2026, 12, 8): 8}, NOW)),
    ]
    found = hints(accumulate([("bob", CURRENT[0]["bob/team-a"])]))
    athena = {"week": "2026-W48", "cost": 12.5}
    return build_digest("admins", view_for(visible), at_risk, found, athena, **kwargs)


def test_change():
    assert (change(12, 10), change(9, 10), change(5, 0), change(0, 0)) == (
        "+20 %",
        "-10 %",
        "new",
        "0 %",
    )


def test_digest_text_has_every_part():
    """Teams and users week over week, movers, unused capacity, budgets at risk, Athena."""
    message = digest(to=("admins@example.org",))
    assert message.subject == "Spend digest 2026-W49 for admins: $43.00"
    assert message.to == ("admins@example.org",)
    assert message.text == (
        "$43.00 in 2026-W49 (+79 % on $24.00 the week before)\n"
        "\n"
        "Spend per team\n"
        "  team-a | $35.00 | $16.00 | +119 %\n"
        "  team-b | $8.00 | $8.00 | +0 %\n"
        "\n"
        "Spend per user\n"
        "  alice | team-a | $30.00 | $10.00 | +200 %\n"
        "  carol | team-b | $8.00 | $8.00 | +0 %\n"
        "  bob | team-a | $5.00 | $6.00 | -17 %\n"
        "\n"
        "Top movers\n"
        "  alice | +$20.00 | +200 %\n"
        "  bob | -$1.00 | -17 %\n"
        "\n"
        "Unused capacity\n"
        "  1 idle server(s) | $5.00 | stop or shrink them\n"
        "  bob | $4.88 | requested 4 CPU, used 0.1 on average this week: about $4.88 of the"
        " $5.00 was unused; a smaller profile would do\n"
        "\n"
        "Budgets at risk\n"
        "  user alice | $30.00 of $40.00 this week; will exceed around 10 December\n"
        "\n"
        "Athena\n"
        "  2026-W48 | $12.50\n"
    )


def test_lead_digest_holds_only_their_team_and_html_is_escaped():
    """A lead's view holds their members only; names are HTML-escaped."""
    message = digest(visible=lambda user, team: team == "team-a")
    assert "carol" not in message.text and "team-b" not in message.text
    assert "alice | team-a | $30.00" in message.text
    assert message.html.startswith("<h1>Spend digest 2026-W49 for admins: $35.00</h1>")
    assert (
        "<tr><td>alice</td><td>team-a</td><td>$30.00</td><td>$10.00</td><td>+200 %</td></tr>"
        in message.html
    )
    hostile = build_digest("<b>x</b>", {**view_for(lambda u, t: False), "week": "W<1>"})
    assert "<b>x</b>" not in hostile.html and "&lt;b&gt;x&lt;/b&gt;" in hostile.html
    assert hostile.text.count("(none)") == 5


async def test_digest_arrives_by_mail_and_webhook(smtp_sink, webhook_sink):
    """Through the dispatcher: the mail has text and HTML; the webhook gets the text."""
    message = digest(to=("lead@example.org",))
    dispatcher = Dispatcher([email_channel(smtp_sink), WebhookChannel(webhook_sink.url)])
    dispatcher.start()
    try:
        assert dispatcher.submit(message)
        await dispatcher.join()
    finally:
        await dispatcher.close()
    [mail] = await asyncio.to_thread(smtp_sink.wait_for, 1)
    assert mail["Subject"] == message.subject and mail["To"] == "lead@example.org"
    lines = lambda part: part.get_content().replace("\r\n", "\n").strip()  # noqa: E731 (SMTP: CRLF)
    assert lines(mail.get_body(("plain",))) == message.text.strip()
    assert lines(mail.get_body(("html",))) == message.html
    assert webhook_sink.bodies == [{"text": f"*{message.subject}*\n{message.text}"}]

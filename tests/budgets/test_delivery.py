"""Channels and dispatcher against real receivers: aiosmtpd with STARTTLS, loopback webhooks."""

import asyncio
import time

import pytest

from jupyter_remote_dev.budgets.channels import (
    DeliveryError,
    EmailChannel,
    Message,
    WebhookChannel,
)
from jupyter_remote_dev.budgets.dispatch import Dispatcher, Outcome

from ..support.sinks import PASSWORD, USER

MESSAGE = Message(
    "Your budget: 80 % used",
    "You have spent $80.00 of $100.00.",
    "<p>80 %</p>",
    ("alice@example.org",),
)


def email_channel(sink, **overrides):
    env = {
        "JUPYTER_REMOTE_DEV_SMTP_HOST": "127.0.0.1",
        "JUPYTER_REMOTE_DEV_SMTP_PORT": str(sink.port),
        "JUPYTER_REMOTE_DEV_SMTP_FROM": "budgets@hub.example.org",
        "JUPYTER_REMOTE_DEV_SMTP_TO": "admins@example.org, ops@example.org",
        "JUPYTER_REMOTE_DEV_SMTP_USER": USER,
        "JUPYTER_REMOTE_DEV_SMTP_PASSWORD": PASSWORD,
    }
    return EmailChannel.from_env(env, **{"ssl_context": sink.client_context(), **overrides})


def test_email_settings_come_from_the_environment(smtp_sink):
    """Host, port, sender, default recipients and credentials; the password is not in repr."""
    channel = email_channel(smtp_sink)
    assert (channel.host, channel.port, channel.sender) == (
        "127.0.0.1",
        smtp_sink.port,
        "budgets@hub.example.org",
    )
    assert channel.default_to == ("admins@example.org", "ops@example.org")
    assert (channel.username, channel.password, channel.starttls) == (USER, PASSWORD, True)
    assert PASSWORD not in repr(channel)
    assert EmailChannel.from_env({}) is None
    plain = EmailChannel.from_env(
        {"JUPYTER_REMOTE_DEV_SMTP_HOST": "h", "JUPYTER_REMOTE_DEV_SMTP_STARTTLS": "false"}
    )
    assert (plain.port, plain.starttls, plain.default_to) == (587, False, ())


async def test_email_arrives_over_starttls_with_login(smtp_sink):
    """The real server receives text and HTML, after STARTTLS and AUTH."""
    await email_channel(smtp_sink).send(MESSAGE)
    [mail] = smtp_sink.wait_for(1)
    assert mail["Subject"] == "Your budget: 80 % used"
    assert mail["From"] == "budgets@hub.example.org" and mail["To"] == "alice@example.org"
    assert mail.get_body(("plain",)).get_content().strip() == "You have spent $80.00 of $100.00."
    assert mail.get_body(("html",)).get_content().strip() == "<p>80 %</p>"
    assert smtp_sink.sessions == [{"tls": True, "authenticated": True}]


async def test_email_without_recipients_goes_to_the_default_or_nowhere(smtp_sink):
    """``to`` None: the configured default recipients; none configured, or ``to`` empty: no mail."""
    await email_channel(smtp_sink).send(Message("Digest", "text"))
    [mail] = smtp_sink.wait_for(1)
    assert mail["To"] == "admins@example.org, ops@example.org"
    await email_channel(smtp_sink, default_to=()).send(Message("Digest", "text"))
    await email_channel(smtp_sink).send(Message("Alert", "for a user without address", to=()))
    assert len(smtp_sink.wait_for(2, timeout=0.3)) == 1


async def test_email_failures_raise_delivery_errors(smtp_sink):
    """A wrong password, an untrusted certificate, or no STARTTLS (server refuses) all fail."""
    with pytest.raises(DeliveryError, match=f"127.0.0.1:{smtp_sink.port} failed: .*535"):
        await email_channel(smtp_sink, password="wrong").send(MESSAGE)
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        await email_channel(smtp_sink, ssl_context=None).send(MESSAGE)
    with pytest.raises(DeliveryError, match="AUTH extension not supported"):
        await email_channel(smtp_sink, starttls=False).send(MESSAGE)
    assert smtp_sink.mails == []


async def test_webhook_sends_a_slack_compatible_body(webhook_sink, failing_sink):
    """``{"text": "*subject*\\nbody"}``; a non-2xx answer is a DeliveryError."""
    await WebhookChannel(webhook_sink.url).send(MESSAGE)
    assert webhook_sink.bodies == [
        {"text": "*Your budget: 80 % used*\nYou have spent $80.00 of $100.00."}
    ]
    with pytest.raises(DeliveryError, match="answered HTTP 500"):
        await WebhookChannel(failing_sink.url, name="chat").send(MESSAGE)
    assert "hooks" not in repr(WebhookChannel(failing_sink.url))


async def test_failing_sink_retried_then_given_up_while_others_deliver(
    smtp_sink, webhook_sink, failing_sink
):
    """Mail and the good webhook arrive at once; the bad one is tried 4 times with back-off."""
    dispatcher = Dispatcher(
        [
            email_channel(smtp_sink),
            WebhookChannel(webhook_sink.url, name="team-chat"),
            WebhookChannel(failing_sink.url, name="broken"),
        ],
        retries=3,
        backoff=0.2,
    )
    dispatcher.start()
    try:
        started = time.monotonic()
        assert dispatcher.submit(MESSAGE) is True
        await asyncio.to_thread(smtp_sink.wait_for, 1)
        while not webhook_sink.bodies:
            await asyncio.sleep(0.01)
        assert time.monotonic() - started < 1.0  # before the broken sink's first back-off ends
        assert len(failing_sink.bodies) < 4
        await dispatcher.join()
    finally:
        await dispatcher.close()
    assert len(smtp_sink.mails) == 1 and len(webhook_sink.bodies) == 1
    assert len(failing_sink.bodies) == 4
    gaps = [b - a for a, b in zip(failing_sink.times, failing_sink.times[1:], strict=False)]
    for gap, backoff in zip(gaps, [0.2, 0.4, 0.8], strict=True):
        assert backoff <= gap < backoff + 0.5  # the back-off doubles, plus one request's time
    assert sorted(dispatcher.outcomes, key=lambda o: o.channel) == [
        Outcome("broken", MESSAGE.subject, "given_up", 4, "webhook broken answered HTTP 500"),
        Outcome("email", MESSAGE.subject, "sent", 1),
        Outcome("team-chat", MESSAGE.subject, "sent", 1),
    ]


async def test_full_queue_drops_without_blocking(webhook_sink):
    """A bounded queue: the submit that does not fit returns False at once and is recorded."""
    dispatcher = Dispatcher([WebhookChannel(webhook_sink.url)], queue_size=2)
    assert dispatcher.submit(Message("one", "1")) and dispatcher.submit(Message("two", "2"))
    assert dispatcher.submit(Message("three", "3")) is False
    assert list(dispatcher.outcomes) == [Outcome("webhook", "three", "dropped", 0)]
    dispatcher.start()
    try:
        await dispatcher.join()
    finally:
        await dispatcher.close()
    assert [b["text"] for b in webhook_sink.bodies] == ["*one*\n1", "*two*\n2"]


async def test_only_named_channels_get_a_message(smtp_sink, webhook_sink):
    """``only`` picks channels: a user's mail does not go to the team chat."""
    dispatcher = Dispatcher([email_channel(smtp_sink), WebhookChannel(webhook_sink.url)])
    dispatcher.start()
    try:
        dispatcher.submit(MESSAGE, only=["email"])
        await dispatcher.join()
    finally:
        await dispatcher.close()
    assert len(smtp_sink.mails) == 1 and webhook_sink.bodies == []

"""Delivery channels: e-mail over SMTP with STARTTLS, and a Slack-compatible webhook.

A channel's ``send`` raises on failure; retrying is the dispatcher's job. SMTP credentials come
from the environment only (``JUPYTER_REMOTE_DEV_SMTP_*``) and are never logged or repr'd.
"""

from __future__ import annotations

import asyncio
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage

import httpx

ENV_PREFIX = "JUPYTER_REMOTE_DEV_SMTP_"


@dataclass(frozen=True)
class Message:
    """What is sent: a subject, plain text, optional HTML, and e-mail recipients.

    ``to`` None means the e-mail channel's default recipients; an empty tuple means no e-mail.
    """

    subject: str
    text: str
    html: str = ""
    to: tuple[str, ...] | None = None


class DeliveryError(Exception):
    """A channel could not deliver (the dispatcher retries, then gives up)."""


@dataclass
class EmailChannel:
    """Mail through ``host:port``, upgraded with STARTTLS before any credentials are sent."""

    host: str
    port: int = 587
    sender: str = "jupyter-remote-dev@localhost"
    default_to: tuple[str, ...] = ()
    username: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = True
    timeout: float = 10.0
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)
    name: str = "email"

    @classmethod
    def from_env(cls, environ=os.environ, **overrides) -> EmailChannel | None:
        """The channel ``JUPYTER_REMOTE_DEV_SMTP_HOST`` (and ``_PORT``, ``_FROM``, ``_TO``,
        ``_USER``, ``_PASSWORD``, ``_STARTTLS``) describe, or None without a host."""

        def env(key: str, fallback: str = "") -> str:
            return environ.get(ENV_PREFIX + key, fallback)

        if not env("HOST"):
            return None
        settings = {
            "host": env("HOST"),
            "port": int(env("PORT", "587")),
            "sender": env("FROM", cls.sender),
            "default_to": tuple(a.strip() for a in env("TO").split(",") if a.strip()),
            "username": env("USER"),
            "password": env("PASSWORD"),
            "starttls": env("STARTTLS", "1").lower() not in ("0", "false", "no"),
        }
        return cls(**{**settings, **overrides})

    def recipients(self, message: Message) -> tuple[str, ...]:
        return self.default_to if message.to is None else message.to

    def build(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.recipients(message))
        mail.set_content(message.text)
        if message.html:
            mail.add_alternative(message.html, subtype="html")
        return mail

    async def send(self, message: Message) -> None:
        if not self.recipients(message):
            return  # nobody to write to: nothing to deliver
        await asyncio.to_thread(self._send, self.build(message))

    def _send(self, mail: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"mail via {self.host}:{self.port} failed: {error}") from error


@dataclass
class WebhookChannel:
    """POST ``{"text": ...}`` (Slack incoming-webhook form, mrkdwn) to ``url``."""

    url: str = field(repr=False)  # webhook URLs carry their secret in the path
    timeout: float = 10.0
    name: str = "webhook"

    @staticmethod
    def body(message: Message) -> dict:
        return {"text": f"*{message.subject}*\n{message.text}"}

    async def send(self, message: Message) -> None:
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
                response = await client.post(self.url, json=self.body(message))
        except httpx.HTTPError as error:
            raise DeliveryError(
                f"webhook {self.name} unreachable: {type(error).__name__}"
            ) from error
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"webhook {self.name} answered HTTP {response.status_code}")

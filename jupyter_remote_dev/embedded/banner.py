"""The embedded default's last start-up lines, and a hub log that keeps them last."""

from __future__ import annotations

import asyncio
import logging
import sys

READY_MESSAGE = "JupyterHub is now running at"


def text(public_url: str, login, spend_view: str) -> str:
    """Where to go and how to log in (``login``: a :class:`.hub.Login`); the admins' spend view is
    at ``spend_view`` (a path under the hub's URL)."""
    lines = [
        f"jupyter-remote-dev demo hub: {public_url}",
        "  users:    any user name, e.g. alice or bob",
        f"  password: {login.password}",
    ]
    if login.admins:
        lines.append(f"  admins:   {', '.join(login.admins)} (password: {login.admin_password})")
        lines.append(f"  spend:    {public_url}{spend_view} (every user's, for the admins)")
    return "\n".join(lines)


class _AfterReady(logging.Filter):
    """Prints ``text`` right after JupyterHub logs that it is running (so it is the last word)."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith(READY_MESSAGE):
            asyncio.get_running_loop().call_soon(self._print)
        return True

    def _print(self) -> None:
        print(self.text, file=sys.stderr, flush=True)


def print_when_ready(text: str, logger: str = "JupyterHub") -> None:
    """Print ``text`` once the hub has logged that it runs (its start-up's last line)."""
    logging.getLogger(logger).addFilter(_AfterReady(text))


def quiet_service_polls(service: str) -> None:
    """Drop the hub's INFO access-log lines for ``service``'s successful API calls (its routine
    polls); warnings and errors of that service, and every other request, are still logged."""
    marker = f"({service}@"

    def keep(record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or marker not in record.getMessage()

    logging.getLogger("tornado.access").addFilter(keep)

"""Loopback ports of the embedded default: free ones, or the ones the environment names."""

from __future__ import annotations

import os
import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_port(name: str, default: int | None = None) -> int:
    """The port in ``$name``; else ``default``; else a free one. A clear error if not a number."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default if default is not None else free_port()
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SystemExit(f"{name} must be a TCP port number, got {text!r}")
    return int(text)

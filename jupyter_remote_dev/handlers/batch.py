"""Handlers for batch (filled in by its issue)."""

default_handlers: list = []

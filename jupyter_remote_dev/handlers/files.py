"""Handlers for files (filled in by its issue)."""

default_handlers: list = []

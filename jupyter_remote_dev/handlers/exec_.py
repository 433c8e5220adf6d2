"""Handlers for exec (filled in by its issue)."""

default_handlers: list = []

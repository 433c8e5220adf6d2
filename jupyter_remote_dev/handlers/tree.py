"""Handlers for tree (filled in by its issue)."""

default_handlers: list = []

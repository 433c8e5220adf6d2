"""Thin tornado handlers: translate HTTP to calls into the plain modules, and errors to statuses."""

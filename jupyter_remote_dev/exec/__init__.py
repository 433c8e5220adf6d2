"""Remote commands: process groups, streamed ndjson output, timeouts and detachable jobs.

Core modules (``request``, ``runner``, ``jobs``) import no tornado.
"""

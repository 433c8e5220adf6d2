"""Remote commands: process groups, streamed ndjson output, timeouts and detachable jobs.

Core modules (``request``, ``runner``, ``output``, ``stdin``, ``jobs``, ``service``) import no
tornado.
"""

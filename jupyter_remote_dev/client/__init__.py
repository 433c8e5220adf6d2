"""The local IDE side: HTTP client, CLI, watcher and VS Code tasks.

Runs on laptops: imports nothing from jupyter_server, jupyterhub or kubernetes.
"""

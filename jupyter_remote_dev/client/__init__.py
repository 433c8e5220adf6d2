"""The local IDE side: HTTP client, CLI, watcher and VS Code tasks.

Runs on laptops: imports nothing from jupyter_server, jupyterhub or kubernetes. Each layer imports
only the ones before it: ``errors``, ``profiles``, ``ui``; ``transport`` (TLS, failed answers);
``hub`` (the hub API); ``api`` (the server's remote-dev API); ``sync/`` (keeping a folder in
sync); ``commands/`` (the subcommands); ``cli`` (the entry point, naming the commands by string).
"""

"""Hub-managed services: processes JupyterHub starts beside itself (``c.JupyterHub.services``).

Each is a package ``<name>/`` run as ``python -m jupyter_remote_dev.services.<name>``, whose
``config.py`` has ``configure(c, ...)`` to add it to a hub config (through :mod:`.compose`, which
keeps what the config already holds).
"""

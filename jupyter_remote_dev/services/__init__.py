"""Hub-managed services: processes JupyterHub starts beside itself (``c.JupyterHub.services``)."""

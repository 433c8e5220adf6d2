"""Hub-managed services (JupyterHub ``services`` with a ``command``) for a hub on one machine."""

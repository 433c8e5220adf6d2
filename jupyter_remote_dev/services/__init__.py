"""Hub-managed services: JupyterHub ``services`` entries with a command."""

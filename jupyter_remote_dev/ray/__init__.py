"""Ray: connection facts and version check, jobs through the dashboard, the dashboard proxy, the
``working_dir`` packager and the local head of the embedded default.

Nothing here imports ``ray`` at module level: the server must start where Ray is not installed.
"""

"""The team Git repository of a one-machine hub, served by ``git http-backend`` behind the hub.

A user authenticates with HTTP Basic: their hub user name and a hub API token as the password
(the user server's own ``$JUPYTERHUB_API_TOKEN`` works). Anyone so authenticated may fetch; each
user may push only to their own ``remote-dev/<name>`` branch (a pre-receive hook checks), within
size limits per push and per branch; ``git gc`` deletes what forced updates left unreachable
(settings: :mod:`.quota`).
"""

"""Helpers of the embedded default, ``hub_config/local_config.py`` (JupyterHub on one machine).

:mod:`.hub` the hub's own settings (network, state, login, servers), :mod:`.state` the
per-checkout state folder and demo passwords, :mod:`.ports` loopback ports,
:mod:`.servers` what the user servers start with, :mod:`.banner` the hub's last start-up lines,
:mod:`.lifecycle` how its services end with the hub. The services themselves are in
:mod:`jupyter_remote_dev.services`. Light on purpose (no JupyterHub or Kubernetes imports): the
hub loads these with its config.
"""

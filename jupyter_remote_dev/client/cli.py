"""``jupyter remote-dev``: the command-line entry point and its subcommands.

Subcommands are registered by import string, so ``jupyter remote-dev --help`` stays fast and each
area (files, git, ray, dags) keeps its command in its own module.
"""

from __future__ import annotations

from jupyter_core.application import JupyterApp

from .. import __version__


class RemoteDevApp(JupyterApp):
    """Work on a remote Jupyter server from a local IDE."""

    name = "jupyter-remote-dev"
    version = __version__
    description = __doc__

    subcommands = {
        # "name": ("module.AppClass", "one-line help"),
    }

    def _config_file_name_default(self) -> str:
        return "jupyter_remote_dev_client_config"

    def start(self):
        if self.subapp is not None:
            return self.subapp.start()
        self.print_help()
        self.exit(1)


main = RemoteDevApp.launch_instance

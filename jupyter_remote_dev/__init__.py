"""jupyter-remote-dev: local-IDE development against JupyterHub user servers.

Kept light: the server logs packages that are slow to import, and the CLI runs on laptops that have
no jupyter_server. Heavy imports happen inside the entry-point functions.
"""

try:
    from ._version import __version__
except ImportError:  # a source checkout that was never built
    __version__ = "0.0.0.dev0"


def _jupyter_server_extension_points():
    from .extension import RemoteDevExtension

    return [{"module": "jupyter_remote_dev", "app": RemoteDevExtension}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-remote-dev"}]

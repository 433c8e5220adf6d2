"""The remote-dev server extension: configuration, route table and background lifecycle."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, Int, List, Unicode, validate

from . import __version__
from .handlers import batch, exec_, files, info, tree


class RemoteDevExtension(ExtensionApp):
    """Authenticated REST endpoints for a local IDE: files, trees, exec, git sync, cost and Ray."""

    name = "remote_dev"
    version = __version__
    description = __doc__
    load_other_extensions = True

    # ----- files and trees -----
    max_upload_size = Int(
        10 * 1024**3,
        config=True,
        help="""Largest body accepted by PUT files/ and POST batch, in bytes.

        Decided from Content-Length before a byte of body is read; a chunked body is cut off as soon
        as it passes the limit. An ingress in front of the hub may impose a smaller limit of its own
        (nginx: proxy-body-size).""",
    )
    ignore_patterns = List(
        Unicode(),
        default_value=[".git", ".ipynb_checkpoints", "__pycache__", ".jupyter-remote-dev"],
        config=True,
        help="""Glob patterns (fnmatch, matched against each path component and against the whole
        relative path) left out of tree manifests.""",
    )
    upload_expiry = Float(
        24 * 3600.0,
        config=True,
        help="Seconds after which an abandoned partial (resumable) upload is deleted.",
    )

    # ----- exec -----
    allow_exec = Bool(
        True,
        config=True,
        help="""Allow POST exec. Turn off to make the server files-only; exec is also bound by the
        authorizer's rules for the 'terminals' resource.""",
    )
    max_concurrent_exec = Int(
        8,
        config=True,
        help="How many commands may run at once; more answer 429.",
    )

    @validate("max_upload_size", "max_concurrent_exec")
    def _positive(self, proposal):
        if proposal.value <= 0:
            raise ValueError(f"{proposal.trait.name} must be positive, got {proposal.value}")
        return proposal.value

    def initialize_handlers(self):
        for module in (files, tree, batch, exec_, info):
            self.handlers.extend(module.default_handlers)

    def initialize_settings(self):
        self.settings["remote_dev_config"] = self

    def feature_flags(self) -> dict[str, bool]:
        """What this server offers, for GET info and the clients."""
        return {"files": True, "batch": True, "resumable_uploads": True, "exec": self.allow_exec}

"""Settings of SSH through the server (the WebSocket at {base_url}remote-dev/ssh)."""

from __future__ import annotations

import os

from jupyter_core.paths import jupyter_data_dir
from traitlets import Bool, Float, HasTraits, Unicode, default

from ..base.validators import non_negative


class SshSettings(HasTraits):
    """Whether SSH is offered, where its keys live, and its keepalive timing."""

    allow_ssh = Bool(
        True,
        config=True,
        help="""Offer SSH through the WebSocket at {base_url}remote-dev/ssh. Commands, shells and
        port forwarding also need allow_exec (and the 'terminals' resource); SFTP needs the
        'contents' resource.""",
    )
    ssh_state_dir = Unicode(
        config=True,
        help="""Folder (0700) of the SSH host key and the registered client keys (files 0600).
        Keep it on persistent storage, so the host key survives restarts and clients' known_hosts
        stay valid. Default: <jupyter data dir>/remote_dev_ssh ($JUPYTER_DATA_DIR, else
        ~/.local/share/jupyter: the home volume under JupyterHub, outside the image and /tmp).""",
    )
    ssh_ping_interval = Float(
        30.0,
        config=True,
        help="""Seconds between WebSocket pings on an SSH connection, so ingress and proxy idle
        timeouts (nginx: 60 s) do not cut a quiet session. 0 turns them off.""",
    )
    ssh_keepalive_interval = Float(
        30.0,
        config=True,
        help="""Seconds between SSH keepalives the server sends; a client silent for three of
        them is disconnected (and its processes stopped). 0 turns them off.""",
    )

    @default("ssh_state_dir")
    def _ssh_state_dir_default(self):
        return os.path.join(jupyter_data_dir(), "remote_dev_ssh")

    _ssh_non_negative = non_negative("ssh_ping_interval", "ssh_keepalive_interval")

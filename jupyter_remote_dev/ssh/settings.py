"""Settings of SSH through the server (the WebSocket at {base_url}remote-dev/ssh)."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from jupyter_core.paths import jupyter_data_dir
from traitlets import Bool, Float, HasTraits, Unicode, default

from ..base.validators import non_negative

if TYPE_CHECKING:
    from ..exec.service import ExecService
    from .service import SshService


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

    def make_ssh_service(
        self, root: str, exec_service: ExecService, log: logging.Logger
    ) -> SshService:
        """The SSH area's owner, from these traits (the only place they are copied); commands run
        as ``exec_service`` says (its shell, kill grace, and whether commands may run at all)."""
        from .service import SshService

        return SshService(
            allowed=self.allow_ssh,
            state_dir=self.ssh_state_dir,
            root=root,
            shell=exec_service.shell,
            allow_exec=exec_service.allow_exec,
            kill_grace=exec_service.jobs.kill_grace,
            keepalive_interval=self.ssh_keepalive_interval,
            ping_interval=self.ssh_ping_interval,
            log=log,
        )

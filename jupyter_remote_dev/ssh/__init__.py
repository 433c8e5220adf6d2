"""SSH through the server: an in-process SSH server (asyncssh) behind an authenticated WebSocket.

- :mod:`.keys`: the persistent host key and the registered client keys (no tornado)
- :mod:`.sessions`: exec, shell and pty sessions in process groups; SFTP rooted at the root
- :mod:`.service`: :class:`~.service.SshService`, the area's owner object (one per server)
- :mod:`.handlers`: the WebSocket ``{base_url}remote-dev/ssh`` and the key and host-key endpoints
- :mod:`.settings`: the ``c.RemoteDevExtension.ssh_*`` traits
"""

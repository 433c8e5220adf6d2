"""What the upload and download halves of :class:`~.transfer.Transfer` share: the client, the
project's state, the byte counter (each byte of a plan counted once) and the cancel switch.

Ctrl-C cancels the requests in flight within one 64 KiB piece of a body (:meth:`Mover.cancel`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..api import RemoteDevClient
from .state import SyncState

PIECE = 64 * 1024
"""Bodies are sent and received in pieces of this size; a cancel takes effect between two."""


class Mover:
    """The client, project state, byte counter and cancel switch of one transfer."""

    def __init__(
        self,
        client: RemoteDevClient,
        state: SyncState,
        on_bytes: Callable[[int], None] | None = None,
    ):
        self.client = client
        self.state = state
        self.on_bytes = on_bytes or (lambda n: None)
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        """Stop every request in flight at its next piece (from any thread)."""
        self.cancelled.set()

    def files_url(self, relative: str) -> str:
        return self.client.api_url("files/" + self.state.remote_path(relative))

"""A plain TCP relay for benchmarks: what any userspace proxy hop costs, without HTTP.

    python benchmarks/tcp_relay.py PORT UPSTREAM_PORT

Listens on 127.0.0.1:PORT (prints "ready" once it does) and copies both ways between each
connection and 127.0.0.1:UPSTREAM_PORT through a 64 KiB buffer, two threads per connection.
"""

from __future__ import annotations

import socket
import sys
import threading

BUFFER = 64 * 1024


def pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy ``source`` to ``sink`` until ``source`` ends, then end ``sink``'s sending side."""
    buffer = bytearray(BUFFER)
    view = memoryview(buffer)
    try:
        while count := source.recv_into(buffer):
            sink.sendall(view[:count])
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def main() -> None:
    port, upstream = int(sys.argv[1]), int(sys.argv[2])
    listener = socket.create_server(("127.0.0.1", port))
    print("ready", flush=True)
    while True:
        client, _ = listener.accept()
        server = socket.create_connection(("127.0.0.1", upstream))
        for sock in (client, server):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=pump, args=(client, server), daemon=True).start()
        threading.Thread(target=pump, args=(server, client), daemon=True).start()


if __name__ == "__main__":
    main()

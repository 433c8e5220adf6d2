"""The floor for file benchmarks: the least a streaming tornado PUT/GET server can do, with fsync.

    python benchmarks/floor_server.py PORT ROOT

PUT /<name> streams the body to a temp file, fsyncs it, renames it into place and fsyncs the
folder (the durability ours gives); GET /<name> streams the file in 1 MiB chunks. No auth, no
hashing, no checks: a lower bound, not a product.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile

from tornado import web

CHUNK = 1024 * 1024


@web.stream_request_body
class FloorHandler(web.RequestHandler):
    def initialize(self, root: str):
        self.root = root

    def prepare(self):
        if self.request.method == "PUT":
            self.request.connection.set_max_body_size(1 << 40)
            fd, self.temp = tempfile.mkstemp(dir=self.root)
            self.file = os.fdopen(fd, "wb")

    def data_received(self, chunk: bytes):
        self.file.write(chunk)

    def put(self, name: str):
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.temp, os.path.join(self.root, name))
        folder = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)  # as ours: the rename is durable
        os.fsync(folder)
        os.close(folder)
        self.set_status(201)

    async def get(self, name: str):
        with open(os.path.join(self.root, name), "rb") as file:
            self.set_header("Content-Length", os.fstat(file.fileno()).st_size)
            while chunk := file.read(CHUNK):
                self.write(chunk)
                await self.flush()


async def main(port: int, root: str) -> None:
    app = web.Application([(r"/(.+)", FloorHandler, {"root": root})])
    app.listen(port, address="127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))

"""A 1 GiB PUT and GET through the drive: bodies stream, the server's RSS grows < 64 MiB."""

from __future__ import annotations

import hashlib
import threading
import time

import psutil
import pytest

from .dav_support import dav_server

GiB = 1024**3
BLOCK = bytes(range(256)) * 4096  # 1 MiB
RSS_BUDGET = 64 * 1024**2


class PeakRss:
    """Samples a process's RSS every 50 ms in a thread; ``peak`` is the highest seen."""

    def __init__(self, pid: int):
        self.process = psutil.Process(pid)
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@pytest.mark.timeout(600)
def test_one_gib_put_and_get_stream_with_flat_rss(tmp_path):
    """Over jupyter_server's 512 MiB max_body_size, no Content-Length (chunked) on the way up."""
    with dav_server(tmp_path) as server, server.client() as client:
        client.request("PROPFIND", server.dav, headers={"Depth": "1"})  # warm up the code paths
        client.put(server.dav + "warm.bin", content=BLOCK)
        client.get(server.dav + "warm.bin")
        baseline = psutil.Process(server.process.pid).memory_info().rss
        expected = hashlib.sha256()

        def body():
            for _ in range(GiB // len(BLOCK)):
                expected.update(BLOCK)
                yield BLOCK

        with PeakRss(server.process.pid) as rss:
            started = time.monotonic()
            put = client.put(server.dav + "big.bin", content=body())
            assert put.status_code == 201, put.text
            assert put.headers["ETag"] == f'"{expected.hexdigest()}"'
            received, size = hashlib.sha256(), 0
            with client.stream("GET", server.dav + "big.bin") as get:
                assert get.status_code == 200
                assert get.headers["ETag"] == f'"{expected.hexdigest()}"'
                for chunk in get.iter_bytes(1024 * 1024):
                    received.update(chunk)
                    size += len(chunk)
            elapsed = time.monotonic() - started
        assert size == GiB and received.hexdigest() == expected.hexdigest()
        assert (server.root / "big.bin").stat().st_size == GiB
        (server.root / "big.bin").unlink()
        growth = rss.peak - baseline
        print(f"1 GiB PUT+GET in {elapsed:.1f} s, server RSS growth {growth / 1024**2:.1f} MiB")
        assert growth < RSS_BUDGET, f"server RSS grew by {growth / 1024**2:.0f} MiB"

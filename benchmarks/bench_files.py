"""Issue 2's file benchmarks, side by side in one run; prints a markdown table of ratios.

    BENCH_DIR=/var/tmp python benchmarks/bench_files.py [--quick]

Compared on the same machine and loopback: our ``remote-dev/api`` endpoints, the Jupyter Contents
API of the same server (one base64 JSON PUT, and 1 MiB chunks as JupyterLab uploads), scp and
rsync over a throwaway loopback sshd, and ``floor_server.py`` (a bare streaming tornado PUT/GET
with the same fsyncs as ours: file and folder) as the floor. Every process is started here and
stopped at the end. Methods are interleaved round by round so that load from other users of the
machine hits them alike, and each timed command starts after ``os.sync()``.
``BENCH_DIR`` picks where the files go (default: the system temp folder; on the shared build
machine creating a file under /tmp cost 3-50x more than under /var/tmp, which would bury the
small-file comparisons, so it ran with ``BENCH_DIR=/var/tmp``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import httpx
from common import (
    _stop,
    _wait_for_port,
    free_port,
    jupyter_server,
    loopback_sshd,
    reset_peak_rss,
    rss_bytes,
)

MiB = 1024 * 1024
HERE = Path(__file__).parent


@contextlib.contextmanager
def floor_server(root: Path):
    """The bare streaming tornado server, as a subprocess; yields its base URL."""
    port = free_port()
    argv = [sys.executable, str(HERE / "floor_server.py"), str(port), str(root)]
    process = subprocess.Popen(argv, start_new_session=True)
    try:
        _wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/"
    finally:
        _stop(process)


def timed(function, *args) -> float:
    """Seconds ``function`` takes, started after ``os.sync()``: no method pays for the dirty pages
    the one before it left (rsync and scp fsync nothing; our server and the floor do)."""
    os.sync()
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def median_time(repeats: int, function, *args) -> float:
    return statistics.median(timed(function, *args) for _ in range(repeats))


def make_file(path: Path, size: int) -> None:
    block = os.urandom(MiB)
    with open(path, "wb") as out:
        for _ in range(size // MiB):
            out.write(block[:64] + os.urandom(64) + block[128:])


def chunks_of(path: Path):
    with open(path, "rb") as file:
        while chunk := file.read(MiB):
            yield chunk


def stream_put(client: httpx.Client, url: str, path: Path, headers=None) -> None:
    size = str(path.stat().st_size)
    answer = client.put(
        url, content=chunks_of(path), headers={**(headers or {}), "Content-Length": size}
    )
    answer.raise_for_status()


def stream_get(client: httpx.Client, url: str, dest: Path, headers=None) -> None:
    with client.stream("GET", url, headers=headers) as answer, open(dest, "wb") as out:
        answer.raise_for_status()
        for chunk in answer.iter_raw(MiB):
            out.write(chunk)


def contents_put(client, server, name: str, path: Path) -> None:
    body = {
        "type": "file",
        "format": "base64",
        "content": base64.b64encode(path.read_bytes()).decode(),
    }
    client.put(
        f"{server.url}api/contents/{name}", json=body, headers=server.headers
    ).raise_for_status()


def contents_put_chunked(client, server, name: str, path: Path) -> None:
    """1 MiB base64 chunks numbered 1..n, the last -1, as JupyterLab's uploader sends them."""
    blocks = list(range(0, path.stat().st_size, MiB))
    with open(path, "rb") as file:
        for index, _ in enumerate(blocks):
            number = -1 if index == len(blocks) - 1 else index + 1
            content = base64.b64encode(file.read(MiB)).decode()
            body = {"type": "file", "format": "base64", "chunk": number, "content": content}
            url = f"{server.url}api/contents/{name}"
            client.put(url, json=body, headers=server.headers).raise_for_status()


def contents_get(client, server, name: str, dest: Path) -> None:
    url = f"{server.url}api/contents/{name}?content=1&format=base64&type=file"
    answer = client.get(url, headers=server.headers)
    answer.raise_for_status()
    dest.write_bytes(base64.b64decode(answer.json()["content"]))


def run(argv: list[str]) -> None:
    subprocess.run(argv, check=True)


def bench_big(work: Path, server, floor: str, ssh, size: int, repeats: int) -> list[tuple]:
    """Upload and download of one big file by every method, interleaved round by round so load
    from other users of the machine hits all alike; (method, up s, down s, server RSS MiB)."""
    source, down = work / "big.bin", work / "big.down"
    make_file(source, size)
    ssh_dest = work / "ssh"
    ssh_dest.mkdir()
    remote = f"{ssh.host}:{ssh_dest}/big.bin"
    client = httpx.Client(timeout=600)
    ours, auth = f"{server.api}files/big/big.bin", server.headers

    def rsync_up():
        (ssh_dest / "big.bin").unlink(missing_ok=True)
        run([*ssh.rsync, str(source), remote])

    def rsync_down():
        down.unlink(missing_ok=True)
        run([*ssh.rsync, remote, str(down)])

    methods = [  # name, upload, download, measure server RSS
        ("remote-dev PUT/GET files/", lambda: stream_put(client, ours, source, auth),
         lambda: stream_get(client, ours, down, auth), True),
        ("floor: bare tornado + fsync", lambda: stream_put(client, f"{floor}big.bin", source),
         lambda: stream_get(client, f"{floor}big.bin", down), False),
        ("Contents API, one base64 JSON", lambda: contents_put(client, server, "big1.bin", source),
         lambda: contents_get(client, server, "big1.bin", down), True),
        ("Contents API, 1 MiB chunks (Lab)",
         lambda: contents_put_chunked(client, server, "big2.bin", source), None, True),
        ("scp", lambda: run([*ssh.scp, str(source), remote]),
         lambda: run([*ssh.scp, remote, str(down)]), False),
        ("rsync", rsync_up, rsync_down, False),
    ]  # fmt: skip
    ups: dict[str, list[float]] = {m[0]: [] for m in methods}
    downs: dict[str, list[float]] = {m[0]: [] for m in methods}
    rss: dict[str, float] = {}
    with client:
        for _ in range(repeats):
            for name, up, get, watch_rss in methods:
                if watch_rss:
                    reset_peak_rss(server.pid)
                    before = rss_bytes(server.pid)[0]
                ups[name].append(timed(up))
                if watch_rss:
                    growth = (rss_bytes(server.pid)[1] - before) / MiB
                    rss[name] = max(rss.get(name, growth), growth)
                if get is not None:
                    downs[name].append(timed(get))
    source.unlink()
    down.unlink(missing_ok=True)
    return [
        (name, statistics.median(ups[name]),
         statistics.median(downs[name]) if downs[name] else None, rss.get(name),
         min(ups[name]), min(downs[name]) if downs[name] else None)
        for name, *_ in methods
    ]  # fmt: skip


def bench_saves(server, floor: str, ssh, work: Path, count: int) -> dict[str, float]:
    """p50 seconds of a 4 KiB save on a keep-alive connection (scp: a new connection each)."""
    auth = server.headers
    requests = {  # name: (url, how the 4 KiB text is sent, extra headers)
        "ours": (f"{server.api}files/save.py", "raw", auth),
        "contents": (f"{server.url}api/contents/save.py", "json", auth),
        "floor": (f"{floor}save.py", "raw", {}),
        "info": (f"{server.api}info", "get", auth),
        "floor_get": (f"{floor}save.py", "get", {}),
    }
    results: dict[str, list[float]] = {name: [] for name in [*requests, "scp"]}
    with httpx.Client(timeout=60) as client:
        for i in range(count):
            text = (f"line {i}\n" * 600)[:4096]
            for name, (url, kind, headers) in requests.items():
                method, send = "PUT", {"content": text.encode()}
                if kind == "json":
                    send = {"json": {"type": "file", "format": "text", "content": text}}
                elif kind == "get":
                    method, send = "GET", {}
                started = time.perf_counter()
                client.request(method, url, headers=headers, **send).raise_for_status()
                results[name].append(time.perf_counter() - started)
    local = work / "save.py"
    local.write_bytes(b"x" * 4096)
    for _ in range(max(count // 15, 5)):
        results["scp"].append(timed(run, [*ssh.scp, str(local), f"{ssh.host}:{work}/save-scp.py"]))
    return {name: statistics.median(times) for name, times in results.items()}


def bench_big_upload_rss(server, size: int) -> float:
    """Server peak RSS growth (MiB) while ``size`` bytes are PUT to files/."""
    block = os.urandom(MiB)

    def body():
        for i in range(size // MiB):
            yield block[:8] + i.to_bytes(8, "big") + block[16:]

    reset_peak_rss(server.pid)
    before = rss_bytes(server.pid)[0]
    with httpx.Client(timeout=600) as client:
        headers = {**server.headers, "Content-Length": str(size)}
        client.put(
            f"{server.api}files/huge/huge.bin", content=body(), headers=headers
        ).raise_for_status()
        client.delete(
            f"{server.api}files/huge?recursive=1", headers=server.headers
        ).raise_for_status()
    return (rss_bytes(server.pid)[1] - before) / MiB


def make_tree(root: Path, count: int) -> list[Path]:
    files = []
    for i in range(count):
        path = root / f"pkg{i % 40:02}" / f"mod{i:05}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((f"# module {i}\n" + "x = 1\n" * (50 + i % 500)).encode())
        files.append(path)
    return files


def bench_tree_upload(server, ssh, work: Path, count: int) -> dict[str, float]:
    """First upload of ``count`` small files by batch, per-file PUT, Contents API, scp, rsync."""
    local = work / "tree"
    files = make_tree(local, count)
    times = {}
    with httpx.Client(timeout=600) as client:

        def batch():
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
                for path in files:  # what a client does: no uid/gid name lookups
                    st = path.stat()
                    info = tarfile.TarInfo(str(path.relative_to(local)))
                    info.size, info.mode, info.mtime = st.st_size, st.st_mode & 0o777, st.st_mtime
                    with open(path, "rb") as file:
                        archive.addfile(info, file)
            answer = client.post(
                f"{server.api}batch?root=t-batch",
                content=buffer.getvalue(),
                headers={**server.headers, "Content-Type": "application/x-tar"},
            )
            answer.raise_for_status()
            assert answer.json()["failed"] == 0

        def per_file_put():
            for path in files:
                url = f"{server.api}files/t-put/{path.relative_to(local)}"
                client.put(
                    url, content=path.read_bytes(), headers=server.headers
                ).raise_for_status()

        def contents_api():
            api = f"{server.url}api/contents/t-contents"
            client.put(api, json={"type": "directory"}, headers=server.headers).raise_for_status()
            for folder in sorted({p.parent for p in files}):
                url = f"{api}/{folder.relative_to(local)}"
                client.put(
                    url, json={"type": "directory"}, headers=server.headers
                ).raise_for_status()
            for path in files:
                body = {"type": "file", "format": "text", "content": path.read_text()}
                client.put(
                    f"{api}/{path.relative_to(local)}", json=body, headers=server.headers
                ).raise_for_status()

        times["remote-dev POST batch (tar)"] = timed(batch)
        times["remote-dev PUT files/ per file"] = timed(per_file_put)
        times["Contents API per file"] = timed(contents_api)
    times["scp -r"] = timed(run, [*ssh.scp, "-r", str(local), f"{ssh.host}:{work}/t-scp"])
    times["rsync -a"] = timed(run, [*ssh.rsync, "-a", f"{local}/", f"{ssh.host}:{work}/t-rsync/"])
    return times


def bench_manifest(server, root: Path, count: int) -> tuple[float, float, float]:
    """GET tree/ of a fresh ``count``-file tree: the first (hashing every file), an unchanged
    repeat, and a repeat sending the first answer's ETag (304); request and response only."""
    make_tree(root / "m10k", count)
    time.sleep(0.1)
    with httpx.Client(timeout=600) as client:
        url = f"{server.api}tree/m10k"

        def manifest(headers=server.headers):
            answer = client.get(url, headers=headers)
            assert answer.status_code in (200, 304) and answer.read() is not None
            return answer

        started = time.perf_counter()
        first = manifest()
        first_time = time.perf_counter() - started
        assert len(first.json()["files"]) == count
        conditional = {**server.headers, "If-None-Match": first.headers["ETag"]}
        assert manifest(conditional).status_code == 304
        return first_time, median_time(3, manifest), median_time(3, manifest, conditional)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    options = parser.parse_args()
    big, huge, saves, tree, manifest = (
        (8 * MiB, 64 * MiB, 30, 100, 500)
        if options.quick
        else (100 * MiB, 1024 * MiB, 300, 2000, 10_000)
    )
    repeats = 1 if options.quick else 7
    with tempfile.TemporaryDirectory(prefix="bench-files-", dir=os.environ.get("BENCH_DIR")) as tmp:
        work, root, floor_root = Path(tmp) / "work", Path(tmp) / "root", Path(tmp) / "floor"
        for folder in (work, root, floor_root):
            folder.mkdir()
        size_limit = f"--RemoteDevExtension.max_upload_size={4 * huge}"
        body_limit = f"--ServerApp.max_body_size={4 * huge}"
        with (
            jupyter_server(root, size_limit, body_limit) as server,
            floor_server(floor_root) as floor,
            loopback_sshd() as ssh,
        ):
            huge_rss = bench_big_upload_rss(server, huge)  # first: on a fresh server's heap
            big_rows = bench_big(work, server, floor, ssh, big, repeats)
            save_p50 = bench_saves(server, floor, ssh, work, saves)
            tree_times = bench_tree_upload(server, ssh, work, tree)
            manifest_times = bench_manifest(server, root, manifest)
        report(big, big_rows, save_p50, huge, huge_rss, tree, tree_times, manifest, manifest_times)
        shutil.rmtree(tmp, ignore_errors=True)


def report(big, big_rows, save_p50, huge, huge_rss, tree, tree_times, manifest, manifest_times):
    """Print the measured tables and the issue's targets as markdown."""
    mb = big / 1e6
    print(f"\n### {big // MiB} MiB file, median of runs (MB/s; server peak RSS growth)\n")
    print(
        "| method | upload MB/s | download MB/s | server RSS growth on upload |\n|---|---|---|---|"
    )
    for name, up, down, rss, _, _ in big_rows:
        down_cell = f"{mb / down:.0f}" if down else "-"
        rss_cell = f"{rss:+.0f} MiB" if rss is not None else "-"
        print(f"| {name} | {mb / up:.0f} | {down_cell} | {rss_cell} |")
    up = {row[0]: mb / row[1] for row in big_rows}
    down = {row[0]: mb / row[2] for row in big_rows if row[2]}
    best_up = {row[0]: mb / row[4] for row in big_rows}
    best_down = {row[0]: mb / row[5] for row in big_rows if row[5]}
    first, repeat, conditional = manifest_times
    ours, floor = "remote-dev PUT/GET files/", "floor: bare tornado + fsync"
    contents_up = max(up["Contents API, one base64 JSON"], up["Contents API, 1 MiB chunks (Lab)"])
    batch, rsync = tree_times["remote-dev POST batch (tar)"], tree_times["rsync -a"]
    targets = [  # label, measured, comparison, bound
        ("upload vs Contents API (faster variant)", up[ours] / contents_up, ">=", 3),
        ("download vs Contents API", down[ours] / down["Contents API, one base64 JSON"], ">=", 3),
        ("upload vs floor (medians)", up[ours] / up[floor], ">=", 0.8),
        ("upload vs floor (best runs)", best_up[ours] / best_up[floor], ">=", 0.8),
        ("download vs floor (medians)", down[ours] / down[floor], ">=", 0.8),
        ("download vs floor (best runs)", best_down[ours] / best_down[floor], ">=", 0.8),
        ("upload vs scp", up[ours] / up["scp"], ">=", 1),
        ("download vs scp", down[ours] / down["scp"], ">=", 1),
        ("4 KiB save p50 vs Contents API", save_p50["ours"] / save_p50["contents"], "<=", 0.5),
        ("4 KiB save p50 vs floor (both fsync file + folder)", save_p50["ours"] / save_p50["floor"], "<=", 1.2),  # noqa: E501
        (f"server RSS growth (MiB), {huge // MiB} MiB upload", huge_rss, "<", 50),
        (f"{tree} files first upload, batch vs rsync", batch / rsync, "<", 1),
        (f"unchanged {manifest}-file manifest vs first", repeat / first, "<", 0.3),
        (f"unchanged {manifest}-file manifest, 304, vs first", conditional / first, "<", 0.3),
    ]  # fmt: skip
    print("\n### 4 KiB save, p50 on a keep-alive connection\n\n| method | p50 ms |\n|---|---|")
    labels = {
        "ours": "remote-dev PUT files/ (fsync file + folder)",
        "contents": "Contents API PUT (text; fsync file)",
        "floor": "floor (fsync file + folder)",
        "scp": "scp, new connection per save (no fsync)",
        "info": "context: GET info (Jupyter's own per-request cost)",
        "floor_get": "context: floor GET of the 4 KiB file",
    }
    for name, label in labels.items():
        print(f"| {label} | {save_p50[name] * 1000:.1f} |")
    print(f"\n### {tree} small files, first upload\n\n| method | seconds |\n|---|---|")
    for name, seconds in tree_times.items():
        print(f"| {name} | {seconds:.2f} |")
    print(f"\n### Manifest (GET tree/) of a {manifest}-file tree\n")
    print("| first (hashes every file) | unchanged repeat | repeat with If-None-Match (304) |")
    print("|---|---|---|")
    print(f"| {first:.3f} s | {repeat:.3f} s ({repeat / first:.2f}x) | {conditional:.3f} s |")
    print("\n### Targets\n\n| target | measured | met |\n|---|---|---|")
    for label, value, comparison, bound in targets:
        met = {">=": value >= bound, "<=": value <= bound, "<": value < bound}[comparison]
        print(f"| {label} {comparison} {bound} | {value:.2f} | {'yes' if met else 'NO'} |")


if __name__ == "__main__":
    main()

"""The CLI as a user runs it (subprocesses) against a real Jupyter server with the extension."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from jupyter_remote_dev.client import errors, transport
from jupyter_remote_dev.client.api import RemoteDevClient
from jupyter_remote_dev.client.profiles import Profile
from jupyter_remote_dev.client.sync import transfer, uploads
from jupyter_remote_dev.client.sync.state import SyncState

from .cli_support import CLI, Forwarder, cli, login, wait_for


async def test_cli_login_refuses_bad_token_and_stores_good_one(laptop, server_url, token):
    """A wrong token is one clear line and saves nothing; the right one is saved 0600."""
    bad = await cli(laptop, "login", server_url, "--token-stdin", stdin="wrong\n")
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1 and "token was refused" in bad.stderr
    saved = Path(laptop["env"]["JUPYTER_CONFIG_DIR"]) / "remote_dev_profiles.json"
    assert not saved.exists()
    laptop["env"]["JUPYTER_REMOTE_DEV_TOKEN"] = token
    good = await cli(laptop, "login", server_url, "--profile", "lab", "--json")
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["profile"]["name"] == "lab"
    assert saved.stat().st_mode & 0o777 == 0o600
    assert token not in good.stdout + good.stderr
    out = await cli(laptop, "logout", "--profile", "lab")
    assert out.returncode == 0 and "lab" not in json.loads(saved.read_text())["profiles"]


def write_self_signed_cert(key_path: Path, cert_path: Path) -> None:
    """A throwaway certificate for 127.0.0.1 that no CA vouches for (cryptography comes with
    JupyterHub, through certipy)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@pytest.fixture
def self_signed_tls_port(tmp_path):
    """A TLS server on loopback whose certificate no CA vouches for."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    write_self_signed_cert(key, cert)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with contextlib.suppress(OSError), context.wrap_socket(connection, server_side=True):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    listener.close()


async def test_cli_connection_errors_are_one_line(laptop, server_url, token, self_signed_tls_port):
    """Nothing listening, a wrong path and an untrusted certificate each get one clear line."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    cases = {
        f"http://127.0.0.1:{closed_port}/": "cannot connect to 127.0.0.1",
        server_url + "nope/": "no remote-dev API",
        f"https://127.0.0.1:{self_signed_tls_port}/": "TLS error",
    }
    for url, message in cases.items():
        result = await cli(laptop, "login", url, "--token-stdin", stdin=token + "\n")
        assert result.returncode == 1, url
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, url
    assert "--ca-bundle" in result.stderr


async def test_cli_push_refuses_to_clobber_then_force_and_pull(
    laptop, server_url, token, jp_root_dir
):
    """push uses If-Match: a server-side edit is skipped until --force; pull brings edits down."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    (project / "a.py").write_text("v1\n")
    assert (await cli(logged_in, "push", "a.py", "--yes", "--remote", "p")).returncode == 0
    assert (jp_root_dir / "p" / "a.py").read_text() == "v1\n"
    (jp_root_dir / "p" / "a.py").write_text("server\n")
    (project / "a.py").write_text("laptop\n")
    refused = await cli(logged_in, "push", "a.py")
    assert "skipped" in refused.stdout and "changed on both sides" in refused.stdout
    assert (jp_root_dir / "p" / "a.py").read_text() == "server\n"
    forced = await cli(logged_in, "push", "a.py", "--force")
    assert forced.returncode == 0, forced.stderr
    assert (jp_root_dir / "p" / "a.py").read_text() == "laptop\n"
    (jp_root_dir / "p" / "sub").mkdir()
    (jp_root_dir / "p" / "sub" / "b.txt").write_text("remote file\n")
    pulled = await cli(logged_in, "pull", ".")
    assert pulled.returncode == 0, pulled.stderr
    assert (project / "sub" / "b.txt").read_text() == "remote file\n"
    status = json.loads((await cli(logged_in, "status", "--json")).stdout)
    assert status["folder"]["remote_dir"] == "p"
    assert sum(status["folder"]["pending"].values()) == 0


async def test_cli_sync_dry_run_changes_nothing(laptop, server_url, token, jp_root_dir):
    """--dry-run prints the plan and leaves both sides and the state untouched."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    (project / "x.py").write_text("x\n")
    result = await cli(logged_in, "sync", "--yes", "--remote", "dry", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["actions"] == [
        {"kind": "push", "path": "x.py", "reason": "new here"}
    ]
    assert not (jp_root_dir / "dry").exists()
    assert not (project / ".jupyter-remote-dev" / "state.json").exists()


async def test_cli_run_streams_output_and_exit_code(laptop, server_url, token, jp_root_dir):
    """run writes remote stdout/stderr to the local ones and exits with the remote code."""
    logged_in = await login(laptop, server_url, token)
    (jp_root_dir / "w").mkdir()
    code = "import sys; sys.stdout.write('out'); sys.stderr.write('err'); sys.exit(42)"
    result = await cli(logged_in, "run", "--cwd", "w", "--", sys.executable, "-c", code)
    assert (result.returncode, result.stdout, result.stderr) == (42, "out", "err")


async def test_cli_run_dropped_connection_exits_nonzero(
    laptop, server_url, token, jp_http_port, jp_root_dir
):
    """A connection lost mid-run exits 255 with a message, never 0, and the command is stopped."""
    forwarder = Forwarder(jp_http_port)
    port = await forwarder.start()
    await login(laptop, server_url.replace(str(jp_http_port), str(port)), token, "--profile", "fwd")
    code = "import os, time; open('pid', 'w').write(str(os.getpid())); print('up'); time.sleep(60)"
    process = await asyncio.create_subprocess_exec(
        CLI, "run", "--profile", "fwd", "--", sys.executable, "-u", "-c", code,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=laptop["env"], cwd=laptop["project"],
    )  # fmt: skip
    try:
        assert await asyncio.wait_for(process.stdout.readline(), 30) == b"up\n"
        forwarder.drop()
        assert await asyncio.wait_for(process.wait(), 30) == 255
    finally:
        await forwarder.close()
    assert "exit status is unknown" in (await process.stderr.read()).decode()
    pid = int((jp_root_dir / "pid").read_text())
    await wait_for(lambda: not _alive(pid), timeout=15)


async def test_cli_run_ctrl_c_stops_the_remote_command(laptop, server_url, token, jp_root_dir):
    """Ctrl-C (SIGINT) ends the CLI with 130 and the remote process is stopped."""
    await login(laptop, server_url, token)
    code = "import os, time; open('pid', 'w').write(str(os.getpid())); print('up'); time.sleep(60)"
    process = await asyncio.create_subprocess_exec(
        CLI, "run", "--cwd", "", "--", sys.executable, "-u", "-c", code,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=laptop["env"], cwd=laptop["project"],
    )  # fmt: skip
    assert await asyncio.wait_for(process.stdout.readline(), 30) == b"up\n"
    pid = int((jp_root_dir / "pid").read_text())
    process.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(process.wait(), 30) == 130
    await wait_for(lambda: not _alive(pid), timeout=10)


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


async def test_cli_watch_pushes_saves_and_survives_a_blip(
    laptop, server_url, token, jp_http_port, jp_root_dir
):
    """sync --watch pushes a saved file, retries across a dropped network, stops on Ctrl-C."""
    logged_in = laptop
    forwarder = Forwarder(jp_http_port)
    port = await forwarder.start()
    url = server_url.replace(str(jp_http_port), str(port))
    assert (await cli(logged_in, "login", url, "--profile", "fwd", "--token-stdin",
                      stdin=token + "\n")).returncode == 0  # fmt: skip
    project = logged_in["project"]
    (project / "seed.py").write_text("seed\n")
    process = await asyncio.create_subprocess_exec(
        CLI, "sync", "--profile", "fwd", "--remote", "wd", "--watch", "--yes",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=logged_in["env"], cwd=project,
    )  # fmt: skip
    try:
        target = jp_root_dir / "wd"
        await wait_for(lambda: (target / "seed.py").exists())
        await asyncio.sleep(0.3)
        (project / "seed.py").write_text("edited\n")
        await wait_for(lambda: (target / "seed.py").read_text() == "edited\n")
        forwarder.drop(stay_down=True)
        (project / "during_blip.py").write_text("queued\n")
        await asyncio.sleep(1.5)
        assert not (target / "during_blip.py").exists()
        forwarder.up = True
        await wait_for(lambda: (target / "during_blip.py").exists(), timeout=20)
        (project / "seed.py").unlink()
        await wait_for(lambda: not (target / "seed.py").exists())
        (project / "new" / "deeper").mkdir(parents=True)
        (project / "new" / "deeper" / "made.py").write_text("in a new folder\n")
        await wait_for(lambda: (target / "new" / "deeper" / "made.py").exists())
    finally:
        process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), 30)
        stderr = (await process.stderr.read()).decode()
        await forwarder.close()
    assert code == 0, stderr
    assert "waiting" in stderr and "resumed" in stderr and "stopped watching" in stderr


@pytest.fixture
def remote_dev_config():
    return {"max_upload_size": 4 * 1024 * 1024}


async def test_cli_push_over_the_server_limit_names_the_setting(laptop, server_url, token):
    """A file over max_upload_size fails with a line naming the setting."""
    logged_in = await login(laptop, server_url, token)
    (logged_in["project"] / "big.bin").write_bytes(b"\0" * (5 * 1024 * 1024))
    result = await cli(logged_in, "push", "--yes", "big.bin")
    assert result.returncode == 1
    assert "max_upload_size" in result.stdout


def test_raise_for_status_names_the_ingress_body_limit():
    """An nginx 413 (HTML, not our JSON) is explained as the ingress proxy-body-size limit."""
    request = httpx.Request("PUT", "https://hub.example.com/user/a/remote-dev/api/files/x")
    response = httpx.Response(
        413, headers={"server": "nginx"}, text="<html>413</html>", request=request
    )
    with pytest.raises(errors.ClientError, match="proxy-body-size"):
        transport.raise_for_status(response)


async def test_transfer_batches_small_files_and_resumes_large(
    jp_serverapp, server_url, token, tmp_path, jp_root_dir, monkeypatch
):
    """Many small files go in one batch request; a big file uses resumable uploads in segments."""
    monkeypatch.setattr(uploads, "RESUMABLE_FILE", 2 * 1024 * 1024)
    monkeypatch.setattr(uploads, "UPLOAD_SEGMENT", 1024 * 1024)
    local = tmp_path / "local"
    local.mkdir()
    for i in range(50):
        (local / f"f{i}.txt").write_text(f"{i}\n")
    big = os.urandom(3 * 1024 * 1024 + 5)
    (local / "big.bin").write_bytes(big)
    requests = []

    def go():
        client = RemoteDevClient(Profile("t", server_url, token))
        client.http.event_hooks["request"].append(lambda r: requests.append((r.method, r.url.path)))
        with client:
            state = SyncState(local, "t", "up")
            moves = transfer.Transfer(client, state)
            return moves.run(moves.plan())

    report = await asyncio.to_thread(go)
    assert not report.failed
    assert (jp_root_dir / "up" / "big.bin").read_bytes() == big
    assert (jp_root_dir / "up" / "f49.txt").read_text() == "49\n"
    paths = [path.split("remote-dev/api/")[1] for _, path in requests]
    assert paths.count("batch") == 1
    assert paths.count("uploads") == 1 and sum(p.startswith("uploads/") for p in paths) == 4
    assert not any(p.startswith("files/") for p in paths)

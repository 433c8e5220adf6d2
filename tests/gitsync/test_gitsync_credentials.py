"""Smart HTTP with Basic auth (a real ``git http-backend``): the token never leaks anywhere."""

import base64
import json
import logging
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ..support.gitsync_support import git, laptop_clone, laptop_push, make_remote, make_sync, write

TOKEN = "ghs_S3cr3tT0kenValue1234567890abcdef"
USER = "x-access-token"


class GitHTTPBackend(BaseHTTPRequestHandler):
    """Runs ``git http-backend`` as CGI for every request carrying the right Basic credentials."""

    project_root: Path
    requests: list[str]
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        self.run_backend()

    def do_POST(self):
        self.run_backend()

    def log_message(self, format, *args):
        self.requests.append(format % args)

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while size := int(self.rfile.readline().strip(), 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
            return body
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def run_backend(self):
        expected = "Basic " + base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ["PATH"],
            "GIT_PROJECT_ROOT": str(self.project_root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "REMOTE_USER": USER,
            "REMOTE_ADDR": "127.0.0.1",
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
        }
        body = self.read_body() if self.command == "POST" else b""
        env["CONTENT_LENGTH"] = str(len(body))
        result = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
        )
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def http_remote(tmp_path):
    """A bare repo served over smart HTTP on a loopback port, Basic auth required."""
    bare = make_remote(tmp_path)
    git(bare, "config", "http.receivepack", "true")
    requests: list[str] = []
    handler = type("Handler", (GitHTTPBackend,), {"project_root": tmp_path, "requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/remote.git", bare, requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def all_text_under(folder: Path) -> str:
    """Every file under ``folder`` (loose objects are zlib; config, logs, state are text)."""
    return "\n".join(
        path.read_bytes().decode("latin-1") for path in folder.rglob("*") if path.is_file()
    )


def assert_token_nowhere(sync, requests, caplog, *texts):
    workspace = sync.workspace
    assert TOKEN not in (workspace / ".git" / "config").read_text()
    assert TOKEN not in all_text_under(workspace / ".git")
    assert TOKEN not in git(workspace, "remote", "-v")
    assert TOKEN not in json.dumps(sync.status())
    assert TOKEN not in caplog.text
    assert not any(TOKEN in line for line in requests)
    for text in texts:
        assert TOKEN not in text


def test_credentials_env_token_syncs_over_http_without_leaking(
    tmp_path, http_remote, monkeypatch, caplog
):
    """Init and cycles over authenticated smart HTTP work; the token is in no file or output."""
    caplog.set_level(logging.DEBUG)
    url, bare, requests = http_remote
    monkeypatch.setenv("JUPYTER_REMOTE_DEV_GIT_TOKEN", TOKEN)
    sync = make_sync(tmp_path, url, upstream="main")
    report = sync.init()
    assert report.result == "ok", report.message
    write(sync.workspace / "server.txt", "from the server\n")
    laptop = laptop_clone(tmp_path, bare)
    write(laptop / "laptop.txt", "from the laptop\n")
    laptop_push(laptop)
    report = sync.cycle()
    assert report.result == "ok", report.message
    assert (sync.workspace / "laptop.txt").exists()
    assert "server.txt" in git(bare, "ls-tree", "--name-only", "remote-dev/alice")
    assert any("git-receive-pack" in line for line in requests)
    assert sync.status()["repo"] == url
    assert_token_nowhere(sync, requests, caplog, report.message)


def test_credentials_token_file_is_read_at_run_time(tmp_path, http_remote, monkeypatch, caplog):
    """A mounted token file works, and a rotated (wrong) token fails with a clean message."""
    url, _, requests = http_remote
    monkeypatch.delenv("JUPYTER_REMOTE_DEV_GIT_TOKEN", raising=False)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    sync = make_sync(tmp_path, url, token_file=str(token_file))
    assert sync.init().result == "ok"
    token_file.write_text("wrong-token-value\n")
    write(sync.workspace / "x.txt", "x\n")
    failed = sync.cycle()
    assert failed.result == "error" and "Authentication failed" in failed.message
    assert "wrong-token-value" not in failed.message
    token_file.write_text(TOKEN + "\n")
    assert sync.cycle().result == "ok"
    assert_token_nowhere(sync, requests, caplog, failed.message)


def test_credentials_missing_token_fails_without_prompting(tmp_path, http_remote, monkeypatch):
    """No token: git never waits on a terminal prompt; the cycle reports an auth error."""
    url, _, _ = http_remote
    monkeypatch.delenv("JUPYTER_REMOTE_DEV_GIT_TOKEN", raising=False)
    monkeypatch.delenv("JUPYTER_REMOTE_DEV_GIT_TOKEN_FILE", raising=False)
    report = make_sync(tmp_path, url).init()
    assert report.result == "error" and "Authentication failed" in report.message


def test_credentials_redact_scrubs_known_tokens(monkeypatch):
    """Any text passed on from git has the token replaced."""
    from jupyter_remote_dev.gitsync.credentials import redact

    monkeypatch.setenv("JUPYTER_REMOTE_DEV_GIT_TOKEN", TOKEN)
    assert redact(f"fatal: https://{USER}:{TOKEN}@h/r") == f"fatal: https://{USER}:***@h/r"

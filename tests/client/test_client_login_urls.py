"""``login`` takes any browser URL of a server and finds the server's base URL in it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from jupyter_remote_dev.client.profiles import HubTarget, ProfileError, ServerURL, read_server_url

from .cli_support import cli

API = "https://h/hub/api/"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8888/lab", ServerURL("http://127.0.0.1:8888/", None)),
        ("http://h:8888/lab/tree/work/x.ipynb", ServerURL("http://h:8888/", None)),
        ("http://h/jupyter/tree", ServerURL("http://h/jupyter/", None)),
        ("http://h/jupyter/notebooks/a/b.ipynb?kernel=x", ServerURL("http://h/jupyter/", None)),
        ("http://h/lab?reset", ServerURL("http://h/", None)),
        ("https://h/user/alice/lab", ServerURL("https://h/user/alice/", HubTarget(API, "alice"))),
        ("https://h/user/alice/tree", ServerURL("https://h/user/alice/", HubTarget(API, "alice"))),
        (
            "https://h/user/alice/lab/tree/x.ipynb",
            ServerURL("https://h/user/alice/", HubTarget(API, "alice")),
        ),
        (
            "https://h/hub/user/alice/notebooks/x.ipynb",
            ServerURL("https://h/user/alice/", HubTarget(API, "alice")),
        ),
        (
            "https://h/user/alice/gpu/lab/tree/x",
            ServerURL("https://h/user/alice/gpu/", HubTarget(API, "alice", "gpu")),
        ),
        (
            "https://h/user/alice/gpu",
            ServerURL("https://h/user/alice/gpu/", HubTarget(API, "alice", "gpu")),
        ),
        (
            "https://h/user/alice/rstudio/auth",
            ServerURL("https://h/user/alice/rstudio/", HubTarget(API, "alice", "rstudio"), True),
        ),
        (
            "https://h/jhub/user/a%40b/lab",
            ServerURL("https://h/jhub/user/a%40b/", HubTarget("https://h/jhub/hub/api/", "a@b")),
        ),
    ],
)
def test_read_server_url_strips_pages_and_finds_named_servers(url, expected):
    """Lab, tree, notebook and named-server URLs give the server's base URL and hub target; a
    segment only a non-Jupyter page path follows is marked as a guessed server name."""
    assert read_server_url(url) == expected


@pytest.mark.parametrize("url", ["https://h/hub/home", "https://h/hub/", "https://h/hub/token"])
def test_read_server_url_refuses_hub_pages(url):
    """A page of the hub itself is not a server: the error says which URL to give."""
    with pytest.raises(ProfileError, match="page of the hub"):
        read_server_url(url)


@pytest.mark.parametrize("page", ["lab", "lab/tree/nb.ipynb", "tree", "notebooks/nb.ipynb"])
async def test_cli_login_takes_a_browser_url(laptop, server_url, token, page):
    """login <server>/lab (and tree, notebooks) logs in to the server's base URL: no traceback."""
    result = await cli(laptop, "login", server_url + page, "--token-stdin", stdin=token + "\n")
    assert result.returncode == 0, result.stderr
    assert f"logged in to {server_url} " in result.stdout
    saved = Path(laptop["env"]["JUPYTER_CONFIG_DIR"]) / "remote_dev_profiles.json"
    assert json.loads(saved.read_text())["profiles"]["default"]["url"] == server_url


@pytest.fixture
def html_server():
    """A loopback web server that answers every GET with a 200 HTML page (a portal, say)."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>JupyterLab</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


async def test_cli_login_html_answer_is_one_line(laptop, html_server):
    """A URL whose info answer is a web page, not the API's JSON, fails in one line (it was a
    JSONDecodeError traceback)."""
    result = await cli(laptop, "login", html_server, "--token-stdin", stdin="t0ken\n")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no remote-dev API" in lines[0] and "text/html" in lines[0]

"""Real receivers on loopback: an SMTP server (aiosmtpd) that insists on STARTTLS and a login, and
an HTTP sink that records webhook bodies and answers a chosen status."""

from __future__ import annotations

import json
import ssl
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from jupyter_remote_dev.embedded.ports import free_port

USER, PASSWORD = "mailer", "s3cret-pw"


class SmtpSink:
    """aiosmtpd on 127.0.0.1 with a throwaway CA: STARTTLS required, then AUTH required."""

    def __init__(self):
        self.ca = trustme.CA()
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1").configure_cert(server_context)
        self.mails: list = []
        self.sessions: list[dict] = []
        self.port = free_port()
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=server_context,
            require_starttls=True,
            authenticator=self._authenticate,
            auth_required=True,
            auth_require_tls=True,
        )

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only the throwaway CA."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server, session, envelope):
        self.sessions.append(
            {"tls": session.ssl is not None, "authenticated": session.authenticated}
        )
        self.mails.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.mails) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.mails


class WebhookSink:
    """A loopback HTTP endpoint recording each JSON body, answering ``status``."""

    def __init__(self, status: int = 200):
        self.status = status
        self.bodies: list[dict] = []
        self.times: list[float] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                sink.bodies.append(json.loads(self.rfile.read(length)))
                sink.times.append(time.monotonic())
                self.send_response(sink.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T000/B000/XXXX"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

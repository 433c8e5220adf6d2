"""A real process tree that burns CPU on request (the spend meter's tests), and a hub login."""

from __future__ import annotations

import subprocess
import sys

import httpx

#: The tree's root: on each line read, runs a child that burns N CPU seconds and is reaped
#: ("reaped N"), or starts one that burns N CPU seconds and then stays alive ("live N").
ROOT = r"""
import subprocess, sys
BURN = "import time, sys\nwhile time.process_time() < float(sys.argv[1]): pass\n"
STAY = BURN + "sys.stdout.write('burnt\\n'); sys.stdout.flush(); sys.stdin.read()\n"
live = []
print("ready", flush=True)
for line in sys.stdin:
    kind, seconds = line.split()
    if kind == "reaped":
        subprocess.run([sys.executable, "-c", BURN, seconds], check=True)
    else:
        child = subprocess.Popen([sys.executable, "-c", STAY, seconds],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        child.stdout.readline()
        live.append(child)
    print("done", flush=True)
for child in live:
    child.stdin.close()
    child.wait()
"""


class BurningTree:
    """The root process; ``burn`` returns once the CPU time is spent."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-c", ROOT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout.readline() == "ready\n"

    @property
    def pid(self) -> int:
        return self.process.pid

    def burn(self, kind: str, seconds: float) -> None:
        self.process.stdin.write(f"{kind} {seconds}\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline() == "done\n"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def logged_in(hub, name: str) -> httpx.Client:
    """An httpx client with a hub login session for ``name`` (the login form, as a browser)."""
    client = httpx.Client(base_url=hub["url"], follow_redirects=True, timeout=30)
    client.get("/hub/login")
    password = hub["admin_password"] if name == "admin" else hub["password"]
    response = client.post(
        "/hub/login",
        data={"username": name, "password": password, "_xsrf": client.cookies.get("_xsrf")},
        follow_redirects=False,  # not on to the user's own server: this hub spawns none
    )
    assert response.status_code == 302, response.text[:500]
    return client

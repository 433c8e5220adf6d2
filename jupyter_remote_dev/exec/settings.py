"""Settings of remote command execution (POST exec)."""

from __future__ import annotations

import os
from collections.abc import Callable

from traitlets import Bool, Float, HasTraits, Int, List, Unicode, default, validate

from ..base.validators import non_negative, positive


class ExecSettings(HasTraits):
    """Whether exec is allowed, its shell, concurrency, timeouts, buffers and retention."""

    allow_exec = Bool(
        True,
        config=True,
        help="""Allow POST exec. Turn off to make the server files-only; exec is also bound by the
        authorizer's rules for the 'terminals' resource.""",
    )
    max_concurrent_exec = Int(
        8,
        config=True,
        help="How many commands may run at once; more answer 429.",
    )
    exec_shell = List(
        Unicode(),
        config=True,
        help="""argv prefix that runs a POST exec "shell" command line (the line is appended).
        Default: ["/bin/bash", "-c"] where bash exists, else ["/bin/sh", "-c"]. A login shell
        (["/bin/bash", "-lc"]) reads profiles, e.g. conda activation, at a start-up cost.""",
    )
    exec_heartbeat_interval = Float(
        15.0,
        config=True,
        help="""Seconds of silence after which an exec stream sends a {"type": "heartbeat"} line,
        so proxies with idle timeouts (an nginx ingress cuts at 60 s) keep a quiet job's stream
        open. Also how often a running command marks the server active for the idle culler.""",
    )
    exec_kill_grace = Float(
        5.0,
        config=True,
        help="""Seconds between SIGTERM and SIGKILL when a command's process group is stopped
        (client disconnect, timeout, DELETE exec/<id>, server shutdown, or leftovers after the
        command itself exited).""",
    )
    exec_max_timeout = Float(
        0.0,
        config=True,
        help="""Longest run time, in seconds, a command may ask for; also the timeout of a command
        that asks for none. 0 means no limit.""",
    )
    exec_output_buffer = Int(
        2 * 1024**2,
        config=True,
        help="""Bytes of output each command may hold in memory. While a client reads, a full
        buffer pauses the command's output (backpressure); while none does (a detached job), the
        oldest output is dropped, so a reattaching client sees the most recent this many bytes.""",
    )
    exec_retention = Float(
        3600.0,
        config=True,
        help="""Seconds a finished detachable command's last output and exit status are kept for
        a client that reattaches (GET exec/<id>); collected at once when a client read the exit.""",
    )

    @default("exec_shell")
    def _exec_shell_default(self):
        return ["/bin/bash", "-c"] if os.path.exists("/bin/bash") else ["/bin/sh", "-c"]

    @validate("exec_shell")
    def _exec_shell_valid(self, proposal):
        if not proposal.value:
            raise ValueError("exec_shell must name a program, e.g. ['/bin/sh', '-c']")
        return proposal.value

    _exec_non_negative = non_negative("exec_max_timeout")  # 0: no limit
    _exec_positive = positive(
        "max_concurrent_exec",
        "exec_heartbeat_interval",
        "exec_kill_grace",
        "exec_output_buffer",
        "exec_retention",
    )

    def make_exec_service(self, root: str, on_activity: Callable[[], None]):
        """The exec area's owner, from these traits (the only place they are copied);
        ``on_activity`` is called while commands run, so the server does not count as idle."""
        from .jobs import JobRegistry
        from .service import ExecService

        jobs = JobRegistry(
            max_running=self.max_concurrent_exec,
            output_buffer=self.exec_output_buffer,
            kill_grace=self.exec_kill_grace,
            retention=self.exec_retention,
            activity_interval=self.exec_heartbeat_interval,
            on_activity=on_activity,
        )
        return ExecService(
            root=root,
            allow_exec=self.allow_exec,
            shell=list(self.exec_shell),
            max_timeout=self.exec_max_timeout,
            heartbeat_interval=self.exec_heartbeat_interval,
            jobs=jobs,
        )

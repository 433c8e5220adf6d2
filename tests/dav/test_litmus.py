"""litmus, the WebDAV conformance suite, against a real server with the extension (token auth)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from .conftest import DavServer

pytestmark = pytest.mark.skipif(
    not shutil.which("litmus"), reason="litmus is not installed (.ci/install installs it)"
)
GROUPS = ("basic", "copymove", "props", "locks", "http")


SUMMARY = re.compile(r"summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed")


def run_litmus(url: str, token: str, cwd) -> str:
    """litmus's whole output (it exits non-zero on any failure)."""
    done = subprocess.run(
        ["litmus", url, "anyone", token], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    return output


def assert_all_groups_pass(output: str) -> None:
    """Each of the five groups ran and passed whole; no test was skipped."""
    found = SUMMARY.findall(output)
    results = {group: (int(run), int(passed), int(failed)) for group, run, passed, failed in found}
    assert set(results) == set(GROUPS), output[-4000:]
    for group, (run, passed, failed) in results.items():
        assert failed == 0 and passed == run > 0, f"{group}: {output[-4000:]}"
    assert "SKIPPED" not in output, output[-4000:]


def test_litmus_passes_every_group(server: DavServer, tmp_path):
    """basic, copymove, props, locks and http: 100 % each, nothing skipped."""
    output = run_litmus(server.dav, server.token, tmp_path)
    assert_all_groups_pass(output)

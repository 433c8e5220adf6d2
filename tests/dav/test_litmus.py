"""litmus, the WebDAV conformance suite, against a real server with the extension (token auth)."""

from __future__ import annotations

import shutil

import pytest

from .dav_support import DavServer, assert_all_groups_pass, run_litmus

pytestmark = pytest.mark.skipif(
    not shutil.which("litmus"), reason="litmus is not installed (.ci/install installs it)"
)


def test_litmus_passes_every_group(server: DavServer, tmp_path):
    """basic, copymove, props, locks and http: 100 % each, nothing skipped."""
    output = run_litmus(server.dav, server.token, tmp_path)
    assert_all_groups_pass(output)

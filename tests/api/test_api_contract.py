"""Statuses the server answers that the contract once left out (issue 12, item 11): each answer is
validated against openapi.yaml, which fails on an undocumented status."""

from __future__ import annotations

import pytest

from ..support.openapi_check import assert_response_matches


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/ray/jobs/raysubmit_1", 409),
        ("GET", "/ray/jobs/raysubmit_1/logs", 409),
        ("POST", "/ray/jobs/raysubmit_1/stop", 409),
        ("GET", "/ray/dashboard/index.html", 409),
        ("HEAD", "/ray/dashboard/index.html", 409),
        ("HEAD", "/files/folder", 400),
        ("HEAD", "/files/..%2Fescape", 400),
        ("HEAD", "/files/.git", 403),
    ],
)
async def test_api_contract_documents_what_is_answered(api, jp_root_dir, method, path, status):
    """Ray not configured (409), HEAD of a folder or a malformed path (400), of .git (403):
    documented."""
    (jp_root_dir / "folder").mkdir()
    response = await api.request(method, path.lstrip("/"), b"" if method == "POST" else None)
    assert response.code == status, response.body
    assert_response_matches(response, method, path)


@pytest.mark.parametrize("method", ["HEAD", "GET", "DELETE", "PUT"])
async def test_api_contract_uploads_without_a_token_answer_documented_403(api, method):
    """Every uploads/{id} verb without a token answers 403, as the contract says."""
    path = "uploads/" + "0" * 32
    response = await api.request(method, path, headers={"Authorization": ""})
    assert response.code == 403
    assert_response_matches(response, method, f"/{path}")

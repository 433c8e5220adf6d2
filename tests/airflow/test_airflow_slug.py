"""Branch slugs and branch DAG IDs: hostile names give valid, distinct, stable results."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jupyter_remote_dev.airflow.slug import (
    MAX_DAG_ID_LENGTH,
    BranchNameError,
    branch_dag_id,
    branch_slug,
    is_slug,
    is_valid_dag_id,
    slug_of_dag_id,
)

HOSTILE = [
    "../x",
    "..",
    "a/../../etc/passwd",
    "x" * 300,
    "x" * 300 + "y",
    "feature/" + "é" * 200,
    "功能/分支",
    "функция",
    "feature/A",
    "feature-a",
    "feature_a",
    "FEATURE-A",
    "refs/heads/refs/heads/x",
    "refs/tags/v1",
    "with space",
    "emoji-🚀",
    "-leading-dash",
    "x\ny",
]
SLUG_CHARS = re.compile(r"^[a-z0-9-]+$")


def test_slug_hostile_names_are_valid_and_distinct():
    """Every hostile name gives a safe slug (folder- and DAG-ID-safe) and no two collide."""
    slugs = [branch_slug(name) for name in HOSTILE]
    for name, slug in zip(HOSTILE, slugs, strict=True):
        assert is_slug(slug), (name, slug)
        assert SLUG_CHARS.match(slug) and len(slug) <= 51 and ".." not in slug
        assert "/" not in slug and not slug.startswith("-")
    assert len(set(slugs)) == len(HOSTILE)


def test_slug_gitlab_collisions_stay_apart():
    """feature/A and feature-a share GitLab's CI_COMMIT_REF_SLUG but not our slug."""
    assert branch_slug("feature/A").startswith("feature-a-")
    assert branch_slug("feature/A") != branch_slug("feature-a")


def test_slug_refs_heads_prefix_is_the_same_branch():
    """refs/heads/x (GitHub's GITHUB_REF) and x are one branch, so publish and cleanup agree."""
    assert branch_slug("refs/heads/feature/x") == branch_slug("feature/x")
    assert branch_slug("refs/heads/feature/x") != branch_slug("refs/tags/feature/x")


def test_slug_unicode_is_folded_or_hashed():
    """Accents fold to ASCII; a name with nothing readable becomes br-<hash>."""
    assert branch_slug("café").startswith("cafe-")
    assert re.match(r"^br-[0-9a-f]{10}$", branch_slug("功能"))


@pytest.mark.parametrize("bad", ["", "   ", "a\x00b", "x" * 1025])
def test_slug_unusable_names_are_refused(bad):
    """Empty names, NUL bytes and absurd lengths are refused with a clear error."""
    with pytest.raises(BranchNameError):
        branch_slug(bad)


@given(st.text(min_size=1, max_size=300).filter(lambda s: s.strip() and "\x00" not in s))
def test_slug_any_name_gives_a_valid_branch_dag_id(name):
    """For any branch name, the slug is valid and round-trips through a branch DAG ID."""
    slug = branch_slug(name)
    assert is_slug(slug)
    dag_id = branch_dag_id("etl", slug)
    assert is_valid_dag_id(dag_id) and slug_of_dag_id(dag_id) == slug


def test_dag_id_suffix_and_round_trip():
    """A branch DAG ID is <dag_id>__br_<slug>, idempotent, and maps back to its slug."""
    slug = branch_slug("feature/x")
    dag_id = branch_dag_id("etl.daily", slug)
    assert dag_id == f"etl.daily__br_{slug}"
    assert branch_dag_id(dag_id, slug) == dag_id
    assert slug_of_dag_id(dag_id) == slug
    assert slug_of_dag_id("etl.daily") is None
    assert slug_of_dag_id("etl__br_not-a-slug") is None


@pytest.mark.parametrize("dag_id", ["a" * 250, "x..y", "x/y", "x" * 240 + "..z"])
def test_dag_id_long_or_odd_ids_stay_valid_and_distinct(dag_id):
    """Over-long IDs, '..' and invalid characters are shortened/cleaned with a hash, still valid."""
    slug = branch_slug("feature/" + "z" * 100)
    new_id = branch_dag_id(dag_id, slug)
    assert is_valid_dag_id(new_id) and len(new_id) <= MAX_DAG_ID_LENGTH
    assert slug_of_dag_id(new_id) == slug
    assert branch_dag_id(dag_id + "q", slug) != new_id

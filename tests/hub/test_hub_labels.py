"""Cost label values: valid, stable and collision-free for any user name (hypothesis)."""

import hashlib
import random

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from kubespawner.slugs import is_valid_label as kubespawner_is_valid_label
from kubespawner.slugs import safe_slug
from traitlets import TraitError

from jupyter_remote_dev.hub.labels import (
    CostLabels,
    dns_slug,
    is_valid_label_key,
    is_valid_label_value,
    label_value,
)

label_like = st.from_regex(r"[A-Za-z0-9][-A-Za-z0-9_.]{0,70}[A-Za-z0-9]", fullmatch=True)
usernames = st.one_of(
    st.emails(),
    st.text(max_size=40),
    st.text(min_size=100, max_size=200),
    label_like,
    st.text(alphabet="-._@+ {}aKſıZ0", max_size=70),
)
MANY = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@MANY
@given(usernames)
def test_label_value_always_valid_and_stable(name):
    """Every name maps to a valid label value, the same one every time, never longer than 63."""
    value = label_value(name)
    assert is_valid_label_value(value)
    assert label_value(name) == value
    if value != name:
        assert value.endswith("---" + hashlib.sha256(name.encode()).hexdigest()[:8])
        assert len(value) <= 32


@MANY
@given(usernames)
@example("alice")  # both branches on every run: a valid name,
@example("a\u212ab")  # and one KubeSpawner keeps although it is not a valid label value
def test_label_value_matches_kubespawner_username_label(name):
    """Where KubeSpawner's hub.jupyter.org/username label is valid, ours is identical; where it is
    not (KubeSpawner lets some non-ASCII look-alikes through), ours is a valid one instead."""
    theirs = safe_slug(name, is_valid=kubespawner_is_valid_label)
    ours = label_value(name)
    assert is_valid_label_value(ours)
    assert (ours == theirs) is is_valid_label_value(theirs)


@settings(max_examples=60, deadline=None)
@given(st.lists(usernames, min_size=10, max_size=40, unique=True))
def test_label_value_distinct_users_never_collide(names):
    """Distinct user names never share a label value (thousands of names in total)."""
    values = [label_value(n) for n in names]
    assert len(set(values)) == len(names)


def test_label_value_twenty_thousand_lookalike_users_stay_distinct():
    """Case, punctuation and Unicode look-alikes, long and hash-like names never collide."""
    rng = random.Random(6)
    alphabet = "aAbB.-_@+ éÉß\u212a0{}"
    names = {"".join(rng.choices(alphabet, k=rng.randint(1, 90))) for _ in range(20000)}
    names |= {label_value(n) for n in list(names)[:2000]}  # users named like others' labels
    values = {label_value(n) for n in names}
    assert len(values) == len(names)


@MANY
@given(usernames)
@example("alice")  # kept as it is
@example("a@b.c")  # hashed
def test_label_value_of_a_hashed_value_never_collides(name):
    """A user literally named like another user's hashed value gets a different label."""
    value = label_value(name)
    # a name kept as it is keeps its label; a hashed one's value, as a user name, is hashed again
    assert (label_value(value) == value) is (value == name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("AbC", "AbC"),
        ("ab.c", "ab.c"),
        ("", ""),
        ("a@b.c", "a-b-c---d648b243"),
        ("x-", "x---c8b60efc"),
        ("Alice.Smith@Example.com", "alice-smith-example-c---6af58c96"),
    ],
)
def test_label_value_matches_kubespawner_test_vectors(name, expected):
    """KubeSpawner's own slug test vectors (contracts.md 3.3) come out unchanged."""
    assert label_value(name) == expected


def test_label_value_hashes_names_kubespawner_lets_through_invalid():
    """The Kelvin sign passes KubeSpawner 7.1's case-folding check; we hash it into a valid one."""
    name = "a\u212ab"
    assert (
        safe_slug(name, is_valid=kubespawner_is_valid_label) == name
    )  # invalid for the API server
    assert not is_valid_label_value(name)
    assert label_value(name) == "akb---" + label_value(name)[-8:]


@pytest.mark.parametrize("value", ["alice\n", "-alice", "alice.", "a" * 64, "al ice", "alé"])
def test_is_valid_label_value_refuses_what_the_api_server_refuses(value):
    """A trailing newline, bad ends, 64 characters or non-ASCII are invalid and get hashed."""
    assert not is_valid_label_value(value)
    assert is_valid_label_value(label_value(value)) and "---" in label_value(value)


@MANY
@given(usernames)
def test_dns_slug_is_a_dns_label(name):
    """The {username} slug used in branch, Secret and cluster names is a DNS-1123/1035 label."""
    slug = dns_slug(name)
    assert len(slug) <= 48 and slug[0].isalpha() and slug.isascii()
    assert slug == slug.lower() and not slug.endswith("-")


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("owner", True),
        ("hub.jupyter.org/username", True),
        ("cost.example.com/team", True),
        ("/team", False),
        ("a/b/c", False),
        ("Bad.Prefix/x", False),
        ("team!", False),
        ("x" * 64, False),
    ],
)
def test_is_valid_label_key_follows_apimachinery(key, valid):
    """Label keys: optional DNS-subdomain prefix, one slash, a name of at most 63 characters."""
    assert is_valid_label_key(key) is valid


def test_cost_labels_values_from_groups_and_auth_state():
    """Team is the first matching group, department a dotted auth_state path; raw annotations."""
    cost = CostLabels(
        team_group_pattern="^team-",
        auth_state_labels={"department": "org.department", "cost-center": "cc"},
    )
    raw = cost.raw_values(
        "Bob@Example.com",
        groups=["admins", "team-zeta", "team-Alpha ML"],
        auth_state={"org": {"department": "R&D / Labs"}},
    )
    assert raw == {"owner": "Bob@Example.com", "team": "team-Alpha ML", "department": "R&D / Labs"}
    labels, annotations = cost.labels_and_annotations(raw)
    assert annotations == raw
    assert labels["team"] == label_value("team-Alpha ML") != "team-Alpha ML"
    assert all(is_valid_label_value(v) for v in labels.values())


def test_cost_labels_default_team_and_no_team():
    """Users in no team group get default_team, or no team label when it is empty."""
    assert "team" not in CostLabels().raw_values("ann", groups=[])
    assert CostLabels(default_team="shared").raw_values("ann")["team"] == "shared"


@pytest.mark.parametrize(
    "bad",
    [
        {"user_label": "bad key!"},
        {"user_label": ""},
        {"team_label": "a/b/c"},
        {"auth_state_labels": {"no spaces": "x"}},
        {"team_group_pattern": "("},
        {"backend": "prometheus"},
    ],
)
def test_cost_labels_rejects_bad_settings(bad):
    """Invalid label keys, regexes or backends fail when configured, naming the setting."""
    with pytest.raises(TraitError, match=next(iter(bad)).split("_")[0]):
        CostLabels(**bad)


def test_cost_labels_environment_names_label_and_value():
    """The COST_* variables carry the label name, the escaped value and the backend."""
    cost = CostLabels(backend="opencost", backend_url="http://opencost.opencost:9003")
    labels, _ = cost.labels_and_annotations(cost.raw_values("Zoë"))
    assert cost.environment(labels) == {
        "JUPYTER_REMOTE_DEV_COST_LABEL": "owner",
        "JUPYTER_REMOTE_DEV_COST_USER": label_value("Zoë"),
        "JUPYTER_REMOTE_DEV_COST_BACKEND": "opencost",
        "JUPYTER_REMOTE_DEV_COST_URL": "http://opencost.opencost:9003",
    }

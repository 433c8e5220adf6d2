"""Connection profiles: hub URL parsing, the 0600 file, and where tokens may come from."""

import io
import stat

import pytest

from jupyter_remote_dev.client import profiles
from jupyter_remote_dev.client.profiles import HubTarget, Profile, ProfileError


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.delenv(profiles.TOKEN_ENV, raising=False)
    monkeypatch.delenv(profiles.PROFILE_ENV, raising=False)
    return tmp_path / "cfg"


@pytest.mark.parametrize(
    ("url", "target"),
    [
        (
            "https://hub.example.com/user/alice/",
            HubTarget("https://hub.example.com/hub/api/", "alice"),
        ),
        ("https://h/user/alice", HubTarget("https://h/hub/api/", "alice")),
        ("https://h/user/alice/gpu/", HubTarget("https://h/hub/api/", "alice", "gpu")),
        ("https://h/jhub/user/a%40b/", HubTarget("https://h/jhub/hub/api/", "a@b")),
        ("http://127.0.0.1:8888/", None),
        ("http://127.0.0.1:8888/lab/tree/", None),
    ],
)
def test_parse_hub_url_finds_user_and_named_server(url, target):
    """User URLs (with a hub prefix, escaped names, named servers) map to the hub API and user."""
    assert profiles.parse_hub_url(url) == target


@pytest.mark.parametrize(
    "url",
    [
        "hub.example.com/user/a/?token=s3cret",
        "ftp://h/",
        "https://h/user/a/?token=s3cret",
        "https://h/user/a/#s3cret",
        "https://alice:s3cret@h/user/alice/",
        "https://s3cret@h/",
    ],
)
def test_normalise_url_rejects_non_http_queries_and_credentials(url):
    """Only plain http(s) URLs are accepted: no token in a query string or user:token@ part."""
    with pytest.raises(ProfileError) as error:
        profiles.normalise_url(url)
    assert "s3cret" not in str(error.value)


def test_save_writes_mode_0600_and_round_trips(config_dir):
    """Profiles are stored in a 0600 file under the Jupyter config dir and read back intact."""
    profile = Profile(
        "work", "https://h/user/alice/", "secret-token", "hub", "alice", "", "https://h/hub/api/"
    )
    path = profiles.save(profile)
    assert path == config_dir / profiles.PROFILES_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    profiles.save(Profile("default", "http://127.0.0.1:1/", "t2"))
    assert profiles.load("work") == profile
    assert profiles.load().url == "http://127.0.0.1:1/"
    assert "token" not in profiles.load("work").public_dict()


def test_remove_forgets_only_that_profile():
    """logout's remove() drops one profile and reports whether it existed."""
    profiles.save(Profile("a", "http://h/", "t"))
    profiles.save(Profile("b", "http://h/", "t"))
    assert profiles.remove("a") is True
    assert profiles.remove("a") is False
    assert set(profiles.load_all()) == {"b"}


def test_load_missing_profile_names_the_fix():
    """A missing profile error says which profiles exist and how to log in."""
    with pytest.raises(ProfileError, match="login"):
        profiles.load("nope")


def test_save_rejects_bad_profile_names():
    """Profile names are restricted so they are safe in file and command lines."""
    with pytest.raises(ProfileError, match="invalid profile name"):
        profiles.save(Profile("../x", "http://h/", "t"))


def test_read_token_from_stdin_env_and_refuses_without_a_terminal(monkeypatch):
    """Tokens come from stdin or the env var; with neither and no terminal it is a clear error."""
    monkeypatch.setattr("sys.stdin", io.StringIO("tok-from-stdin\n"))
    assert profiles.read_token(from_stdin=True) == "tok-from-stdin"
    monkeypatch.setenv(profiles.TOKEN_ENV, "tok-from-env")
    assert profiles.read_token() == "tok-from-env"
    monkeypatch.delenv(profiles.TOKEN_ENV)
    with pytest.raises(ProfileError, match="--token-stdin"):
        profiles.read_token()
    monkeypatch.setattr("sys.stdin", io.StringIO("two words\n"))
    with pytest.raises(ProfileError, match="white space"):
        profiles.read_token(from_stdin=True)

"""API keys: config sources, constant-time matching, OpenAI-shaped 401s that never echo a key."""

import hashlib
import hmac

import pytest
from pydantic import ValidationError

from router.auth import ApiKeys, hash_key
from router.errors import AuthenticationError, error_body, error_headers, error_status
from serve_app.cli import main as cli
from serve_app.config import AppConfig, AuthConfig, ConfigError, format_validation_error
from app_args import MINIMAL_ARGS

KEY = "sk-live-0123456789abcdef"


def keys(*entries, environ=None) -> ApiKeys:
    return ApiKeys.from_config(AuthConfig(keys=entries), environ or {})


def test_hash_key_is_hex_sha256():
    assert hash_key(KEY) == hashlib.sha256(KEY.encode()).hexdigest()


def test_no_keys_means_open():
    assert keys().authenticate(None) is None
    assert keys().enabled is False


@pytest.mark.parametrize("source", ["sha256", "env", "file"])
def test_each_source_grants_the_named_identity(source, tmp_path):
    secret = tmp_path / "key"
    secret.write_text(KEY + "\n")  # mounted secrets often end with a newline
    value = {"sha256": hash_key(KEY), "env": "ROUTER_KEY", "file": str(secret)}[source]
    api_keys = keys(
        {"name": "team-a", source: value, "rate_limit": {"requests_per_minute": 5}},
        environ={"ROUTER_KEY": KEY},
    )
    identity = api_keys.authenticate(f"Bearer {KEY}")
    assert identity.name == "team-a" and identity.rate_limit.requests_per_minute == 5
    assert api_keys.authenticate(f"bearer   {KEY} ").name == "team-a"


def test_picks_the_matching_key_among_several():
    api_keys = keys({"name": "a", "sha256": hash_key("key-a")}, {"name": "b", "sha256": hash_key("key-b")})
    assert api_keys.authenticate("Bearer key-b").name == "b"
    assert api_keys.authenticate("Bearer key-a").name == "a"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic " + KEY, KEY])
def test_missing_key_is_refused(header):
    with pytest.raises(AuthenticationError) as info:
        keys({"name": "a", "sha256": hash_key(KEY)}).authenticate(header)
    assert "didn't provide an API key" in info.value.message


def test_wrong_key_is_refused_without_echoing_it():
    wrong = "sk-wrong-secret-value"
    with pytest.raises(AuthenticationError) as info:
        keys({"name": "a", "sha256": hash_key(KEY)}).authenticate(f"Bearer {wrong}")
    error = info.value
    body = error_body(error, "req-1")
    assert error_status(error) == 401
    assert body == {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}
    assert error_headers(error) == {"www-authenticate": "Bearer"}
    assert wrong not in str(body) and KEY not in str(body)


def test_every_key_is_compared_in_constant_time(monkeypatch):
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr("router.auth.hmac.compare_digest", spy)
    api_keys = keys(*({"name": f"k{i}", "sha256": hash_key(f"key-{i}")} for i in range(3)))
    api_keys.authenticate("Bearer key-0")  # matches the first, still compares all three
    assert len(compared) == 3
    assert all(isinstance(a, bytes) and len(a) == 32 for a, _ in compared)


def test_missing_env_var_stops_the_router_naming_the_field_not_a_value():
    with pytest.raises(ConfigError, match=r"auth.keys\[1\].env: environment variable 'ABSENT' is not set"):
        keys({"name": "a", "sha256": hash_key(KEY)}, {"name": "b", "env": "ABSENT"}, environ={"OTHER": KEY})


def test_unreadable_or_empty_secret_file(tmp_path):
    with pytest.raises(ConfigError, match=r"auth.keys\[0\].file: cannot read .*FileNotFoundError"):
        keys({"name": "a", "file": str(tmp_path / "absent")})
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigError, match=r"auth.keys\[0\].file: .* is empty"):
        keys({"name": "a", "file": str(tmp_path / "empty")})


@pytest.mark.parametrize(
    "key,expected",
    [
        ({"name": "a"}, "auth.keys[0]: key 'a' needs exactly one of ['sha256', 'env', 'file']; got none"),
        ({"name": "a", "sha256": hash_key(KEY), "env": "X"}, "auth.keys[0]: key 'a' needs exactly one of ['sha256', 'env', 'file']; got ['sha256', 'env']"),
        ({"name": "a", "sha256": "not-hex"}, "auth.keys[0].sha256: String should match pattern '^[0-9a-f]{64}$' (got 'not-hex')"),
        ({"name": "a", "env": "X", "rate_limit": {"requests_per_minute": 0}}, "auth.keys[0].rate_limit.requests_per_minute: Input should be greater than or equal to 1 (got 0)"),
        ({"name": "a", "env": "X", "key": "k"}, "auth.keys[0].key: unknown field; allowed fields: ['env', 'file', 'name', 'rate_limit', 'sha256']"),
    ],
)
def test_key_config_errors_name_field_and_value(key, expected):
    with pytest.raises(ValidationError) as info:
        AppConfig.model_validate({**MINIMAL_ARGS, "auth": {"keys": [key]}})
    assert format_validation_error(info.value) == [expected]


def test_key_names_are_unique():
    with pytest.raises(ValidationError, match=r"\['a'\] appear more than once"):
        AuthConfig(keys=[{"name": "a", "env": "X"}, {"name": "a", "env": "Y"}])


def test_cli_hash_key_reads_stdin(monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(KEY + "\n"))
    assert cli(["hash-key"]) == 0
    assert capsys.readouterr().out.strip() == hash_key(KEY)

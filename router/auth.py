"""API keys: who may call /v1/*, checked in constant time, never kept or logged in clear.

Keys come from the config as sha256 hashes, or in clear from an environment variable or a
mounted secret file; the router hashes those once at start and keeps only hashes. A presented
key is hashed and compared with every configured hash by `hmac.compare_digest`, without
stopping at the first match, so response time says nothing about which hash came close.
"""

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from router.errors import AuthenticationError
from serve_app.config import ApiKeyConfig, AuthConfig, ConfigError, RateLimitConfig

_MISSING = (
    "You didn't provide an API key. Send it in an Authorization header using Bearer auth "
    "(Authorization: Bearer YOUR_KEY)."
)
_INCORRECT = "Incorrect API key provided."


@dataclass(frozen=True, slots=True)
class KeyIdentity:
    """Who a request belongs to once its key matched: the key's name and its budget."""

    name: str
    rate_limit: RateLimitConfig


def hash_key(key: str) -> str:
    """The hex sha256 a config lists for `key` (what `qwen-router hash-key` prints)."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeys:
    """The configured keys, as sha256 digests with the identity each one grants."""

    def __init__(self, keys: list[tuple[bytes, KeyIdentity]]) -> None:
        self._keys = keys

    @classmethod
    def from_config(cls, config: AuthConfig, environ: Mapping[str, str] = os.environ) -> "ApiKeys":
        """Resolve every key source now, so a missing secret stops the router at start."""
        return cls(
            [
                (bytes.fromhex(_hex_digest(key, f"auth.keys[{i}]", environ)), KeyIdentity(key.name, key.rate_limit))
                for i, key in enumerate(config.keys)
            ]
        )

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def authenticate(self, authorization: str | None) -> KeyIdentity | None:
        """The identity for an `Authorization` header; None when no keys are configured."""
        if not self._keys:
            return None
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError(_MISSING)
        digest = hashlib.sha256(token.encode()).digest()
        found: KeyIdentity | None = None
        for expected, identity in self._keys:
            if hmac.compare_digest(digest, expected) and found is None:
                found = identity
        if found is None:
            raise AuthenticationError(_INCORRECT)
        return found


def _hex_digest(key: ApiKeyConfig, where: str, environ: Mapping[str, str]) -> str:
    if key.sha256 is not None:
        return key.sha256
    if key.env is not None:
        value = environ.get(key.env, "").strip()
        if not value:
            raise ConfigError(f"{where}.env: environment variable {key.env!r} is not set or empty")
        return hash_key(value)
    assert key.file is not None
    try:
        value = Path(key.file).read_text().strip()
    except OSError as exc:
        raise ConfigError(f"{where}.file: cannot read {key.file!r} ({type(exc).__name__})") from None
    if not value:
        raise ConfigError(f"{where}.file: {key.file!r} is empty")
    return hash_key(value)

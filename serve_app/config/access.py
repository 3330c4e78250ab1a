"""Who may call and how much: images, API keys, rate limits, request limits."""

import ipaddress

from pydantic import Field, field_validator, model_validator

from serve_app.config.base import NAME_PATTERN, Strict


class ImageConfig(Strict):
    """How images in requests are fetched and bounded (decoded on the model replica)."""

    allow_remote_urls: bool = Field(
        False, description="Fetch http(s) image URLs; off by default, data: URLs always work."
    )
    max_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Largest encoded image.")
    max_pixels: int = Field(
        12_845_056, ge=64, description="Largest decoded image (width × height); bombs are refused."
    )
    max_images_per_request: int = Field(4, ge=1)
    fetch_timeout_s: float = Field(
        5.0, gt=0.0, description="Time limit for one remote image: resolving, connecting, reading."
    )
    remote_allowed_networks: tuple[str, ...] = Field(
        (),
        description="CIDR networks remote image URLs may reach although they are not public "
        "(loopback, private, link-local, reserved), e.g. an internal image store. Default: none.",
    )

    @field_validator("remote_allowed_networks")
    @classmethod
    def _networks_parse(cls, networks: tuple[str, ...]) -> tuple[str, ...]:
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(
                    f"{network!r} is not a network; write CIDR such as 10.0.0.0/8 or fd00::/8"
                ) from None
        return networks


class RateLimitConfig(Strict):
    """One key's budget per minute, shared by every router replica (router/ratelimit.py)."""

    requests_per_minute: int | None = Field(None, ge=1, description="Unset: no request limit.")
    tokens_per_minute: int | None = Field(
        None,
        ge=1,
        description="Prompt tokens (estimated as characters / 4) plus max_tokens, charged when "
        "the request is admitted, as OpenAI counts them. Unset: no token limit.",
    )


KEY_SOURCES = ("sha256", "env", "file")


class ApiKeyConfig(Strict):
    """One API key, given by exactly one of `sha256`, `env`, `file`; the key is never logged."""

    name: str = Field(
        ..., pattern=NAME_PATTERN, description="Names the key in logs and rate-limit errors."
    )
    sha256: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="Hex sha256 of the key (qwen-router hash-key)."
    )
    env: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Environment variable of the router replicas that holds the key.",
    )
    file: str | None = Field(
        None, min_length=1, description="File that holds the key (a mounted secret); read at start."
    )
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)

    @model_validator(mode="after")
    def _one_source(self) -> "ApiKeyConfig":
        given = [source for source in KEY_SOURCES if getattr(self, source) is not None]
        if len(given) != 1:
            raise ValueError(
                f"key {self.name!r} needs exactly one of {list(KEY_SOURCES)}; got {given or 'none'}"
            )
        return self


class AuthConfig(Strict):
    """API keys and per-key rate limits; with no keys the API is open."""

    keys: tuple[ApiKeyConfig, ...] = Field(
        (), description="When any is set, /v1/* requires `Authorization: Bearer <key>`."
    )
    rate_limiter_timeout_s: float = Field(
        0.5, gt=0.0, description="How long a request waits for the shared rate limiter."
    )
    rate_limit_fail_open: bool = Field(
        False,
        description="Admit requests when the rate limiter does not answer in time (logged); "
        "off: they get 503 with Retry-After.",
    )

    @field_validator("keys")
    @classmethod
    def _unique_names(cls, keys: tuple[ApiKeyConfig, ...]) -> tuple[ApiKeyConfig, ...]:
        names = [key.name for key in keys]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"key names must be unique, {duplicates} appear more than once")
        return keys

    @property
    def rate_limited(self) -> bool:
        return any(k.rate_limit.requests_per_minute or k.rate_limit.tokens_per_minute for k in self.keys)


class MaxTokensCaps(Strict):
    """Largest `max_tokens` a request may ask for, per route; more is refused (400), never cut."""

    default: int | None = Field(None, ge=1, description="For every route without its own cap.")
    math: int | None = Field(None, ge=1)
    code: int | None = Field(None, ge=1)
    vision: int | None = Field(None, ge=1)
    reasoning: int | None = Field(None, ge=1)
    general: int | None = Field(None, ge=1)
    explicit: int | None = Field(None, ge=1, description="Requests that name a model.")

    def cap(self, category: str) -> int | None:
        return getattr(self, category, None) or self.default


class LimitsConfig(Strict):
    """Bounds on one request, checked by the router before any model work."""

    max_body_bytes: int = Field(
        16 * 1024 * 1024, ge=1024, description="Largest request body, checked before parsing (413)."
    )
    max_messages: int = Field(256, ge=1, description="Messages in one request.")
    max_message_chars: int = Field(
        200_000, ge=1, description="Characters of text in one message, all its text parts together."
    )
    max_tokens: MaxTokensCaps = Field(default_factory=MaxTokensCaps)

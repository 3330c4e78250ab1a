"""Per-key rate limits that hold across router replicas.

Every router replica asks one `RateLimiter` deployment (a single replica that Serve keeps
alive), which holds two token buckets per key: requests per minute and tokens per minute. One
place holds the state, so N router replicas admit exactly what one would. The cost: one async
handle call per request of a rate-limited key, and one actor's throughput as the ceiling. If the
limiter does not answer within `auth.rate_limiter_timeout_s`, the request gets 503 (or passes,
logged, with `auth.rate_limit_fail_open`). A restarted limiter starts with full buckets.

Tokens are charged when a request is admitted, as OpenAI counts them: the prompt estimated from
its characters plus the completion it may produce (`max_tokens`, or what the route allows).
"""

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Literal

from ray import serve

from router.auth import KeyIdentity
from router.errors import RequestRateLimitError, ServiceUnavailableError, TokenRateLimitError
from router.protocol import ChatCompletionRequest, TextContent
from serve_app.config import AuthConfig

logger = logging.getLogger("qwen_router.ratelimit")

RATE_LIMITER_DEPLOYMENT = "RateLimiter"
CHARS_PER_TOKEN = 4
_WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request was not admitted and when the key has room again."""

    kind: Literal["requests", "tokens"]
    limit: int
    requested: int
    retry_after_s: float


class _Bucket:
    """Refills `capacity` per minute, continuously; starts full."""

    def __init__(self, capacity: int, now: float) -> None:
        self.capacity = capacity
        self.level = float(capacity)
        self.updated = now

    def refill(self, capacity: int, now: float) -> None:
        if capacity != self.capacity:  # the key's limit changed with a redeploy
            self.capacity, self.level = capacity, min(self.level, capacity)
        self.level = min(capacity, self.level + (now - self.updated) * capacity / _WINDOW_S)
        self.updated = now

    def wait_for(self, amount: int) -> float:
        """Seconds until `amount` fits (infinite when it never will)."""
        if amount > self.capacity:
            return math.inf
        return max(0.0, (amount - self.level) * _WINDOW_S / self.capacity)


class TokenBuckets:
    """Both buckets of every key; a request is charged to both or to neither."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def acquire(
        self, key: str, requests_per_minute: int | None, tokens_per_minute: int | None, tokens: int
    ) -> Refusal | None:
        now = self._clock()
        wanted = [
            (kind, limit, amount)
            for kind, limit, amount in (("requests", requests_per_minute, 1), ("tokens", tokens_per_minute, tokens))
            if limit is not None
        ]
        buckets = [self._bucket(key, kind, limit, now) for kind, limit, _ in wanted]
        for (kind, limit, amount), bucket in zip(wanted, buckets):
            wait = bucket.wait_for(amount)
            if wait > 0:
                return Refusal(kind, limit, amount, wait)  # type: ignore[arg-type]
        for (_, _, amount), bucket in zip(wanted, buckets):
            bucket.level -= amount
        return None

    def _bucket(self, key: str, kind: str, capacity: int, now: float) -> _Bucket:
        bucket = self._buckets.get((key, kind))
        if bucket is None:
            bucket = self._buckets[(key, kind)] = _Bucket(capacity, now)
        bucket.refill(capacity, now)
        return bucket


@serve.deployment(
    name=RATE_LIMITER_DEPLOYMENT,
    num_replicas=1,  # the one place that holds the buckets: never more than one
    max_ongoing_requests=1000,
    ray_actor_options={"num_cpus": 0},
)
class RateLimiter:
    """The shared buckets of every router replica."""

    def __init__(self) -> None:
        self._buckets = TokenBuckets()

    async def acquire(
        self, key: str, requests_per_minute: int | None, tokens_per_minute: int | None, tokens: int
    ) -> Refusal | None:
        return self._buckets.acquire(key, requests_per_minute, tokens_per_minute, tokens)


def estimated_tokens(body: ChatCompletionRequest, completion_limit: int) -> int:
    """Prompt characters / 4, rounded up, plus the completion the request may produce."""
    chars = 0
    for message in body.messages:
        if isinstance(message.content, str):
            chars += len(message.content)
        elif message.content:
            chars += sum(len(part.text) for part in message.content if isinstance(part, TextContent))
    return -(-chars // CHARS_PER_TOKEN) + completion_limit


class RateLimits:
    """The router's side: asks the shared limiter, turns a refusal into a 429."""

    def __init__(self, limiter: Any | None, config: AuthConfig) -> None:
        self._limiter = limiter  # DeploymentHandle of RateLimiter; None when no key is limited
        self._config = config

    async def admit(self, identity: KeyIdentity | None, tokens: int) -> None:
        if identity is None or self._limiter is None:
            return
        limit = identity.rate_limit
        if limit.requests_per_minute is None and limit.tokens_per_minute is None:
            return
        try:
            refusal = await asyncio.wait_for(
                self._limiter.acquire.remote(identity.name, limit.requests_per_minute, limit.tokens_per_minute, tokens),
                timeout=self._config.rate_limiter_timeout_s,
            )
        except Exception as exc:  # timed out, restarting, unreachable
            if self._config.rate_limit_fail_open:
                logger.warning("rate limiter unavailable (%s); admitting key %r unchecked", type(exc).__name__, identity.name)
                return
            raise ServiceUnavailableError("rate limiter unavailable", code="rate_limiter_unavailable") from None
        if refusal is not None:
            raise _error(identity.name, refusal)


def _error(key: str, refusal: Refusal) -> RequestRateLimitError | TokenRateLimitError:
    unit = "requests per minute" if refusal.kind == "requests" else "tokens per minute"
    if math.isinf(refusal.retry_after_s):
        return TokenRateLimitError(
            f"Request too large for key {key!r}: needs {refusal.requested} tokens, more than its "
            f"limit of {refusal.limit} {unit}; lower max_tokens or shorten the messages.",
            retry_after_s=int(_WINDOW_S),
        )
    retry = max(1, math.ceil(refusal.retry_after_s))
    cls = RequestRateLimitError if refusal.kind == "requests" else TokenRateLimitError
    return cls(
        f"Rate limit reached for key {key!r} on {unit}: limit {refusal.limit}, requested "
        f"{refusal.requested}. Please try again in {retry}s.",
        retry_after_s=retry,
    )

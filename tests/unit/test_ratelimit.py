"""Per-key token buckets (fake clock) and the router side that turns refusals into 429s."""

import asyncio

import pytest

from router.auth import KeyIdentity
from router.errors import (
    RequestRateLimitError,
    ServiceUnavailableError,
    TokenRateLimitError,
    error_body,
    error_headers,
    error_status,
)
from router.protocol import ChatCompletionRequest
from router.ratelimit import RateLimits, Refusal, TokenBuckets, estimated_tokens
from serve_app.config import AuthConfig, RateLimitConfig


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def test_requests_per_minute_refill_continuously(clock):
    buckets = TokenBuckets(clock)
    assert [buckets.acquire("k", 3, None, 0) for _ in range(3)] == [None] * 3
    refusal = buckets.acquire("k", 3, None, 0)
    assert refusal.kind == "requests" and refusal.limit == 3
    assert refusal.retry_after_s == pytest.approx(20.0)  # one request refills every 60/3 s
    clock.now += 19.9
    assert buckets.acquire("k", 3, None, 0) is not None
    clock.now += 0.1
    assert buckets.acquire("k", 3, None, 0) is None


def test_keys_have_separate_buckets(clock):
    buckets = TokenBuckets(clock)
    assert buckets.acquire("a", 1, None, 0) is None
    assert buckets.acquire("a", 1, None, 0) is not None
    assert buckets.acquire("b", 1, None, 0) is None


def test_tokens_per_minute(clock):
    buckets = TokenBuckets(clock)
    assert buckets.acquire("k", None, 600, 500) is None
    refusal = buckets.acquire("k", None, 600, 200)
    assert refusal.kind == "tokens" and refusal.requested == 200
    assert refusal.retry_after_s == pytest.approx(10.0)  # 100 tokens short at 10 tokens/s
    clock.now += 10
    assert buckets.acquire("k", None, 600, 200) is None


def test_a_refused_request_is_charged_to_neither_bucket(clock):
    buckets = TokenBuckets(clock)
    assert buckets.acquire("k", 2, 100, 100) is None
    assert buckets.acquire("k", 2, 100, 50).kind == "tokens"  # the request bucket is not charged
    clock.now += 30  # 50 tokens and one request back
    assert buckets.acquire("k", 2, 100, 50) is None
    assert buckets.acquire("k", 2, 100, 0) is None  # the second request of the two allowed


def test_a_request_larger_than_the_budget_never_fits(clock):
    refusal = TokenBuckets(clock).acquire("k", None, 100, 101)
    assert refusal.retry_after_s == float("inf")


def test_a_changed_limit_applies_at_once(clock):
    buckets = TokenBuckets(clock)
    assert [buckets.acquire("k", 10, None, 0) for _ in range(5)] == [None] * 5
    assert buckets.acquire("k", 1, None, 0) is None  # lowered: 5 left, clamped to the new 1
    assert buckets.acquire("k", 1, None, 0) is not None


class FakeLimiter:
    """The RateLimiter deployment handle's surface: `acquire.remote(...)` is awaitable."""

    def __init__(self, buckets: TokenBuckets | None = None, delay_s: float = 0.0, fail: bool = False) -> None:
        self.buckets = buckets or TokenBuckets()
        self.delay_s, self.fail, self.calls = delay_s, fail, []
        self.acquire = self

    def remote(self, *args):
        self.calls.append(args)
        return self._answer(*args)

    async def _answer(self, *args):
        await asyncio.sleep(self.delay_s)
        if self.fail:
            raise RuntimeError("actor died")
        return self.buckets.acquire(*args)


LIMITED = KeyIdentity("team-a", RateLimitConfig(requests_per_minute=1, tokens_per_minute=1000))


def test_the_router_asks_the_shared_limiter_and_answers_429():
    limiter = FakeLimiter()
    limits = RateLimits(limiter, AuthConfig())
    asyncio.run(limits.admit(LIMITED, 10))
    with pytest.raises(RequestRateLimitError) as info:
        asyncio.run(limits.admit(LIMITED, 10))
    assert limiter.calls[0] == ("team-a", 1, 1000, 10)
    error = info.value
    assert error_status(error) == 429
    assert error_body(error, "r")["error"]["type"] == "requests"
    assert error_body(error, "r")["error"]["code"] == "rate_limit_exceeded"
    assert error_headers(error) == {"retry-after": "60"}
    assert "team-a" in error.message and "limit 1" in error.message


def test_too_large_for_the_token_budget_is_a_token_429():
    limits = RateLimits(FakeLimiter(), AuthConfig())
    with pytest.raises(TokenRateLimitError) as info:
        asyncio.run(limits.admit(LIMITED, 5000))
    assert "needs 5000 tokens" in info.value.message and info.value.retry_after_s == 60
    assert error_body(info.value, "r")["error"]["type"] == "tokens"


def test_unlimited_or_anonymous_requests_skip_the_limiter():
    limiter = FakeLimiter()
    limits = RateLimits(limiter, AuthConfig())
    asyncio.run(limits.admit(None, 10))
    asyncio.run(limits.admit(KeyIdentity("free", RateLimitConfig()), 10))
    assert limiter.calls == []


@pytest.mark.parametrize("limiter", [FakeLimiter(delay_s=5.0), FakeLimiter(fail=True)], ids=["slow", "failed"])
def test_an_unavailable_limiter_fails_closed_with_503(limiter):
    limits = RateLimits(limiter, AuthConfig(rate_limiter_timeout_s=0.05))
    with pytest.raises(ServiceUnavailableError) as info:
        asyncio.run(limits.admit(LIMITED, 10))
    assert error_headers(info.value) == {"retry-after": "1"}


def test_an_unavailable_limiter_can_fail_open(caplog):
    limits = RateLimits(FakeLimiter(fail=True), AuthConfig(rate_limit_fail_open=True))
    asyncio.run(limits.admit(LIMITED, 10))
    assert "admitting key 'team-a' unchecked" in caplog.text


def test_estimated_tokens_counts_text_characters_and_the_completion():
    body = ChatCompletionRequest.model_validate(
        {
            "messages": [
                {"role": "system", "content": "x" * 9},
                {"role": "user", "content": [{"type": "text", "text": "y" * 3}, {"type": "image_url", "image_url": {"url": "data:,"}}]},
            ]
        }
    )
    assert estimated_tokens(body, 100) == 3 + 100  # 12 characters / 4


def test_refusal_crosses_the_ray_hop():
    import pickle

    refusal = Refusal("tokens", 10, 20, 3.0)
    assert pickle.loads(pickle.dumps(refusal)) == refusal

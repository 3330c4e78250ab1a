"""Dispatcher under pressure: time-outs, full queues, cold and failed deployments, spill-over."""

import asyncio

import pytest
from ray.serve.exceptions import BackPressureError

from deployments.types import GenerationRequest, Message, TextPart
from router.dispatch import Dispatcher
from router.errors import GatewayTimeoutError, ServiceUnavailableError
from router.fleet import DeploymentState, Fleet
from router.policy import RouteDecision
from serve_app.config import GenerationDefaults, RouterConfig

from fake_handles import Delay, FakeHandle, chunk, handles

REQUEST = GenerationRequest(request_id="req-2", messages=(Message("user", (TextPart("hi"),)),))
MATH = RouteDecision("math", "math", 0.9, ("equation",), ("moe",), GenerationDefaults())
HEALTHY = DeploymentState(running_replicas=1, status="HEALTHY")


def fleet(**states: DeploymentState) -> Fleet:
    async def read():
        return states

    return Fleet(read, refresh_s=3600)


async def open_with(fakes, settings: RouterConfig, fleet_view: Fleet | None = None, decision=MATH):
    if fleet_view is not None:
        await fleet_view.refresh()
    return await Dispatcher(fakes, settings, fleet_view).open(REQUEST, decision)


def test_full_queue_everywhere_is_503_overloaded_at_once():
    full = BackPressureError(num_queued_requests=2, max_queued_requests=2)
    fakes = handles(math=[full], moe=[BackPressureError(num_queued_requests=1, max_queued_requests=1)])
    with pytest.raises(ServiceUnavailableError) as info:
        asyncio.run(open_with(fakes, RouterConfig()))
    assert info.value.code == "overloaded"
    assert info.value.retry_after_s >= 1
    assert "math: overloaded" in info.value.message


def test_full_queue_falls_back_and_says_why():
    fakes = handles(math=[BackPressureError(num_queued_requests=2, max_queued_requests=2)], moe=[chunk("m")])
    opened = asyncio.run(open_with(fakes, RouterConfig()))
    assert (opened.model, opened.fallback_from, opened.fallback_reason) == ("moe", "math", "overloaded")


def test_no_first_chunk_within_the_request_timeout_is_504():
    fakes = handles(math=[Delay(5), chunk("late")], moe=[Delay(5), chunk("late")])
    settings = RouterConfig(request_timeout_s=0.2)
    with pytest.raises(GatewayTimeoutError):
        asyncio.run(open_with(fakes, settings))
    assert fakes["math"].streams[0].cancelled


def test_timeout_after_the_first_chunk_surfaces_from_rest_and_cancels():
    fakes = handles(math=[chunk("a"), Delay(5), chunk("b")], moe=[])

    async def scenario():
        opened = await open_with(fakes, RouterConfig(request_timeout_s=0.3))
        with pytest.raises(GatewayTimeoutError):
            async for _ in opened.rest():
                pass

    asyncio.run(scenario())
    assert fakes["math"].streams[0].cancelled


def test_cold_model_waits_only_max_cold_start_wait_s_before_the_fallback():
    fakes = handles(math=[Delay(5), chunk("late")], moe=[chunk("m")])
    view = fleet(math=DeploymentState(running_replicas=0, status="UPSCALING"), moe=HEALTHY)
    settings = RouterConfig(max_cold_start_wait_s=0.1)
    opened = asyncio.run(open_with(fakes, settings, view))
    assert (opened.model, opened.fallback_reason) == ("moe", "cold start")
    assert fakes["math"].streams[0].cancelled


def test_cold_model_without_fallback_waits_for_its_start():
    fakes = handles(math=[Delay(0.3), chunk("warm now")])
    view = fleet(math=DeploymentState(running_replicas=0, status="UPSCALING"))
    explicit = RouteDecision("explicit", "math", 1.0, (), (), GenerationDefaults())
    opened = asyncio.run(open_with(fakes, RouterConfig(max_cold_start_wait_s=0.1), view, explicit))
    assert opened.first == chunk("warm now")


def test_failed_deployment_is_skipped_without_a_call():
    fakes = handles(math=[chunk("x")], moe=[chunk("m")])
    view = fleet(math=DeploymentState(running_replicas=0, status="UNHEALTHY"), moe=HEALTHY)
    opened = asyncio.run(open_with(fakes, RouterConfig(), view))
    assert (opened.model, opened.fallback_from, opened.fallback_reason) == ("moe", "math", "unhealthy")
    assert fakes["math"].requests == []


def test_every_deployment_failed_still_tries_them_in_order():
    fakes = handles(math=[chunk("x")], moe=[chunk("m")])
    broken = DeploymentState(running_replicas=0, status="DEPLOY_FAILED")
    opened = asyncio.run(open_with(fakes, RouterConfig(), fleet(math=broken, moe=broken)))
    assert opened.model == "math"


def test_spill_over_sends_to_the_fallback_past_the_mark_and_back_once_below():
    settings = RouterConfig(spill_over_per_replica=2)
    view = fleet(math=HEALTHY, moe=HEALTHY)

    async def scenario():
        await view.refresh()
        fakes = handles(math=[chunk("a"), Delay(5), chunk("b")] * 3, moe=[chunk("m")])
        dispatcher = Dispatcher(fakes, settings, view)
        busy = [await dispatcher.open(REQUEST, MATH) for _ in range(2)]
        assert [o.model for o in busy] == ["math", "math"]
        assert view.in_flight("math") == 2
        spilled = await dispatcher.open(REQUEST, MATH)
        assert (spilled.model, spilled.fallback_reason) == ("moe", "overloaded")
        busy[0].cancel()
        busy[0].cancel()  # finishing twice counts once
        assert view.in_flight("math") == 1
        again = await dispatcher.open(REQUEST, MATH)
        assert again.model == "math"

    asyncio.run(scenario())


def test_spill_over_counts_load_per_running_replica():
    view = fleet(math=DeploymentState(running_replicas=3, status="HEALTHY"))

    async def scenario():
        await view.refresh()
        for _ in range(4):
            view.started("math")
        return view.load_per_replica("math")

    assert asyncio.run(scenario()) == pytest.approx(4 / 3)


def test_spill_over_keeps_the_primary_when_every_model_is_past_the_mark():
    settings = RouterConfig(spill_over_per_replica=1)
    view = fleet(math=HEALTHY, moe=HEALTHY)

    async def scenario():
        await view.refresh()
        view.started("math"), view.started("moe")
        fakes = handles(math=[chunk("a")], moe=[chunk("m")])
        return await Dispatcher(fakes, settings, view).open(REQUEST, MATH)

    assert asyncio.run(scenario()).model == "math"


def test_fleet_keeps_its_last_states_when_a_refresh_fails():
    calls = []

    async def read():
        calls.append(1)
        if len(calls) > 1:
            raise ConnectionError("controller busy")
        return {"math": HEALTHY}

    async def scenario():
        view = Fleet(read, refresh_s=0.01)
        assert view.state("math") is None  # starts the background refresh
        await asyncio.sleep(0.1)
        return view.state("math"), len(calls)

    state, count = asyncio.run(scenario())
    assert state == HEALTHY and count > 1


def test_readiness_does_not_wake_a_model_scaled_to_zero():
    fakes = handles(math=[], moe=[], coder=[])
    view = fleet(
        math=DeploymentState(running_replicas=0, status="HEALTHY"),  # at zero by design
        moe=HEALTHY,
        coder=DeploymentState(running_replicas=0, status="UPDATING"),  # still starting
    )
    states = asyncio.run(Dispatcher(fakes, RouterConfig(), view).readiness(["math", "moe", "coder"], timeout_s=1.0))
    assert states == {"math": "scaled to zero", "moe": "ready", "coder": "ready"}
    assert fakes["math"].info_calls == 0 and fakes["moe"].info_calls == 1


def test_readiness_reports_a_model_that_does_not_answer_in_time():
    fakes = {"math": FakeHandle("math", info_delay_s=5.0)}
    states = asyncio.run(Dispatcher(fakes, RouterConfig(), fleet(math=HEALTHY)).readiness(["math"], timeout_s=0.05))
    assert states == {"math": "not ready (TimeoutError)"}

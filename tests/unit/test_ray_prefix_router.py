"""Ray Serve LLM's PrefixCacheAffinityRouter on this application's requests: Ray's reads an
empty prompt (and would divide by its length); the subclass reads the conversation."""

import asyncio

from ray.llm._internal.serve.routing_policies.prefix_aware.prefix_aware_router import (
    PrefixCacheAffinityRouter as RayPrefixCacheAffinityRouter,
)
from ray.serve._private.common import DeploymentHandleSource

from deployments.types import GenerationRequest, Message, TextPart
from router.replica_routing.ray_prefix_cache import PrefixCacheAffinityRouter

from fake_replicas import DEPLOYMENT, pending

REQUEST = GenerationRequest(
    "r1",
    (Message("system", (TextPart("Be brief."),)), Message("user", (TextPart("What is 2 + 2?"),))),
)


def text_read_by(cls, request: GenerationRequest) -> str:
    """What the router matches on; no prefix-tree actor is needed for that."""

    async def read() -> str:  # a PendingRequest holds an asyncio future: it needs a loop
        router = cls(deployment_id=DEPLOYMENT, handle_source=DeploymentHandleSource.UNKNOWN)
        return router._extract_text_from_request(pending(request))

    return asyncio.run(read())


def test_rays_router_reads_an_empty_prompt_from_a_generation_request():
    assert text_read_by(RayPrefixCacheAffinityRouter, REQUEST) == ""


def test_the_subclass_reads_the_conversation_in_order():
    text = text_read_by(PrefixCacheAffinityRouter, REQUEST)
    assert text == REQUEST.prompt_text
    assert text.index("Be brief.") < text.index("What is 2 + 2?")
    follow_up = GenerationRequest(
        "r2", REQUEST.messages + (Message("assistant", (TextPart("4"),)), Message("user", (TextPart("And 3 + 3?"),)))
    )
    assert follow_up.prompt_text.startswith(text)  # a follow-up extends the turn before it

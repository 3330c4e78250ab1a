"""Ray Serve LLM's `PrefixCacheAffinityRouter`, reading this application's requests.

Ray's router takes the text to match from the first argument with a `messages` or `prompt`
attribute, expecting OpenAI-style message dicts. `GenerationRequest.messages` is a tuple of typed
messages, which it reads as an empty prompt, and it then divides by the prompt's length. This
subclass changes only that: it matches on `GenerationRequest.prompt_text`, the conversation as
the engine renders it. Routing, the load threshold, eviction and its shared prefix-tree actor
(with the `ray.get` calls Ray makes on its router loop) are Ray's. Its `request_router_kwargs`
are Ray's too (`imbalanced_threshold`, `match_rate_threshold`, `do_eviction`, ...).

It subclasses the class that `ray.serve.llm.request_router.PrefixCacheAffinityRouter`
re-exports unchanged: importing `ray.serve.llm` needs Ray's `llm` extra (pyarrow and more),
which a Router replica does not otherwise need.
"""

from ray.llm._internal.serve.routing_policies.prefix_aware.prefix_aware_router import (
    PrefixCacheAffinityRouter as RayPrefixCacheAffinityRouter,
)
from ray.serve.request_router import PendingRequest

from deployments.types import GenerationRequest


class PrefixCacheAffinityRouter(RayPrefixCacheAffinityRouter):
    def _extract_text_from_request(self, pending_request: PendingRequest) -> str:
        for arg in pending_request.args:
            if isinstance(arg, GenerationRequest):
                return arg.prompt_text
        return super()._extract_text_from_request(pending_request)

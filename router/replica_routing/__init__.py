"""Which replica of a model deployment answers: conversation-aware request routing.

Ray Serve runs a deployment's `RequestRouter` in the process that calls the deployment's
handle, not in the deployment: for the model deployments that is the Router replica, where
dispatch calls `generate`. So this is request-side code and lives in `router/`: it reads the
`GenerationRequest` the dispatcher sends (deployments/types.py) and never imports an engine.

    prefix.py               a request → chained hashes of fixed-size blocks of its conversation
    memory.py               which replicas served which blocks and adapters (LRU, bounded)
    choice.py               the decision: preferred replica, load check, ranked candidates
    settings.py             the router's `request_router_kwargs`, validated
    conversation_router.py  `ConversationAffinityRouter`, on Serve's `RequestRouter` API
    ray_prefix_cache.py     Ray Serve LLM's `PrefixCacheAffinityRouter`, reading our requests

A deployment chooses one in YAML, `deployments[].request_router_config.request_router_class`
(`CONVERSATION_ROUTER` or `RAY_PREFIX_CACHE_ROUTER`). Ray pickles the module that defines the
class by value, so each router class has a module of its own and imports its helpers.
"""

CONVERSATION_ROUTER = "router.replica_routing.conversation_router:ConversationAffinityRouter"
RAY_PREFIX_CACHE_ROUTER = "router.replica_routing.ray_prefix_cache:PrefixCacheAffinityRouter"

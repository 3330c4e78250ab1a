"""The smallest valid application args: one text model and one image model, every route."""

MINIMAL_ARGS = {
    "models": [
        {"name": "text-model", "source": "tiny:qwen2", "context_length": 2048},
        {"name": "vl-model", "source": "tiny:qwen2.5-vl", "modalities": ["text", "image"], "context_length": 2048},
    ],
    "routes": {
        "math": {"model": "text-model"},
        "code": {"model": "text-model"},
        "vision": {"model": "vl-model"},
        "reasoning": {"model": "text-model", "defaults": {"chat_template_kwargs": {"enable_thinking": True}}},
        "general": {"model": "text-model"},
    },
}

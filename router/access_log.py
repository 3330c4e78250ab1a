"""The access log: one JSON object per chat request, on the `ray.serve.qwen_router.access` logger.

Prompts stay out of it unless the operator sets `telemetry.log_prompts`: by default a request
is identified by a sha256 prefix and the length of its text, enough to spot repeats without
keeping what users wrote. The logger is a child of Ray Serve's, so the line lands in the Router
replica's log file and follows the deployment's `logging_config` (encoding, level, directory;
`enable_access_log: false` turns it off with Serve's own access log).
"""

import hashlib
import json
import logging
from typing import Any, Mapping, Sequence

from deployments.types import Message

logger = logging.getLogger("ray.serve.qwen_router.access")
DIGEST_CHARS = 16


def prompt_fields(messages: Sequence[Message], *, include_text: bool) -> dict[str, Any]:
    """What the log says about the prompt: its digest and size, and the text only if allowed."""
    text = "\n".join(f"{m.role}: {m.text}" for m in messages)
    fields: dict[str, Any] = {
        "prompt_sha256": hashlib.sha256(text.encode()).hexdigest()[:DIGEST_CHARS],
        "prompt_chars": len(text),
        "prompt_images": sum(len(m.images) for m in messages),
    }
    if include_text:
        fields["prompt"] = text
    return fields


def log_access(entry: Mapping[str, Any]) -> None:
    logger.info(json.dumps(entry, ensure_ascii=False, separators=(",", ":")), extra={"serve_access_log": True})

"""OpenAI chat-completions wire types (requests), as the router accepts them.

Strict config, lenient wire: fields this server does not know are accepted and ignored with one
log line per field name, so newer clients keep working. Fields whose silent omission would
change what the client gets (n > 1, tools, logprobs, structured output) are refused instead.
"""

import logging
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

logger = logging.getLogger("qwen_router.protocol")
_ignored_fields_logged: set[str] = set()

JSONValue = Union[str, int, float, bool, None]
MAX_STOP_SEQUENCES = 4


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow")


class TextContent(_Lenient):
    type: Literal["text"]
    text: str


class ImageURL(_Lenient):
    url: str = Field(..., min_length=1, description="data: URL, or http(s) when the server allows it.")
    detail: Literal["auto", "low", "high"] | None = None


class ImageContent(_Lenient):
    type: Literal["image_url"]
    image_url: ImageURL


ContentPart = Annotated[Union[TextContent, ImageContent], Field(discriminator="type")]


class ChatMessage(_Lenient):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[ContentPart] | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _content_present(self) -> "ChatMessage":
        if self.content is None and self.role != "assistant":
            raise ValueError(f"a {self.role} message needs content")
        if isinstance(self.content, list) and self.role != "user":
            if any(isinstance(part, ImageContent) for part in self.content):
                raise ValueError("only user messages may carry images")
        return self


class StreamOptions(_Lenient):
    include_usage: bool = False


class ChatCompletionRequest(_Lenient):
    model: str = Field("auto", description='A served model name, or "auto" to let the router pick.')
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    n: int = Field(1, description="Only 1 is supported.")
    stop: str | list[str] | None = None
    seed: int | None = Field(None, ge=-(2**63), lt=2**64, description="A 64-bit integer, as generators take it.")
    chat_template_kwargs: dict[str, JSONValue] | None = Field(
        None, description="Passed to the chat template, e.g. {enable_thinking: false} for Qwen3."
    )
    # Known OpenAI fields that would change the answer if ignored: refused unless unused.
    logprobs: bool | None = None
    tools: list[dict[str, Any]] | None = None
    response_format: dict[str, Any] | None = None

    @field_validator("n")
    @classmethod
    def _only_one_choice(cls, n: int) -> int:
        if n != 1:
            raise ValueError("only n=1 is supported")
        return n

    @field_validator("stop")
    @classmethod
    def _bounded_stop(cls, stop: str | list[str] | None) -> str | list[str] | None:
        sequences = [stop] if isinstance(stop, str) else stop or []
        if len(sequences) > MAX_STOP_SEQUENCES:
            raise ValueError(f"at most {MAX_STOP_SEQUENCES} stop sequences are supported")
        if any(s == "" for s in sequences):
            raise ValueError("stop sequences must not be empty")
        return stop

    @field_validator("logprobs")
    @classmethod
    def _no_logprobs(cls, logprobs: bool | None) -> bool | None:
        if logprobs:
            raise ValueError("logprobs are not supported")
        return logprobs

    @field_validator("tools")
    @classmethod
    def _no_tools(cls, tools: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        if tools:
            raise ValueError("tool calling is not supported")
        return tools

    @field_validator("response_format")
    @classmethod
    def _text_only(cls, response_format: dict[str, Any] | None) -> dict[str, Any] | None:
        if response_format and response_format.get("type", "text") != "text":
            raise ValueError("only response_format {type: text} is supported")
        return response_format

    @model_validator(mode="after")
    def _log_ignored_fields(self) -> "ChatCompletionRequest":
        for name in sorted(set(self.model_extra or {}) - _ignored_fields_logged):
            _ignored_fields_logged.add(name)
            logger.info("ignoring request field %r (not supported by this server)", name)
        return self

    @property
    def stop_sequences(self) -> tuple[str, ...]:
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ())

    @property
    def completion_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)

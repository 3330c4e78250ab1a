"""Typed errors raised on the model side and understood by the router.

Ray re-raises a replica's exception in the caller as a subclass of the original class, with its
attributes intact, but `str()` of it becomes a remote traceback. So every error carries a
client-safe `message`, and callers read that, never `str(exc)`.
"""


class QwenRouterError(Exception):
    """Base of every error the service reports to clients on purpose."""

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code

    def __reduce__(self) -> tuple:
        # Rebuilt from its attributes, not by calling __init__ again: subclasses may take
        # other arguments, and Ray must be able to unpickle every one of them.
        return (_restore, (type(self), self.args, self.__dict__))


def _restore(cls: type[QwenRouterError], args: tuple, state: dict) -> QwenRouterError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class InvalidRequestError(QwenRouterError):
    """The request itself is wrong (bad image, bad parameter): the client must change it."""


class ContextLengthExceededError(InvalidRequestError):
    """The prompt (plus the requested completion) does not fit the model's context window."""

    def __init__(self, *, prompt_tokens: int, max_tokens: int | None, context_length: int) -> None:
        if max_tokens is None:
            message = (
                f"This model's maximum context length is {context_length} tokens, "
                f"but the prompt has {prompt_tokens} tokens."
            )
        else:
            message = (
                f"This model's maximum context length is {context_length} tokens. However, you "
                f"requested {prompt_tokens + max_tokens} tokens ({prompt_tokens} in the messages, "
                f"{max_tokens} in the completion)."
            )
        super().__init__(message, param="messages", code="context_length_exceeded")
        self.prompt_tokens = prompt_tokens
        self.max_tokens = max_tokens
        self.context_length = context_length


class EngineError(QwenRouterError):
    """The engine failed while serving a valid request; the client may retry."""

"""Validation errors as users read them: field path, bad value, what is allowed."""

import re
from typing import Any

from pydantic import BaseModel

from serve_app.config.app import AppConfig
from serve_app.config.models import ENGINE_TAGS


def format_validation_error(error: Exception, prefix: str = "") -> list[str]:
    """One line per problem: the field path (under `prefix`), the bad value and what is allowed."""
    from pydantic import ValidationError

    if not isinstance(error, ValidationError):
        return [_anchored(prefix, "", str(error))]
    return [_anchored(prefix, *_describe(item)) for item in error.errors()]


def _anchored(prefix: str, path: str, problem: str) -> str:
    """`prefix.path: problem`, where validators may start `problem` with a relative field."""
    relative = re.match(r"^([\w.\[\]]+): (.*)$", problem, re.DOTALL)
    if relative and not path.endswith(relative.group(1)):
        path, problem = ".".join(p for p in (path, relative.group(1)) if p), relative.group(2)
    where = ".".join(p for p in (prefix, path) if p)
    return f"{where}: {problem}" if where else problem


def _describe(item: Any) -> tuple[str, str]:
    loc = tuple(part for part in item["loc"] if part != "[key]")
    path = field_path(loc)
    message = item["msg"].removeprefix("Value error, ")
    kind = item["type"]
    if kind == "extra_forbidden":
        return path, f"unknown field; allowed fields: {_allowed_fields(loc[:-1])}"
    if kind == "missing":
        return path, "required field is missing"
    got = item.get("input")
    if kind == "value_error" or isinstance(got, (dict, list, tuple)):
        return path, message
    return path, f"{message} (got {got!r})"


def field_path(loc: tuple) -> str:
    """A pydantic error location as users write it: ("models", 0, "name") → models[0].name."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ENGINE_TAGS and out.endswith("engine"):
            continue  # pydantic's discriminator tag, not a field the user wrote
        else:
            out += ("." if out else "") + str(part)
    return out


def _allowed_fields(loc: tuple) -> list[str]:
    model: Any = AppConfig
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        if part in ENGINE_TAGS:
            model = ENGINE_TAGS[part]
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            continue  # a dict key such as a route's category, not a field
        model = _model_type(field.annotation)
    return sorted(getattr(model, "model_fields", {}))


def _model_type(annotation: Any) -> Any:
    """The BaseModel inside an annotation such as tuple[ModelConfig, ...] or dict[str, Route]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_type(arg)
        if found is not None:
            return found
    return None

"""Labelled requests in the shared routing format (one JSON object per line), read into Messages.

Image parts name files relative to the JSONL file's folder; they must exist, so a moved data set
fails loudly instead of silently losing its vision requests.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deployments.types import ContentPart, ImagePart, Message, TextPart
from serve_app.config import CATEGORIES, Category


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    label: Category
    source: str
    messages: tuple[Message, ...]
    lang: str = ""  # ISO 639-1 code of the last user turn, where the file says it


def read_records(path: Path) -> list[Record]:
    records = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    records.append(_record(json.loads(line), path.parent))
                except (KeyError, TypeError, ValueError) as error:
                    raise ValueError(f"{path}:{number}: {error}") from error
    return records


def _record(row: dict[str, Any], folder: Path) -> Record:
    label = row["label"]
    if label not in CATEGORIES:
        raise ValueError(f"label {label!r} is not one of {list(CATEGORIES)}")
    messages = tuple(Message(m["role"], _parts(m["content"], folder)) for m in row["messages"])
    return Record(str(row.get("id", "")), label, str(row.get("source", "")), messages, str(row.get("lang", "")))


def _parts(content: str | list[dict[str, Any]], folder: Path) -> tuple[ContentPart, ...]:
    if isinstance(content, str):
        return (TextPart(content),)
    parts: list[ContentPart] = []
    for part in content:
        if part["type"] == "text":
            parts.append(TextPart(part["text"]))
        elif part["type"] == "image_url":
            parts.append(ImagePart(_image_url(part["image_url"]["url"], folder)))
        else:
            raise ValueError(f"content part type {part['type']!r} is not one of ['text', 'image_url']")
    return tuple(parts)


def _image_url(url: str, folder: Path) -> str:
    if url.startswith(("data:", "http://", "https://")):
        return url
    path = (folder / url).resolve()
    if not path.is_file():
        raise ValueError(f"image {url!r} not found at {path}")
    return path.as_uri()

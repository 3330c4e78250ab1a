"""The access log says which prompt without saying what it was, unless the operator allows it."""

import hashlib
import json
import logging

from deployments.types import ImagePart, Message, TextPart
from router.access_log import log_access, logger, prompt_fields

MESSAGES = (
    Message("system", (TextPart("Be brief."),)),
    Message("user", (TextPart("my card number is 4111 1111 1111 1111"), ImagePart("data:image/png;base64,AAAA"))),
)
TEXT = "system: Be brief.\nuser: my card number is 4111 1111 1111 1111"


def test_by_default_a_prompt_is_a_digest_and_its_size():
    fields = prompt_fields(MESSAGES, include_text=False)
    assert fields == {
        "prompt_sha256": hashlib.sha256(TEXT.encode()).hexdigest()[:16],
        "prompt_chars": len(TEXT),
        "prompt_images": 1,
    }
    assert "4111" not in json.dumps(fields)


def test_the_same_prompt_has_the_same_digest_and_another_does_not():
    again = prompt_fields(MESSAGES, include_text=False)["prompt_sha256"]
    other = prompt_fields(MESSAGES[:1], include_text=False)["prompt_sha256"]
    assert again == prompt_fields(MESSAGES, include_text=False)["prompt_sha256"] != other


def test_prompt_text_only_when_turned_on_and_never_the_image_data():
    fields = prompt_fields(MESSAGES, include_text=True)
    assert fields["prompt"] == TEXT
    assert "base64" not in json.dumps(fields)


def test_one_json_object_per_line_marked_as_an_access_log():
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append  # type: ignore[method-assign]
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        log_access({"request_id": "r1", "status": 200, "model": "qwen3-moe", "note": "line\nbreak"})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    (record,) = records
    assert record.serve_access_log is True  # Serve's enable_access_log: false filters it too
    assert "\n" not in record.getMessage()
    assert json.loads(record.getMessage())["note"] == "line\nbreak"

"""The classifier is never trained on what it is evaluated on: no check-set request in the training files.

Exact copies are caught after normalisation, near copies of the hand-written check sets by shared
word 3-grams (the measure the routing data used to keep its hidden set apart).
"""

import re
from pathlib import Path

import pytest

from router.classifier.conversation import has_image
from router.classifier.features import normalise
from router.classifier.records import Record, read_records
from router.classifier.train import DATA, NATURAL, TRAINING, training_records

MULTILINGUAL = Path(__file__).resolve().parents[1] / "data" / "routing_multilingual.jsonl"
NEAR_COPY = 0.5  # Jaccard similarity of word 3-grams


def _text(record: Record) -> str:
    return " ".join(" ".join(normalise(m.text) for m in record.messages if m.role == "user").split())


def _grams(text: str) -> frozenset[tuple[str, ...]]:
    words = re.findall(r"\w+", text)
    return frozenset(zip(words, words[1:], words[2:])) or frozenset({tuple(words)})


TRAINING_RECORDS = training_records(TRAINING)  # text requests only: images are settled before the model


@pytest.mark.parametrize("check_set", [DATA / "dev.jsonl", MULTILINGUAL, NATURAL], ids=lambda p: p.name)
def test_no_check_set_request_is_in_the_training_files(check_set):
    training = {_text(r) for r in TRAINING_RECORDS}
    assert [r.id for r in read_records(check_set) if not has_image(r.messages) and _text(r) in training] == []


@pytest.mark.parametrize("check_set", [MULTILINGUAL, NATURAL], ids=lambda p: p.name)
def test_no_hand_written_check_request_is_near_an_authored_one(check_set):
    authored = [(r.id, _grams(_text(r))) for r in TRAINING_RECORDS if r.source.startswith("authored/")]
    near = []
    for record in read_records(check_set):
        grams = _grams(_text(record))
        near += [(record.id, other) for other, theirs in authored
                 if len(grams & theirs) / len(grams | theirs) >= NEAR_COPY]
    assert near == []

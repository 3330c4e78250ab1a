"""The classifier is never trained on what it is evaluated on: no check-set request in the training files.

Exact copies are caught after normalisation, near copies by shared word 3-grams (the measure the
routing data used to keep its hidden set apart), against every training file: the benchmark
copies, the authored requests and every file of natural and harness requests.
"""

import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from router.classifier.conversation import has_image
from router.classifier.normalise import normalise
from router.classifier.records import Record, read_records
from router.classifier.report import CHECK_SETS
from router.classifier.train import DATA, TRAINING, training_records

NEAR_COPY = 0.5  # Jaccard similarity of word 3-grams
FOLLOWS_A_BENCHMARK = 0.25
EVALUATION_SETS = {"dev": DATA / "dev.jsonl", **CHECK_SETS}


def _text(record: Record) -> str:
    return " ".join(" ".join(normalise(m.text) for m in record.messages if m.role == "user").split())


def _grams(text: str) -> frozenset[tuple[str, ...]]:
    # CJK characters are words of their own here too (their texts have no spaces to split on).
    words = re.findall(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+", text)
    return frozenset(zip(words, words[1:], words[2:])) or frozenset({tuple(words)})


TRAINING_RECORDS = training_records(TRAINING)  # text requests only: images are settled before the model
HAND_WRITTEN_SOURCES = ("authored/", "natural/", "harness/")  # the rest of train.jsonl is benchmark copies
HAND_WRITTEN = [(r.id, _grams(_text(r))) for r in TRAINING_RECORDS if r.source.startswith(HAND_WRITTEN_SOURCES)]
HAND_WRITTEN_BY_GRAM: dict[tuple[str, ...], list[int]] = defaultdict(list)
for _index, (_, _grams_of_one) in enumerate(HAND_WRITTEN):
    for _gram in _grams_of_one:
        HAND_WRITTEN_BY_GRAM[_gram].append(_index)


def test_every_training_file_is_read():
    assert {path.name for path in TRAINING} >= {"train.jsonl", "authored.jsonl", "devs.jsonl", "numbers.jsonl",
                                                 "puzzles.jsonl", "everyday.jsonl", "mobile.jsonl", "threads.jsonl",
                                                 "work.jsonl", "exam_mc.jsonl", "stepwise.jsonl", "assistant.jsonl",
                                                 "programming.jsonl", "formal.jsonl"}


@pytest.mark.parametrize("name", EVALUATION_SETS)
def test_no_evaluation_request_is_in_the_training_files(name):
    training = {_text(r) for r in TRAINING_RECORDS}
    records = read_records(EVALUATION_SETS[name])
    assert [r.id for r in records if not has_image(r.messages) and _text(r) in training] == []


def near_hand_written(records: list[Record], threshold: float) -> list[tuple[str, str]]:
    """(record id, hand-written id) for every hand-written request at least `threshold` alike."""
    near = []
    for record in records:
        grams = _grams(_text(record))
        shared = Counter(index for gram in grams for index in HAND_WRITTEN_BY_GRAM.get(gram, ()))
        near += [(record.id, HAND_WRITTEN[index][0]) for index, count in shared.items()
                 if count / (len(grams) + len(HAND_WRITTEN[index][1]) - count) >= threshold]
    return near


@pytest.mark.parametrize("name", EVALUATION_SETS)
def test_no_evaluation_request_is_near_a_hand_written_training_request(name):
    assert near_hand_written(read_records(EVALUATION_SETS[name]), NEAR_COPY) == []


def test_no_hand_written_request_follows_a_benchmark_items_wording():
    """Hand-written requests use a benchmark's layout, never its items: none shares a quarter of
    its word 3-grams with a benchmark request of the training or dev files."""
    benchmark = [r for r in TRAINING_RECORDS if not r.source.startswith(HAND_WRITTEN_SOURCES)]
    assert near_hand_written(benchmark + read_records(DATA / "dev.jsonl"), FOLLOWS_A_BENCHMARK) == []

import random

import pytest

from deployments.thinking import ThinkingSplitter, split_thinking

CASES = [
    ("<think>\nadd the numbers\n</think>\n\nThe answer is 4.", ("add the numbers", "The answer is 4.")),
    ("  <think>x</think>y", ("x", "y")),
    ("<think>\n\n</think>\n\nOnly an answer.", ("", "Only an answer.")),
    ("No thinking here.", ("", "No thinking here.")),
    ("The tag <think> mid-answer stays content.", ("", "The tag <think> mid-answer stays content.")),
    ("<think>cut off by max_tokens", ("cut off by max_tokens", "")),
    ("<think>a </thin b</think>c", ("a </thin b", "c")),
    ("<thinking is not a tag", ("", "<thinking is not a tag")),
    ("<thi", ("", "<thi")),
    ("", ("", "")),
    ("<think>one</think>two</think>three", ("one", "two</think>three")),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_whole_text_split(text, expected):
    assert split_thinking(text) == expected


@pytest.mark.parametrize("text,expected", CASES)
def test_any_chunking_gives_the_same_split(text, expected):
    rng = random.Random(text)
    for _ in range(50):
        cuts = sorted(rng.sample(range(len(text) + 1), k=min(len(text) + 1, rng.randint(0, 6))))
        pieces = [text[a:b] for a, b in zip([0] + cuts, cuts + [len(text)])]
        splitter = ThinkingSplitter()
        reasoning, content = "", ""
        for piece in pieces:
            r, c = splitter.feed(piece)
            reasoning, content = reasoning + r, content + c
        r, c = splitter.flush()
        assert (reasoning + r, content + c) == expected, pieces


def test_tag_split_one_character_at_a_time_never_leaks_into_content():
    splitter = ThinkingSplitter()
    outputs = [splitter.feed(ch) for ch in "<think>plan</think>\n\nanswer"]
    contents = "".join(c for _, c in outputs)
    assert "<" not in contents and contents == "answer"
    assert "".join(r for r, _ in outputs) == "plan"


def test_reasoning_streams_before_the_close_tag_arrives():
    splitter = ThinkingSplitter()
    assert splitter.feed("<think>first thoughts") == ("first thoughts", "")
    assert splitter.feed(" and more") == (" and more", "")

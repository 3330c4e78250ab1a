"""The router's classifier (signals + shipped model): categories, edge cases, conversations, cost."""

import time

import pytest

from deployments.types import ImagePart, Message, TextPart
from router.classifier import MAX_CHARS, classify

IMAGE = ImagePart("data:image/png;base64,AAAA")


def user(text: str) -> Message:
    return Message("user", (TextPart(text),))


def category(*texts: str) -> str:
    return classify([user(t) for t in texts]).category


@pytest.mark.parametrize(
    "text", ["", "Write a python function that sorts a list", "Solve 2x + 3 = 11", "```python\nprint('hello')\n```"]
)
def test_image_part_means_vision_whatever_the_text(text):
    result = classify([Message("user", (TextPart(text), IMAGE))])
    assert (result.category, result.confidence) == ("vision", 1.0)
    assert result.reasons == ("image attached",)


def test_only_an_image_is_vision():
    assert classify([Message("user", (IMAGE,))]).category == "vision"


def test_text_that_mentions_a_picture_is_not_vision():
    assert category("Describe the picture I took yesterday of the beach") != "vision"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("What does this do?\n```python\nx = [i * i for i in range(10)]\nprint(x)\n```", "code"),
        ("def parse(line):\n    return line.split(',')\nwhy does this fail on empty lines", "code"),
        ("Write a python function that reverses a linked list", "code"),
        ("How do I select the top 3 salaries per department in SQL?", "code"),
        (r"Evaluate $\int_0^1 x^2 \, dx$", "math"),
        ("Solve 2x + 3 = 11", "math"),
        ("Tom has 12 apples, gives 5 to Ann and 3 to Bob. How many apples does he have left?", "math"),
        (
            "Knights always tell the truth and knaves always lie. A says: 'B is a knave.' "
            "B says: 'A and I are both knights.' Who is lying?",
            "reasoning",
        ),
        ("Write a short poem about autumn leaves falling in a quiet park", "general"),
        ("What is the capital of France?", "general"),
    ],
)
def test_categories(text, expected):
    assert category(text) == expected


@pytest.mark.parametrize("messages", [[user("")], [user("   \n ")], [], [Message("system", (TextPart("code"),))]])
def test_no_user_text_is_general(messages):
    assert classify(messages) == classify([user("")])
    assert classify(messages).category == "general"


@pytest.mark.parametrize(
    "fenced",
    ["```\nSolve for x: 3x + 5 = 20\n```", "```\nA train travels 120 km in 2 hours. What is its average speed?\n```"],
)
def test_a_math_question_inside_a_code_block_is_math(fenced):
    assert category(fenced) == "math"


@pytest.mark.parametrize(
    "text,expected",
    [("请用 Python 写一个 function，把 list 排序", "code"), ("Berechne bitte: what is the integral of x^2 from 0 to 3?", "math")],
)
def test_mixed_languages(text, expected):
    assert category(text) == expected


def test_a_system_prompt_about_code_does_not_decide_a_poem():
    system = "You are a senior Python engineer. Answer with ```python fences, unit tests and type hints. " * 40
    messages = [Message("system", (TextPart(system),)), user("Write a short poem about the sea")]
    assert classify(messages).category == "general"


CODING = [user("Write a python function that parses a CSV file into a list of dicts"), Message("assistant", (TextPart("Here."),))]


@pytest.mark.parametrize("follow_up", ["now do it in Rust", "now make it faster"])
def test_follow_up_keeps_the_coding_topic(follow_up):
    assert classify([*CODING, user(follow_up)]).category == "code"


def test_follow_up_is_judged_alone_without_context_turns():
    messages = [*CODING, user("now make it faster")]
    assert classify(messages, context_turns=0).category != "code"


def test_a_new_topic_wins_over_the_earlier_turn():
    assert classify([*CODING, user("Write a short poem about the sea")]).category == "general"


def test_assistant_turns_are_ignored():
    code_answer = Message("assistant", (TextPart("```python\ndef f(x):\n    return x\n```"),))
    assert classify([user("Tell me a joke about cats"), code_answer, user("another one please")]).category != "code"


def _filler(size: int) -> str:
    sentence = "The quick brown fox jumps over the lazy dog near the river bank. "
    return (sentence * (size // len(sentence) + 1))[:size]


def test_a_100kb_prompt_is_read_at_its_ends():
    question = "\nWrite a python function that returns the n-th Fibonacci number.\n"
    assert category(_filler(100_000) + question) == "code"
    assert category(question + _filler(100_000)) == "code"
    assert category(_filler(50_000) + question + _filler(50_000)) != "code"
    assert 100_000 > 50 * MAX_CHARS


def _best_time(text: str, repeat: int = 7) -> float:
    messages = [user(text)]
    classify(messages)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        classify(messages)
        best = min(best, time.perf_counter() - start)
    return best


def test_cost_is_bounded_for_huge_prompts():
    small, huge = _best_time(_filler(8_000)), _best_time(_filler(1_000_000))
    # 125x the text; bounded work stays near the 8 KB time (slack for a noisy shared machine).
    assert huge < 3 * small + 0.002


def test_confidence_and_reasons():
    result = classify([user("Write a python function:\n```python\ndef f(x):\n    return x\n```")])
    assert result.category == "code" and 0.0 < result.confidence <= 1.0
    assert any(reason.startswith("signal ") for reason in result.reasons)
    assert all(reason for reason in result.reasons)


def test_deterministic():
    messages = [*CODING, user("Solve 2x + 3 = 11 and write a python function for it")]
    assert len({classify(messages) for _ in range(20)}) == 1


def test_the_classifier_imports_no_training_or_torch_library():
    import subprocess
    import sys

    code = (
        "import sys; from router.classifier import classify; from deployments.types import Message, TextPart; "
        "classify([Message('user', (TextPart('hi'),))]); "
        "print(sorted(m for m in ('torch', 'transformers', 'sklearn', 'scipy', 'wordllama') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

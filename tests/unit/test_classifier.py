"""The rules classifier: clear signals → category, confidence and reasons; bounded and deterministic."""

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
    "text",
    [
        "",
        "Write a python function that sorts a list",
        "Solve 2x + 3 = 11",
        "```python\nprint('hello')\n```",
    ],
)
def test_image_part_means_vision_whatever_the_text(text):
    result = classify([Message("user", (TextPart(text), IMAGE))])
    assert result.category == "vision"
    assert result.confidence == 1.0
    assert result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "What does this do?\n```\nx = [i * i for i in range(10)]\n```",
        "def parse(line):\n    return line.split(',')\nwhy does this fail on empty lines",
        "#include <stdio.h>\nint main() { return 0; }",
        "Write a python function that reverses a linked list",
        "write a function that checks whether a string is a palindrome",
    ],
)
def test_code(text):
    assert category(text) == "code"


@pytest.mark.parametrize(
    "text",
    [
        r"Evaluate $\int_0^1 x^2 \, dx$",
        r"Simplify \frac{x^2 - 1}{x - 1}",
        "Solve 2x + 3 = 11",
        "A train travels 60 miles in 1.5 hours. What is its average speed?",
        "Tom has 12 apples, gives 5 to Ann and 3 to Bob. How many apples does he have left?",
    ],
)
def test_math(text):
    assert category(text) == "math"


@pytest.mark.parametrize(
    "text",
    [
        "Exactly one of three friends tells the truth. Anna says Ben did it. Ben says he did not. "
        "Cara says Anna did it. Who did it?",
        "Here is a riddle for you: the more you take, the more you leave behind. What am I?",
        "Five runners finish a race in a fixed order. Deduce who came third from these constraints.",
    ],
)
def test_reasoning(text):
    assert category(text) == "reasoning"


def test_classic_knights_and_knaves_is_reasoning():
    text = (
        "On an island, knights always tell the truth and knaves always lie. A says: 'B is a knave.' "
        "B says: 'A and I are of the same kind.' What are A and B?"
    )
    assert category(text) == "reasoning"


@pytest.mark.parametrize(
    "text",
    [
        "Write a short poem about autumn leaves falling in a quiet park",
        "What is the capital of France?",
        "Tell me a joke about cats",
    ],
)
def test_general(text):
    result = classify([user(text)])
    assert result.category == "general"


@pytest.mark.parametrize("messages", [[user("")], [user("   \n ")], [], [Message("system", (TextPart("code"),))]])
def test_no_user_text_is_general(messages):
    result = classify(messages)
    assert result.category == "general"
    assert result.reasons


def test_system_prompt_is_ignored():
    system = Message("system", (TextPart("You are a Python coding assistant. Always answer with ```code```."),))
    assert classify([system, user("Write a short poem about the sea")]).category == "general"


def test_assistant_turns_are_ignored():
    assistant = Message("assistant", (TextPart("```python\ndef f(x):\n    return x\n```"),))
    assert classify([user("Tell me a joke about cats"), assistant, user("another one please")]).category == "general"


CODING_CONVERSATION = [
    user("Write a python function that parses a CSV file into a list of dicts"),
    Message("assistant", (TextPart("Here you go."),)),
]


@pytest.mark.parametrize("follow_up", ["now make it faster", "now do it in Rust"])
def test_follow_up_keeps_the_coding_topic(follow_up):
    assert classify([*CODING_CONVERSATION, user(follow_up)]).category == "code"


def test_follow_up_without_context_turns_is_judged_alone():
    messages = [*CODING_CONVERSATION, user("now make it faster")]
    assert classify(messages, context_turns=0).category == "general"
    assert classify(messages, context_turns=1).category == "code"


def test_earlier_turns_beyond_context_turns_are_ignored():
    messages = [
        CODING_CONVERSATION[0],
        user("Tell me a joke about cats"),
        user("Tell me another joke"),
        user("now make it faster"),
    ]
    assert classify(messages, context_turns=2).category == "general"
    assert classify(messages, context_turns=3).category == "code"


def _filler(size: int) -> str:
    sentence = "The quick brown fox jumps over the lazy dog near the river bank. "
    return (sentence * (size // len(sentence) + 1))[:size]


def test_long_prompt_looks_at_head_and_tail_only():
    fence = "\n```python\nx = 1\n```\n"
    middle = _filler(50_000) + fence + _filler(50_000)
    assert classify([user(middle)]).category == "general"
    assert classify([user(_filler(100_000) + fence)]).category == "code"
    assert classify([user(fence + _filler(100_000))]).category == "code"
    assert len(_filler(100_000)) > 10 * MAX_CHARS


def _time(text: str, repeat: int = 5) -> float:
    messages = [user(text)]
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        classify(messages)
        best = min(best, time.perf_counter() - start)
    return best


def test_cost_is_bounded_for_huge_prompts():
    small, large = _time(_filler(8_000)), _time(_filler(100_000))
    # 12x the text; a linear scan would take ~12x as long. Bounded work stays close to the 8 KB time.
    assert large < 4 * small + 0.005


@pytest.mark.parametrize(
    "text,signal",
    [
        ("```\nx\n```", "code fence"),
        ("Write a python function that adds two numbers", "write-a-function"),
        (r"Compute \frac{1}{2} + \frac{1}{3}", "LaTeX"),
        ("Exactly one of them tells the truth", "logic-puzzle"),
    ],
)
def test_reasons_mention_the_signal(text, signal):
    result = classify([user(text)])
    assert result.reasons
    assert all(reason for reason in result.reasons)
    assert any(signal in reason for reason in result.reasons)


@pytest.mark.parametrize(
    "text",
    ["", "hello", "```\nx\n```", "Solve 2x + 3 = 11", "Who tells the truth?", "What is the capital of France?"],
)
def test_confidence_in_unit_interval(text):
    assert 0.0 < classify([user(text)]).confidence <= 1.0


def test_stronger_signal_means_higher_confidence():
    weak = classify([user("explain this python code please")])
    strong = classify([user("Write a python function:\n```python\ndef f(x):\n    return x\n```")])
    assert weak.category == strong.category == "code"
    assert strong.confidence > weak.confidence


def test_deterministic():
    messages = [*CODING_CONVERSATION, user("Solve 2x + 3 = 11 and write a python function for it")]
    results = {classify(messages) for _ in range(20)}
    assert len(results) == 1

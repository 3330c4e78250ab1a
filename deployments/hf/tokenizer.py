"""A small Qwen-style byte-level BPE tokenizer, trained locally in well under a second.

Tiny checkpoints must work offline, so the tokenizer is trained here from a built-in corpus
instead of downloaded. It is configured exactly as transformers rebuilds a `qwen2` tokenizer
(NFC, Qwen's split regex, ByteLevel without its own regex): with any other pre-tokenizer,
`AutoTokenizer.from_pretrained` would silently produce different ids than the trained object.
"""

import json
from pathlib import Path

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

# Qwen2's pre-tokenization regex (transformers/models/qwen2/tokenization_qwen2.py).
QWEN_SPLIT_REGEX = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
ENDOFTEXT = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
VISION_START = "<|vision_start|>"
VISION_END = "<|vision_end|>"
IMAGE_PAD = "<|image_pad|>"
VIDEO_PAD = "<|video_pad|>"
SPECIAL_TOKENS = (ENDOFTEXT, IM_START, IM_END, VISION_START, VISION_END, IMAGE_PAD, VIDEO_PAD)
# Added but not special: decoding with skip_special_tokens keeps them, as in Qwen3.
THINK_TOKENS = ("<think>", "</think>")
VOCAB_SIZE = 1536  # an upper bound: the small corpus runs out of merges at about 1,380
MODEL_MAX_LENGTH = 4096

CORPUS = """\
The quick brown fox jumps over the lazy dog. You are a helpful assistant.
Hello! How can I help you today? Please explain the answer step by step.
The user asked a question about the weather, the news, and the history of the city.
I think the best way to solve this problem is to break it into smaller parts first.
Let me check the documentation before I answer. Here is a summary of the main points:
1. Read the request carefully. 2. Find the relevant facts. 3. Write a short, clear reply.
What is the capital of France? The capital of France is Paris. Is it far from Berlin?
Describe the image: a red car parked next to a small white house under a blue sky.
This picture shows two people walking a dog in the park on a sunny afternoon.
Translate the following sentence into Spanish, German and Finnish, then compare them.
Can you write a poem about the sea? The waves roll in, the gulls cry out, the tide returns.
Thank you very much! You're welcome. It's a pleasure. We'll see; they've said they'd come.
Reasoning: if every cat is an animal and Tom is a cat, then Tom is an animal. Therefore, yes.
First, consider the constraints. Next, compare the options. Finally, choose the best one.

def fibonacci(n: int) -> int:
    \"\"\"Return the n-th Fibonacci number.\"\"\"
    if n < 2:
        return n
    return fibonacci(n - 1) + fibonacci(n - 2)

class Stack:
    def __init__(self) -> None:
        self.items: list[int] = []

    def push(self, item: int) -> None:
        self.items.append(item)

    def pop(self) -> int:
        return self.items.pop()

for i in range(10):
    print(f"value {i}: {i * i}")

import json
data = json.loads('{"name": "qwen", "size": 7, "tags": ["math", "code"]}')
result = {key: value for key, value in data.items() if value is not None}

function add(a, b) { return a + b; }
const items = [1, 2, 3].map((x) => x * 2);
SELECT name, COUNT(*) FROM users WHERE age > 18 GROUP BY name ORDER BY name;
fn main() { let v: Vec<i32> = vec![1, 2, 3]; println!("{:?}", v); }
#include <stdio.h>
int main(void) { printf("hello, world\\n"); return 0; }

Solve for x: 2x + 3 = 11, so 2x = 8 and x = 4.
The integral of x^2 from 0 to 1 is 1/3. The derivative of sin(x) is cos(x).
Compute 12 * 34 = 408, 1000 - 1 = 999, 3.14159 * 2 = 6.28318, and 2^10 = 1024.
Prove that the sum of the first n odd numbers is n^2. Base case: n = 1 gives 1 = 1^2.
\\frac{a}{b} + \\frac{c}{d} = \\frac{ad + bc}{bd}, \\sqrt{16} = 4, \\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}
Let f(x) = 3x^2 - 5x + 2. Then f'(x) = 6x - 5 and the roots are x = 1 and x = 2/3.
The probability of rolling two sixes with fair dice is 1/36, about 0.0278.
A matrix A is invertible if and only if det(A) != 0. The eigenvalues satisfy det(A - tI) = 0.
Final answer: \\boxed{42}

你好！我是一个乐于助人的助手。今天天气很好，我们去公园散步吧。
请一步一步地解释这个数学问题。人工智能正在改变世界。
这张图片里有一只猫和一只狗。我喜欢学习中文和编程。
¡Hola! ¿Cómo estás? Me gusta mucho aprender idiomas y leer libros en la biblioteca.
El niño come una manzana. La ciudad está cerca del mar y el tiempo es muy agradable.
Guten Tag! Wie geht es Ihnen? Ich möchte gern einen Kaffee und ein Stück Kuchen.
Die Straße ist lang, und die Häuser sind schön. Können Sie mir bitte helfen?
Hyvää päivää! Mitä kuuluu? Minä opiskelen suomea ja ohjelmointia yliopistossa.
Järvi on kaunis kesällä, ja metsässä kasvaa paljon mustikoita. Kiitos paljon!
"""


def train_tokenizer() -> Tokenizer:
    """Train the BPE model deterministically and add Qwen's special and thinking tokens."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN_SPLIT_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=1,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(CORPUS.splitlines(keepends=True), trainer=trainer)
    # Like Qwen, the control tokens come after the learned vocabulary.
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in THINK_TOKENS])
    return tokenizer


def write_tokenizer(folder: Path, chat_template: str) -> Tokenizer:
    """Write tokenizer.json and a tokenizer_config.json shaped like Qwen's hub files."""
    tokenizer = train_tokenizer()
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    config = {
        "tokenizer_class": "Qwen2Tokenizer",
        "add_bos_token": False,
        "add_prefix_space": False,
        "bos_token": None,
        "eos_token": IM_END,
        "pad_token": ENDOFTEXT,
        "unk_token": None,
        "extra_special_tokens": list(SPECIAL_TOKENS[1:]),
        "clean_up_tokenization_spaces": False,
        "split_special_tokens": False,
        "errors": "replace",
        "model_max_length": MODEL_MAX_LENGTH,
        "chat_template": chat_template,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    return tokenizer

"""Qwen chat templates (ChatML, no tool calling) for the tiny checkpoints.

They reproduce what the real Qwen2.5, Qwen2.5-VL and Qwen3 templates render for plain chats, so
the serving code sees the same prompts offline as with hub models. Every newline is a `'\\n'`
inside a string literal: `{%- ... %}` strips the literal text before it (as in Qwen's own files).
"""

QWEN2_5_SYSTEM_PROMPT = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
QWEN2_5_VL_SYSTEM_PROMPT = "You are a helpful assistant."

# Content is a string or a list of OpenAI-style parts; text parts are concatenated.
_TEXT_CONTENT = """\
{%- macro render_content(content) %}
    {%- if content is string %}
        {{- content }}
    {%- elif content is not none %}
        {%- for part in content %}
            {%- if part.type == 'text' %}
                {{- part.text }}
            {%- endif %}
        {%- endfor %}
    {%- endif %}
{%- endmacro %}
"""

# As above, plus image parts become the vision placeholder the processor expands.
_VISION_CONTENT = """\
{%- macro render_content(content) %}
    {%- if content is string %}
        {{- content }}
    {%- elif content is not none %}
        {%- for part in content %}
            {%- if part.type in ['image', 'image_url'] or 'image' in part or 'image_url' in part %}
                {{- '<|vision_start|><|image_pad|><|vision_end|>' }}
            {%- elif part.type == 'text' %}
                {{- part.text }}
            {%- endif %}
        {%- endfor %}
    {%- endif %}
{%- endmacro %}
"""

_GENERATION_PROMPT = """\
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""


def _chatml_with_default_system(content_macro: str, system_prompt: str) -> str:
    return (
        content_macro
        + "{%- if messages[0].role != 'system' %}\n"
        + f"    {{{{- '<|im_start|>system\\n{system_prompt}<|im_end|>\\n' }}}}\n"
        + """\
{%- endif %}
{%- for message in messages %}
    {{- '<|im_start|>' + message.role + '\\n' + render_content(message.content) + '<|im_end|>\\n' }}
{%- endfor %}
"""
        + _GENERATION_PROMPT
    )


QWEN2_5 = _chatml_with_default_system(_TEXT_CONTENT, QWEN2_5_SYSTEM_PROMPT)
QWEN2_5_VL = _chatml_with_default_system(_VISION_CONTENT, QWEN2_5_VL_SYSTEM_PROMPT)

# Qwen3: no default system prompt; assistant turns before the last user message lose their
# <think> block; enable_thinking=false pre-fills an empty think block to switch thinking off.
QWEN3 = (
    _TEXT_CONTENT
    + """\
{%- set ns = namespace(last_user=-1) %}
{%- for message in messages %}
    {%- if message.role == 'user' %}
        {%- set ns.last_user = loop.index0 %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- set content = render_content(message.content) %}
    {%- if message.role == 'assistant' and loop.index0 < ns.last_user and '</think>' in content %}
        {%- set content = content.split('</think>')[-1].lstrip('\\n') %}
    {%- endif %}
    {{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>\\n' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\\n\\n</think>\\n\\n' }}
    {%- endif %}
{%- endif %}
"""
)

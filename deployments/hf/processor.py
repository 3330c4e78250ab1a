"""An image-only Qwen2.5-VL processor that needs neither torchvision nor a video processor.

The stock `Qwen2_5_VLProcessor` cannot be constructed without torchvision (its video processor
imports it), and `AutoProcessor` then quietly returns a bare tokenizer that never expands
`<|image_pad|>`. This subclass keeps the stock image and text handling, drops video, and uses the
PIL image processor, so it behaves the same with or without torchvision installed.
"""

import json
from pathlib import Path

from transformers import AutoTokenizer, Qwen2_5_VLProcessor
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil


class Qwen2_5_VLImageOnlyProcessor(Qwen2_5_VLProcessor):
    """`Qwen2_5_VLProcessor` without the video processor (images and text only)."""

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        # The sub-processors are read from this signature, so the parent's video_processor=None
        # is dropped and never type-checked.
        super().__init__(image_processor, tokenizer, chat_template=chat_template, **kwargs)


def load_vl_processor(
    folder: str | Path, *, min_pixels: int | None = None, max_pixels: int | None = None
) -> Qwen2_5_VLImageOnlyProcessor:
    """Build the processor from a Qwen2.5-VL checkpoint folder (tiny or from the hub).

    min/max pixels bound the resized image, hence the image tokens per image; they are set here,
    once, because per-call overrides are deprecated in transformers 5.
    """
    folder = Path(folder)
    pixels = {"min_pixels": min_pixels, "max_pixels": max_pixels}
    image_processor = Qwen2VLImageProcessorPil.from_pretrained(
        folder, **{key: value for key, value in pixels.items() if value is not None}
    )
    tokenizer = AutoTokenizer.from_pretrained(folder)
    # Hub checkpoints may carry a processor-level template; it wins, as in ProcessorMixin.
    template_file = folder / "chat_template.json"
    chat_template = (
        json.loads(template_file.read_text())["chat_template"]
        if template_file.is_file()
        else tokenizer.chat_template
    )
    return Qwen2_5_VLImageOnlyProcessor(image_processor, tokenizer, chat_template=chat_template)

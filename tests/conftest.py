"""Fixtures shared by every test tier."""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """All tiny Qwen checkpoints, built once per session: architecture -> folder."""
    from deployments.hf.tiny import write_tiny_checkpoints  # imports torch: only when asked for

    return write_tiny_checkpoints(tmp_path_factory.mktemp("tiny-checkpoints"))


def png_data_url(width: int = 112, height: int = 84) -> str:
    """A small solid PNG as a data: URL (112x84 → 12 Qwen2.5-VL image tokens in the tiny model)."""
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture(scope="session")
def image_url() -> str:
    return png_data_url()

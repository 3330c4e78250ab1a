"""Fixtures shared by every test tier."""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """All tiny Qwen checkpoints, built once per session: architecture -> folder."""
    from deployments.hf.tiny import write_tiny_checkpoints  # imports torch: only when asked for

    return write_tiny_checkpoints(tmp_path_factory.mktemp("tiny-checkpoints"))

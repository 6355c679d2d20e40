"""Shared fixtures: a tiny untrained generator that makes unit tests run in seconds."""
from __future__ import annotations

import pytest

from prsg_widgets import Explainer, split_generator
from tiny_model import make_tiny_module


@pytest.fixture
def tiny_generator():
    """An 8×8 RGB generator split after the first ReLU (feature 8×4×4, d = 128)."""
    return split_generator(make_tiny_module(), "2", sample_codes=(4,), name="tiny")


@pytest.fixture
def tiny_explainer(tiny_generator):
    ex = Explainer(tiny_generator, grid=4, solver="fast", iterations=150, progress=False, baseline_samples=64)
    yield ex
    ex.close()

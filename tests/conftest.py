"""Shared fixtures: a tiny untrained generator that makes unit tests run in seconds."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from prsg_widgets import Explainer, split_generator


def make_tiny_module(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(4, 8 * 4 * 4), nn.Unflatten(1, (8, 4, 4)), nn.ReLU(),
        nn.ConvTranspose2d(8, 6, 4, 2, 1), nn.ReLU(),
        nn.Conv2d(6, 3, 3, 1, 1), nn.Tanh(),
    )


@pytest.fixture
def tiny_generator():
    """An 8×8 RGB generator split after the first ReLU (feature 8×4×4, d = 128)."""
    return split_generator(make_tiny_module(), "2", sample_codes=(4,), name="tiny")


@pytest.fixture
def tiny_explainer(tiny_generator):
    ex = Explainer(tiny_generator, grid=4, solver="fast", iterations=150, progress=False, baseline_samples=64)
    yield ex
    ex.close()

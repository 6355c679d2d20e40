"""A tiny untrained generator for unit tests (imported by name: conftest modules share one name)."""
import torch
from torch import nn


def make_tiny_module(seed: int = 0) -> nn.Module:
    """8×8 RGB output from a 4-d code; layer "2" is a ReLU with an 8×4×4 feature (d = 128)."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(4, 8 * 4 * 4), nn.Unflatten(1, (8, 4, 4)), nn.ReLU(),
        nn.ConvTranspose2d(8, 6, 4, 2, 1), nn.ReLU(),
        nn.Conv2d(6, 3, 3, 1, 1), nn.Tanh(),
    )


def load_tiny(layer: str | None = None, device=None, seed: int = 0):
    """A ``register_model`` loader of the tiny module (default layer "2"): what a user's own
    generator package provides.  A module-level function, so Dask pickles it by reference.
    """
    from prsg_widgets.models import split_generator

    module = make_tiny_module(seed).to(device or "cpu")
    return split_generator(module, "2" if layer is None else layer, sample_codes=(4,), name="tiny")


def top_norm(image) -> dict:
    """A user's sweep metric (``register_metric``): the mean norm of the image's ranked components."""
    norms = [float(norm) for _, norm in image.ranking]
    return {"mean": sum(norms) / len(norms), "count": len(norms)}

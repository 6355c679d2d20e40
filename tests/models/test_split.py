import pytest
import torch
from tiny_model import make_tiny_module
from torch import nn

from prsg_widgets import split_generator
from prsg_widgets.models import LayerNotFoundError


def test_head_then_tail_equals_full_forward(tiny_generator):
    code = torch.randn(5, 4)
    with torch.no_grad():
        torch.testing.assert_close(tiny_generator.tail(tiny_generator.head(code)), tiny_generator.generate(code))
    assert tiny_generator.feature_shape == (8, 4, 4)
    assert tiny_generator.d == 128


def test_layer_given_as_module_object():
    module = make_tiny_module()
    g = split_generator(module, module[4], sample_codes=(4,))
    assert g.layer == "4"


def test_wrong_layer_lists_valid_names():
    with pytest.raises(LayerNotFoundError) as err:
        split_generator(make_tiny_module(), "conv9", sample_codes=(4,))
    assert "valid layer names: 0, 1, 2, 3" in str(err.value)


class SkipGenerator(nn.Module):
    """A skip connection around the split layer: the tail cannot be cut out of a Sequential."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.inp = nn.Linear(4, 48)
        self.mid = nn.Sequential(nn.Linear(48, 48), nn.ReLU())
        self.out = nn.Linear(48, 3 * 4 * 4)

    def forward(self, z):
        h = self.inp(z)
        return torch.tanh(self.out(self.mid(h) + h)).view(-1, 3, 4, 4)


def test_hook_fallback_tail_with_skip_connection():
    g = split_generator(SkipGenerator(), "mid.1", sample_codes=(4,))
    assert g._fast_tail is None
    code = torch.randn(2, 4)
    with torch.no_grad():
        torch.testing.assert_close(g.tail(g.head(code), code), g.generate(code))


def test_weights_are_frozen_and_baseline_cached(tiny_generator):
    assert not any(p.requires_grad for p in tiny_generator.module.parameters())
    b1 = tiny_generator.baseline(32, seed=1)
    assert b1.shape == (128,)
    assert tiny_generator.baseline(32, seed=1) is b1
    codes = tiny_generator.sample_codes(32, torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(b1, tiny_generator.head(codes).reshape(32, -1).mean(0))

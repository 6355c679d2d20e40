"""``metrics.sorted_magnitudes``: the per-component / partial form of the Fig. 3 sparsity curve."""
from __future__ import annotations

import numpy as np
import torch

from prsg_widgets import metrics


def test_sorted_magnitudes_one_tensor_several_and_empty():
    v = torch.tensor([[0.5, -2.0], [0.0, 1.25]])
    got = metrics.sorted_magnitudes(v)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, [2.0, 1.25, 0.5, 0.0])

    # several tensors (the components solved so far): concatenated, then sorted
    parts = [torch.tensor([-3.0, 0.25]), torch.tensor([1.0]), np.array([-0.5, 4.0])]
    np.testing.assert_array_equal(metrics.sorted_magnitudes(parts), [4.0, 3.0, 1.0, 0.5, 0.25])

    empty = metrics.sorted_magnitudes([])
    assert empty.shape == (0,) and empty.dtype == np.float64
    # a tensor that needs grad is read without touching the graph
    w = torch.tensor([1.0, -5.0], requires_grad=True)
    np.testing.assert_array_equal(metrics.sorted_magnitudes(w), [5.0, 1.0])


def test_sparsity_curve_is_sorted_magnitudes_of_all_components():
    class FakeExplanation:  # only what sparsity_curve reads
        def __init__(self, comps):
            self._comps = comps

        def component_array(self):
            return self._comps

    torch.manual_seed(0)
    comps = torch.randn(8, 5)
    comps[0] = 0.0  # I(∅) = 0 is left out
    curve = metrics.sparsity_curve(FakeExplanation(comps))
    want = np.sort(np.abs(comps[1:].numpy().astype(np.float64)).ravel())[::-1]
    np.testing.assert_array_equal(curve, want)
    assert curve.size == 7 * 5
    # one component's curve, as the ComponentBrowser detail panel uses it
    one = metrics.sorted_magnitudes(comps[3])
    np.testing.assert_array_equal(one, np.sort(np.abs(comps[3].numpy().astype(np.float64)))[::-1])

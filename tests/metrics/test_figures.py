"""Every figure function returns a Figure built from metric results (Agg backend, no display)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from test_metrics import _local_explainer, _local_explanation  # noqa: E402
from torch import nn  # noqa: E402

from prsg_widgets import Explainer, Explanation, split_generator  # noqa: E402
from prsg_widgets import figures as F  # noqa: E402
from prsg_widgets import metrics as M  # noqa: E402


@pytest.fixture(scope="module")
def local():
    ex = _local_explainer()
    return ex, _local_explanation(ex)


def _check(fig):
    assert isinstance(fig, Figure)
    fig.canvas.draw()  # renders without error under Agg
    return fig


def test_regional_patterns_figure(local):
    ex, e = local
    subsets = [c.subset for c in e.components(top=3)]
    fig = _check(F.regional_patterns_figure(e, subsets, e.regional_patterns(subsets), ncols=2))
    assert len([a for a in fig.axes if a.images]) == 4


def test_loaded_explanation_drawn_in_its_generators_range(tmp_path):
    """A generator whose images lie in (0, 1): an explanation read from a file (no explainer)
    is drawn with that range, from its metadata, not with the default (-1, 1).
    """
    gen = split_generator(nn.Sequential(nn.Identity(), nn.Sigmoid()), "0", (1, 8, 8), value_range=(0.0, 1.0),
                          name="local-sigmoid")
    ex = Explainer(gen, grid=2, solver="tiny", device="cpu", progress=False, baseline_samples=64)
    e = _local_explanation(ex, patches=(0, 1))
    loaded = Explanation.load(e.save(tmp_path / "e.npz"))
    assert loaded.explainer is None
    subsets = [c.subset for c in loaded.components(top=2)]
    patterns = e.regional_patterns(subsets)  # rendering needs the generator: from the bound twin
    fig = _check(F.regional_patterns_figure(loaded, subsets, patterns))
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), F.image_to_rgb(loaded.image, (0.0, 1.0)))


def test_sparsity_figure(local):
    ex, e = local
    fig = _check(F.sparsity_figure({"sample": M.sparsity_curve(e), "flat": np.ones(50)}, relative=True))
    assert fig.axes[0].get_yscale() == "log"
    assert len(fig.axes[0].lines) == 2


def test_matching_error_figure(local):
    _, e = local
    _check(F.matching_error_figure(M.matching_error(e, k=2)))


def test_boundary_breach_figure(local):
    _, e = local
    rs = [M.boundary_breach(e, p) for p in e.patches[:2]]
    _check(F.boundary_breach_figure(rs))
    fig = _check(F.boundary_breach_figure(rs, explanation=e, show_images=3))
    assert sum(1 for a in fig.axes if a.images) == 6


def test_real_action_field_figure(local):
    _, e = local
    comps = e.components(top=4)
    subsets = [c.subset for c in comps]
    _check(F.real_action_field_figure(M.real_action_field_ratios(e, subsets), [c.order for c in comps],
                                      M.action_field_area(e, subsets)))


def test_consistency_figure(local):
    _, e = local
    rs = [M.inconsistency(e, 1, max_contexts=3), M.inconsistency(e, 2)]
    _check(F.consistency_figure(e, rs, max_contexts=4))


def test_transferability_figure(local):
    _, e = local
    r = M.transferability(e, e, 3, 5)
    _check(F.transferability_figure([r, r], ["a→a", "a→a again"]))


def test_reconstruction_figures(local):
    _, e = local
    _check(F.controllable_reconstruction_figure(e, M.controllable_reconstruction(e, e.patches[:2])))
    _check(F.sequential_reconstruction_figure(e, M.sequential_reconstruction(e, seed=1)))


def test_properties_and_convergence_figures(local):
    _, e = local
    dec = M.decomposition_from_explanation(e)
    s = M.score_properties(dec, other=dec, top=3, max_contexts=2)
    _check(F.properties_figure([s, s]))
    summ = M.solver_summary(e)
    _check(F.convergence_figure({"tiny": {**summ, "seconds": 1.0}, "fast": {**summ, "seconds": 2.0}}))


def test_image_helpers():
    import torch

    rgb = F.image_to_rgb(torch.zeros(1, 4, 4))
    assert rgb.shape == (4, 4, 3) and np.allclose(rgb, 0.5)
    pat = F.pattern_to_rgb(torch.tensor([[[1.0, -1.0]]]))
    assert np.allclose(pat[0, :, 0], [1.0, 0.0])


def test_markdown_table():
    t = F.markdown_table({"ours": {"rho": 0.51234, "k": 3}, "pca": {"rho": 0.1, "k": 3}}, ["rho", "k"], digits=2)
    lines = t.splitlines()
    assert lines[0] == "| | rho | k |" and lines[2] == "| ours | 0.51 | 3 |" and len(lines) == 4

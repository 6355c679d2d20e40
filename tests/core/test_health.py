"""The health numbers against their definitions, computed the slow way."""
import numpy as np
import torch

from prsg_widgets.core import harsanyi
from prsg_widgets.core.health import default_top_k, explanation_health, mass_share, matching_errors


def test_mass_share_counts_the_fewest_elements_holding_the_mass():
    v = torch.tensor([0.0, 5.0, -3.0, 1.0, 1.0])  # total 10: 5 + 3 = 8 < 9, + 1 = 9 ≥ 9 → 3 of 5
    assert mass_share(v, 0.9) == 3 / 5
    assert mass_share(torch.zeros(4)) == 0.0
    assert mass_share(torch.ones(10), 0.5) == 0.5


def test_matching_errors_and_health_match_the_naive_definitions():
    gen = torch.Generator().manual_seed(0)
    n, d = 4, 7
    b = torch.randn(d, generator=gen, dtype=torch.float64)
    f = b + torch.randn(d, generator=gen, dtype=torch.float64)
    features = b + torch.rand(1 << n, d, generator=gen, dtype=torch.float64) * (f - b)
    features[0] = b
    comps = harsanyi.or_interactions(features - b)
    k = 5
    kept, err = matching_errors(features - b, comps, k)
    norms = comps.norm(dim=1).tolist()
    assert kept == sorted(range(1, 1 << n), key=lambda s: -norms[s])[:k]
    for t in range(1 << n):
        u_hat = sum((comps[s] for s in kept if s & t), torch.zeros(d, dtype=torch.float64))
        assert torch.isclose(err[t], ((features[t] - b) - u_hat).pow(2).sum())
    pm = np.full((1 << n, n), np.nan)
    for t in range(1, 1 << n):
        for i in range(n):
            if (t >> i) & 1:
                pm[t, i] = 1e-4 * (i + 1)
    pm[5, 0] = 5e-3  # one patch of one subset above ε
    h = explanation_health(features, b, f, pm, 1e-3, comps, k=k)
    u = features - b
    assert h.feasible_share == 14 / 15 and h.infeasible == 1 and h.worst_patch_mse == 5e-3
    assert np.isclose(h.cancellation, float(comps[1:].abs().sum() / u[-1].abs().sum()))
    assert np.isclose(h.matching_error, float(err.sum() / u.pow(2).sum()))
    assert np.isclose(h.matching_error_vs_feature, float(err.sum() / features.pow(2).sum()))
    assert np.isclose(h.l1_ratio, float(u[-1].abs().sum() / (f - b).abs().sum()))
    assert any("above the error tolerance" in w for w in h.warnings())
    assert default_top_k(9) == 30 and default_top_k(6) == 16 and default_top_k(4) == 4

"""Metrics on cases whose answers are known.

Most tests use a *pixel-local* generator: the feature is a 1×8×8 map and the tail is an
element-wise ``tanh``, so every pixel depends on its own feature value only.  For it the minimal
feature of ``T`` is known in closed form (``f_T = b + 1_T ⊙ (f − b)``), which we fill in directly
instead of solving; then the only non-zero components are the singletons ``I({i})`` = the
feature change on patch ``i``, every pattern stays in its action field (ρ = 1), nothing breaches
a boundary, and patterns are perfectly consistent.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from prsg_widgets import Explainer, Explanation, split_generator
from prsg_widgets import metrics as M


def _local_explainer(grid: int = 2) -> Explainer:
    module = nn.Sequential(nn.Identity(), nn.Tanh())
    gen = split_generator(module, "0", (1, 8, 8), name="local-tanh")
    return Explainer(gen, grid=grid, solver="tiny", device="cpu", progress=False, baseline_samples=64)


def _fill(expl: Explanation, features: torch.Tensor) -> Explanation:
    return expl.with_minimal_features(features)


def _local_explanation(ex: Explainer, seed: int = 0, patches=(0, 1, 2, 3)) -> Explanation:
    """Explanation of the local generator with its exact minimal features filled in."""
    s = ex.sample(seed)
    e = ex.explain(s, patches=list(patches))
    masks = ex.grid.subset_masks(e.patches, list(range(e.num_subsets))).reshape(e.num_subsets, -1).float()
    b, f = e.baseline, e.feature
    return _fill(e, b + masks * (f - b))


@pytest.fixture(scope="module")
def local():
    ex = _local_explainer()
    return ex, _local_explanation(ex)


# ------------------------------------------------------------------------------- sparsity
def test_sparsity_curve_known_values(local):
    ex, e = local
    curve = M.sparsity_curve(e)
    assert curve.shape == ((e.num_subsets - 1) * 64,)
    assert np.all(np.diff(curve) <= 0)
    # only the singletons are non-zero, and together they hold |f − b| once per pixel
    expected = np.sort((e.feature - e.baseline).abs().numpy())[::-1]
    np.testing.assert_allclose(curve[:64], expected, atol=1e-6)
    assert np.abs(curve[64:]).max() < 1e-6
    stats = M.sparsity_stats(curve)
    assert stats["salient_fraction"] <= 64 / curve.size + 1e-9


def test_sparsity_stats_hand_curve():
    stats = M.sparsity_stats(np.array([10.0, 0.05, 0.0, 0.0]))
    assert stats["salient_fraction"] == 0.25
    assert stats["mass_fraction"] == 0.25
    assert stats["max"] == 10.0


def test_dense_control_shape_statistics_and_patches(local):
    ex, e = local
    d = M.dense_control(ex, e, seed=3)
    assert isinstance(d, Explanation)
    assert d.patches == e.patches
    assert d.progress[0] == 1  # only f_∅ = b: nothing solved
    f, g = e.feature, d.feature
    assert g.shape == f.shape
    assert not torch.equal(f, g)
    # per-channel (one channel here) mean and std are those of the sample's feature
    assert abs(float(g.mean() - f.mean())) < 0.35 * float(f.std()) + 1e-6
    assert abs(float(g.std() / f.std()) - 1) < 0.35
    # seeded
    assert torch.equal(M.dense_control(ex, e, seed=3).feature, g)
    # the image is g(random feature)
    torch.testing.assert_close(d.image, torch.tanh(g).reshape(1, 8, 8))


def test_dense_control_nonnegative_feature_stays_nonnegative():
    module = nn.Sequential(nn.Identity(), nn.ReLU(), nn.Tanh())
    gen = split_generator(module, "1", (2, 4, 4), name="relu-local")
    ex = Explainer(gen, grid=2, solver="tiny", device="cpu", progress=False, baseline_samples=16)
    e = ex.explain(ex.sample(1), patches=[0, 3])
    d = M.dense_control(ex, e, seed=0)
    assert float(d.feature.min()) >= 0.0


# ------------------------------------------------------------------------------- ρ
def test_rho_is_one_for_local_generator(local):
    ex, e = local
    singles = [1 << i for i in range(e.n)]
    rho = M.real_action_field_ratios(e, singles)
    np.testing.assert_allclose(rho, 1.0, atol=1e-6)
    assert M.real_action_field_ratio(e, [e.patches[0]]) == pytest.approx(1.0, abs=1e-6)
    # a zero component has no pattern: ρ undefined
    assert np.isnan(M.real_action_field_ratio(e, 0b11))
    np.testing.assert_allclose(M.action_field_area(e, singles), 0.25)


def test_rho_of_a_spilling_component(local):
    """A hand-built component that changes its own patch and, with a quarter of the L1 mass, a
    pixel elsewhere: ρ = 3/4 up to the tanh curvature (kept small).
    """
    ex, e0 = local
    patches = e0.patches
    b = ex.baseline.detach().cpu().clone()
    f = b.clone()
    own = ex.grid.mask([patches[0]]).reshape(-1)
    other = ex.grid.mask([patches[3]]).reshape(-1)
    k_own = int(own.sum())
    step = 1e-3
    f[own] += step  # total |Δ| inside: k_own * step
    j = int(torch.nonzero(other)[0])
    f[j] += step * k_own / 3  # outside: a third of the inside mass -> ρ = 3/4
    # u(T) = f − b for T ∋ patch 0 else 0  →  I({p0}) = f − b, every other component 0
    e = ex.explain(ex.sample_from_feature(f), patches=patches)
    feats = torch.stack([f if (t & 1) else b for t in range(e.num_subsets)])
    e = _fill(e, feats)
    assert M.real_action_field_ratio(e, 1) == pytest.approx(0.75, abs=5e-3)


# ------------------------------------------------------------------------------- transferability
def test_transferability_self_and_hand_built(local):
    ex, e = local
    r = M.transferability(e, e, k_a=3, k_b=3)
    assert r.ratio == 1.0 and len(r.matched) == 3
    # a second explanation whose only non-zero components sit on other action fields
    e2 = ex.explain(ex.sample(5), patches=e.patches)
    b = e2.baseline
    v = torch.zeros_like(b)
    v[:5] = 1.0
    comps = torch.zeros(e2.num_subsets, b.numel())
    comps[0b0011] = 3 * v
    comps[0b0101] = 2 * v
    comps[0b0001] = 1 * v  # the only field shared with e's singletons
    from prsg_widgets.core import harsanyi
    e2 = _fill(e2, b + harsanyi.reconstruct(comps))
    assert {c.subset for c in e2.components(top=3)} == {0b0011, 0b0101, 0b0001}
    r = M.transferability(e, e2, k_a=4, k_b=3)
    assert r.k_a == 4 and r.k_b == 3
    assert r.matched == [frozenset([e.patches[0]])]
    assert r.ratio == pytest.approx(1 / 4)
    assert r.chance == pytest.approx(3 / 15)


def test_transferability_needs_same_positions(local):
    ex, e = local
    other = _local_explanation(ex, patches=(0, 1, 2))
    with pytest.raises(ValueError, match="same patch positions"):
        M.transferability(e, other)


def test_transferability_needs_same_grid_when_loaded(tmp_path):
    """Patch 0 of a 2×2 grid is not patch 0 of a 4×4 grid; explanations read from files (bound
    to no explainer) are compared by the grid in their metadata.
    """
    coarse = _local_explanation(_local_explainer(grid=2), patches=(0, 1))
    fine = _local_explanation(_local_explainer(grid=4), patches=(0, 1))
    a = Explanation.load(coarse.save(tmp_path / "coarse.npz"))
    b = Explanation.load(fine.save(tmp_path / "fine.npz"))
    assert a.explainer is None and b.explainer is None
    with pytest.raises(ValueError, match="different patch grids"):
        M.transferability(a, b)


# ------------------------------------------------------------------------------- App. F
def test_controllable_reconstruction_local(local):
    ex, e = local
    target = [e.patches[1], e.patches[2]]
    r = M.controllable_reconstruction(e, target)
    assert set(r.subsets) == {s for s in range(1, 16) if s & 0b0110}
    assert set(r.subsets[:2]) == {0b0010, 0b0100}
    assert r.rmse.shape == (len(r.subsets) + 1,)
    assert r.images.shape == (len(r.subsets) + 1, 1, 8, 8)
    # step 0 is g(b); the last step reconstructs the target exactly
    torch.testing.assert_close(r.images[0], ex.baseline_image.cpu(), atol=1e-5, rtol=0)
    assert r.rmse[-1] < 1e-5
    # after the two singletons (the only non-zero components) the target is done
    assert r.rmse[2] < 1e-5 and r.rmse[0] > 0.01
    # patches outside the target are untouched by a local generator: other RMSE is constant
    np.testing.assert_allclose(r.rmse_other, r.rmse_other[0], atol=1e-6)
    r2 = M.controllable_reconstruction(e, target, k=1)
    assert len(r2.subsets) == 1 and r2.rmse.shape == (2,)
    with pytest.raises(ValueError):
        M.controllable_reconstruction(e, [])


def test_rmse_matches_appendix_f_formula(local):
    ex, e = local
    r = M.controllable_reconstruction(e, [e.patches[0]], k=0)
    x0, x = r.images[0], e.image
    mask = ex.grid.mask([e.patches[0]])
    per_patch_pixels = int(mask.sum())
    expected = math.sqrt(float(((x0 - x) ** 2 * mask).sum()) / (1 * per_patch_pixels * x.shape[0]))
    assert r.rmse[0] == pytest.approx(expected, rel=1e-6)


def test_sequential_reconstruction_local(local):
    ex, e = local
    order = [e.patches[2], e.patches[0], e.patches[3], e.patches[1]]
    r = M.sequential_reconstruction(e, order=order)
    assert r.rmse_patch.shape == (5, 4)
    assert np.isnan(r.rmse_new[0])
    np.testing.assert_allclose(r.rmse_new[1:], 0.0, atol=1e-5)
    np.testing.assert_allclose(r.rmse_target[1:], 0.0, atol=1e-5)
    # a patch not yet added is still at its baseline error
    i_last = e.patches.index(order[-1])
    np.testing.assert_allclose(r.rmse_patch[:4, i_last], r.rmse_patch[0, i_last], atol=1e-6)
    with pytest.raises(ValueError):
        M.sequential_reconstruction(e, order=[99])


# ------------------------------------------------------------------------------- Sec. 3.1
def test_matching_error_exact_and_truncated(local):
    ex, e = local
    full = M.matching_error(e, k=4)  # the 4 singletons are every non-zero component
    assert full.k == 4 and set(full.kept) == {1, 2, 4, 8}
    np.testing.assert_allclose(full.error, 0.0, atol=1e-10)
    assert np.all(np.diff(full.u_norm[full.order]) >= 0)
    small = M.matching_error(e, k=1)
    (kept,) = small.kept
    u = (e.minimal_features() - e.baseline).double()
    for t in range(16):
        # û(T) keeps the one singleton if T meets it; the error is the rest of u(T)
        expected = u[t] - (u[kept] if t & kept else 0.0)
        assert small.error[t] == pytest.approx(float(expected.pow(2).sum() / 64), rel=1e-5, abs=1e-9)
    assert np.isnan(small.relative[0])


# ------------------------------------------------------------------------------- Sec. 3.2.2
def test_boundary_breach_local_is_perfectly_bounded(local):
    ex, e = local
    for p in e.patches:
        r = M.boundary_breach(e, p)
        assert p not in [q for s in r.steps for q in e.subset_patches(s)]
        assert len(r.steps) == 7  # 2^(n-1) − 1 subsets avoid p
        np.testing.assert_allclose(r.rmse_patch, 0.0, atol=1e-7)
        assert r.rmse_others[0] == 0 and r.rmse_others[-1] > 0.01
        assert np.isnan(r.rmse_outside).all()  # grid 2: N covers the image, nothing outside
        assert r.breach_ratio == pytest.approx(0.0, abs=1e-6)
        assert r.images.shape == (8, 1, 8, 8)
    assert len(M.boundary_breach(e, e.patches[0], k=2).steps) == 2


# ------------------------------------------------------------------------------- Sec. 3.3
def test_inconsistency_local_is_zero(local):
    ex, e = local
    r = M.inconsistency(e, 1)
    assert r.contexts == [t for t in range(1, 16) if not t & 1]
    np.testing.assert_allclose(r.values, 0.0, atol=1e-5)
    assert r.patterns.shape == (1 + 7, 1, 8, 8)
    assert len(M.inconsistency(e, 1, max_contexts=3, seed=1).contexts) == 3
    with pytest.raises(ValueError):
        M.inconsistency(e, e.full)


class _Square(nn.Module):
    def forward(self, x):
        return x * x


def _filled_any(module: nn.Module, layer: str, seed: int = 0):
    """Explainer + explanation of an arbitrary tail with u(T) = 1_T ⊙ (f − b) filled in."""
    gen = split_generator(module, layer, (1, 8, 8), name=f"t-{type(module[-1]).__name__}")
    ex = Explainer(gen, grid=2, solver="tiny", device="cpu", progress=False, baseline_samples=32)
    e = ex.explain(ex.sample(seed), patches=[0, 1, 2, 3])
    masks = ex.grid.subset_masks(e.patches, list(range(16))).reshape(16, -1).float()
    return ex, _fill(e, e.baseline + masks * (e.feature - e.baseline))


def test_inconsistency_linear_nonlocal_zero_quadratic_positive():
    conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1 / 9)  # a blur: non-local, but linear -> patterns add exactly
    _, e_lin = _filled_any(nn.Sequential(nn.Identity(), conv), "0")
    np.testing.assert_allclose(M.inconsistency(e_lin, 1).values, 0.0, atol=1e-5)
    # ... and the blur lets patterns spill out of their fields: ρ < 1
    assert M.real_action_field_ratio(e_lin, 1) < 0.99
    # a quadratic tail on a mixed feature: the pattern of S depends on the context
    mix = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    with torch.no_grad():
        mix.weight.fill_(0.5)
    _, e_sq = _filled_any(nn.Sequential(nn.Identity(), mix, _Square()), "0")
    assert M.inconsistency(e_sq, 1).mean > 0.01


# ------------------------------------------------------------------------------- Table 1
def test_decomposition_of_explanation_scores_perfectly_on_local(local):
    ex, e = local
    dec = M.decomposition_from_explanation(e)
    assert len(dec) == 15 and dec.fields[0] and np.all(np.diff(dec.norms) <= 1e-12)
    assert M.completeness_residual(dec) == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(M.decomposition_rho(M.Decomposition("h", dec.vectors[:4], dec.fields[:4], e)),
                               1.0, atol=1e-6)
    scores = M.score_properties(dec, other=dec, top=4, max_contexts=3)
    assert scores.rho_mean == pytest.approx(1.0, abs=1e-6)
    assert scores.rho_chance == pytest.approx(0.25)
    assert scores.inconsistency_mean == pytest.approx(0.0, abs=1e-5)
    assert scores.breach_ratio_mean == pytest.approx(0.0, abs=1e-6)
    assert scores.transfer == 1.0
    assert set(scores.as_dict()) >= {"name", "rho_mean", "transfer"}


def test_pca_directions_recover_a_known_subspace():
    lin = nn.Linear(2, 64, bias=False)
    torch.manual_seed(0)
    with torch.no_grad():
        lin.weight.copy_(torch.randn(64, 2))
    module = nn.Sequential(lin, nn.Unflatten(1, (1, 8, 8)), nn.Tanh())
    gen = split_generator(module, "0", (2,), name="rank2")
    ex = Explainer(gen, grid=2, solver="tiny", device="cpu", progress=False, baseline_samples=200)
    dirs = M.pca_directions(ex, k=2, num_samples=200)
    assert dirs.shape == (2, 64)
    np.testing.assert_allclose(dirs.norm(dim=1).numpy(), 1.0, atol=1e-4)
    q, _ = torch.linalg.qr(lin.weight.detach())
    # the directions lie in the column space of the weights
    resid = dirs.double() - (dirs.double() @ q.double()) @ q.double().T
    assert float(resid.norm()) < 1e-3
    e = ex.explain(ex.sample(3), patches=[0, 1, 2, 3])
    e = e.with_minimal_features({e.full: e.feature})  # f_N = f: the only minimal feature PCA needs
    pca = M.pca_decomposition(e, dirs, field_sizes=2)
    assert len(pca) == 2 and all(len(fl) == 2 for fl in pca.fields)
    assert abs(float(pca.vectors[0].norm())) >= abs(float(pca.vectors[1].norm()))
    # f − b lies in the span up to the baseline's estimation error
    assert M.completeness_residual(pca) < 0.2
    auto = M.pca_decomposition(e, dirs)
    assert all(1 <= len(fl) <= 4 for fl in auto.fields)


# ------------------------------------------------------------------------------- Table 2, truth
def test_solver_summary_known_values(local):
    ex, e = local
    s = M.solver_summary(e)
    assert s["mse"] == 0 and s["feasible"] == 1
    # every patch is in 8 of the 15 non-empty subsets
    assert s["sparsity"] == pytest.approx(8 / 15, abs=1e-6)


def test_object_share_hand_masks(local):
    ex, e = local
    masks = torch.zeros(1, 2, 8, 8, dtype=torch.bool)
    masks[0, 0][ex.grid.mask([e.patches[0]])] = True
    e.sample.object_masks = masks
    try:
        r = M.object_share(e, top=4)
        assert r["object_patches"] == [e.patches[0]]
        assert r["share"] == pytest.approx(0.25) and r["chance"] == pytest.approx(0.25)
        masks[0, 1] = True
        assert M.object_share(e, top=2)["share"] == 1.0
    finally:
        e.sample.object_masks = None
    with pytest.raises(ValueError, match="toy-scenes"):
        M.object_share(e)


# ------------------------------------------------------------------------------- toy-scenes truth
@pytest.fixture(scope="module")
def toy():
    ex = Explainer("toy-scenes", grid=4, solver="tiny", cheap=True, device="cpu", progress=False)
    # random patches mix object and background patches, so the share is informative
    e = ex.explain(0, patches="random", n=4, seed=0).solve_all()
    return ex, e


def test_toy_top_components_fall_on_true_objects(toy):
    ex, e = toy
    r = M.object_share(e, top=3)
    print(f"toy-scenes: object share of top-3 fields {r['share']:.2f}, chance {r['chance']:.2f}, "
          f"N = {e.patches}, object patches {r['object_patches']}, fields {r['fields']}")
    assert 0 < r["chance"] < 1, "the random patches should mix objects and background"
    assert r["share"] >= r["chance"]


def test_toy_end_to_end_metrics(toy):
    ex, e = toy
    top = e.components(top=3)
    rho = M.real_action_field_ratios(e, [c.subset for c in top])
    area = M.action_field_area(e, [c.subset for c in top])
    assert np.all(rho > area)  # patterns concentrate in their action fields beyond chance
    full = M.matching_error(e, k=e.num_subsets)
    assert full.error.max() < 1e-8  # Eq. 7 with every component is an identity
    r = M.controllable_reconstruction(e, e.patches[:1])
    assert r.rmse[-1] <= r.tolerance * 1.05 and r.rmse[-1] < r.rmse[0]
    d = M.dense_control(ex, e, seed=0).solve_all()
    assert M.sparsity_curve(d).shape == M.sparsity_curve(e).shape

import math

import pytest
import torch

from prsg_widgets.core import harsanyi
from prsg_widgets.core.grid import PatchGrid
from prsg_widgets.core.health import explanation_health
from prsg_widgets.core.solver import (
    PRESETS,
    SolveInterrupted,
    SolverConfig,
    get_solver_config,
    mask_of,
    solve_minimal_features,
)

PATCHES = [0, 5, 10, 15]  # the four diagonal 2×2 patches of a 4×4 grid over 8×8


def _problem(tiny_generator):
    code = tiny_generator.sample_codes(1, torch.Generator().manual_seed(3))
    with torch.no_grad():
        f = tiny_generator.head(code).reshape(-1)
        x = tiny_generator.tail(f.unsqueeze(0))[0]
    b = tiny_generator.baseline(64)
    return f, b, x, PatchGrid(8, 8, 4).patch_masks(PATCHES)


def _patch_mse(gen, features, x, pm):
    """Each patch's mse recomputed from the returned f_T, independently of the solver."""
    with torch.no_grad():
        img = gen.tail(features)
    sq = ((img - x) ** 2).sum(1)  # (k, H, W)
    return torch.stack([sq[:, m].sum(1) / (m.sum() * 3) for m in pm], 1)


def _solve(gen, cfg, subsets=range(16), **kw):
    f, b, x, pm = _problem(gen)
    kw.setdefault("progress", False)
    return solve_minimal_features(gen.tail, f, b, x, pm, list(subsets), cfg, **kw)


def test_every_patch_of_every_subset_within_epsilon(tiny_generator):
    f, b, x, pm = _problem(tiny_generator)
    cfg = get_solver_config("fast")
    res = _solve(tiny_generator, cfg)
    assert torch.equal(res.features[0], b)  # f_∅ = b without optimising
    assert res.iterations[0] == 0
    assert res.feasible.all()
    per = _patch_mse(tiny_generator, res.features, x, pm)
    for j in range(1, 16):
        inside = [i for i in range(4) if (j >> i) & 1]
        assert (per[j, inside] <= cfg.epsilon * (1 + 1e-4)).all(), (j, per[j])
        # the reported per-patch errors are those of the returned feature
        torch.testing.assert_close(res.patch_mse[j, inside], per[j, inside], rtol=1e-4, atol=1e-7)
        assert torch.isnan(res.patch_mse[j, [i for i in range(4) if i not in inside]]).all()
    torch.testing.assert_close(res.max_patch_mse[1:], res.patch_mse[1:].nan_to_num(-1).max(1).values)
    # minimal features are sparser than f − b
    assert (res.sparsity[1:] < (f - b).abs().mean()).all()


def test_mean_constraint_is_reachable_and_reports_per_patch_feasibility(tiny_generator):
    f, b, x, pm = _problem(tiny_generator)
    old = get_solver_config("fast", init=1.0, constraint="mean")
    res = _solve(tiny_generator, old)
    # the mean over T's pixels is within ε, yet `feasible` asks every patch to be
    assert (res.mse[1:] <= old.epsilon * (1 + 1e-4)).all()
    assert torch.equal(res.feasible, res.max_patch_mse <= old.epsilon)
    assert not res.feasible[1:].all()


def test_never_feasible_subset_returns_the_iterate_it_reports(tiny_generator):
    f, b, x, pm = _problem(tiny_generator)
    cfg = get_solver_config("fast", iterations=3, lr=0.05, epsilon=1e-9, restart=False)  # far too short to get feasible
    res = _solve(tiny_generator, cfg)
    assert not res.feasible[1:].any()
    assert (res.iterations[1:] == 3).all()
    per = _patch_mse(tiny_generator, res.features, x, pm)
    for j in range(1, 16):
        inside = [i for i in range(4) if (j >> i) & 1]
        torch.testing.assert_close(res.patch_mse[j, inside], per[j, inside], rtol=1e-4, atol=1e-7)


def test_batched_equals_one_at_a_time_and_is_deterministic(tiny_generator):
    cfg = get_solver_config("fast", iterations=80)
    a = _solve(tiny_generator, cfg, batch_size=4)
    c = _solve(tiny_generator, cfg, batch_size=1)
    a2 = _solve(tiny_generator, cfg, batch_size=4)
    torch.testing.assert_close(a.features, c.features, rtol=1e-4, atol=1e-5)
    assert torch.equal(a.features, a2.features)
    assert torch.equal(a.iterations, c.iterations)


def test_nested_respects_union_bound_and_needs_fewer_iterations(tiny_generator):
    f, b, x, pm = _problem(tiny_generator)
    indep = _solve(tiny_generator, get_solver_config("fast"))
    nested = _solve(tiny_generator, get_solver_config("interactive"), batch_size=5)
    assert nested.feasible.all()
    m = torch.stack([mask_of(ft, b, f - b) for ft in nested.features])
    for t in range(1, 16):
        for i in range(4):
            if (t >> i) & 1:
                assert (m[t] >= m[t & ~(1 << i)] - 1e-6).all()
    assert nested.iterations.sum() < indep.iterations.sum()


def test_nested_needs_the_subsets_below(tiny_generator):
    with pytest.raises(ValueError, match="maximal proper subsets"):
        _solve(tiny_generator, get_solver_config("interactive"), subsets=[0, 3])
    # with the parents known, a single subset can be solved alone
    f, b, x, pm = _problem(tiny_generator)
    first = _solve(tiny_generator, get_solver_config("interactive"), subsets=[0, 1, 2])
    known = {int(s): first.features[j] for j, s in enumerate(first.subsets)}
    res = solve_minimal_features(tiny_generator.tail, f, b, x, pm, [3], get_solver_config("interactive"),
                                 known=known, progress=False)
    assert res.feasible.all()


def _health(gen, cfg):
    f, b, x, pm = _problem(gen)
    res = _solve(gen, cfg)
    comps = harsanyi.or_interactions(res.features.double() - b.double())
    return explanation_health(res.features, b, f, res.patch_mse.numpy(), cfg.epsilon, comps, k=8)


def test_faithful_solver_does_not_cancel_and_longer_schedule_does_not_hurt(tiny_generator):
    short = _health(tiny_generator, get_solver_config("fast", iterations=150))
    long = _health(tiny_generator, get_solver_config("fast", iterations=600))
    for h in (short, long):
        assert h.feasible_share == 1.0
        assert h.cancellation < 2.0, h.summary()
    assert long.matching_error <= short.matching_error * 1.1 + 1e-3, (short.summary(), long.summary())


def test_nan_feature_and_image_are_rejected(tiny_generator):
    f, b, x, pm = _problem(tiny_generator)
    bad = f.clone()
    bad[3] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        solve_minimal_features(tiny_generator.tail, bad, b, x, pm, [0, 1], progress=False)
    with pytest.raises(ValueError, match="NaN"):
        solve_minimal_features(tiny_generator.tail, f, b, x * float("nan"), pm, [0, 1], progress=False)
    with pytest.raises(ValueError, match="bitmasks"):
        solve_minimal_features(tiny_generator.tail, f, b, x, pm, [16], progress=False)


def test_interrupt_keeps_finished_results(tiny_generator):
    got = []
    calls = {"n": 0}

    def stop():
        calls["n"] += 1
        return calls["n"] > 30

    with pytest.raises(SolveInterrupted):
        _solve(tiny_generator, get_solver_config("fast", iterations=1000, early_stop=False),
               batch_size=1, on_result=got.append, should_stop=stop)
    assert got and got[0].subsets.tolist() == [0]  # the empty set was delivered before the stop


def test_no_weight_gradients(tiny_generator):
    _solve(tiny_generator, get_solver_config("fast", iterations=5))
    assert all(p.grad is None for p in tiny_generator.module.parameters())


def test_presets_and_settings_are_checked():
    assert PRESETS["biggan"].lam == 500 and PRESETS["nvae"].lam == 200
    assert PRESETS["fast"].init == 0.0 and PRESETS["fast"].constraint == "patch" and not PRESETS["fast"].nested
    assert PRESETS["interactive"].nested
    with pytest.raises(ValueError, match="presets: "):
        get_solver_config("slow-and-steady")
    assert get_solver_config("fast", iterations=7).iterations == 7
    for bad in ({"lr": -0.05}, {"lr": 0.0}, {"lr": math.nan}, {"lr": math.inf}, {"iterations": 0},
                {"iterations": 1.5}, {"epsilon": 0}, {"init": 2.0}, {"constraint": "max"}, {"lam": -1}):
        with pytest.raises(ValueError, match="solver setting"):
            get_solver_config("fast", **bad)
    with pytest.raises(ValueError, match="unknown solver settings"):
        get_solver_config("fast", iteration=5)
    assert SolverConfig().as_dict() != get_solver_config("fast", nested=True).as_dict()


def test_restart_rescues_a_stalled_start_from_zero(tiny_generator):
    f, b, x, pm = _problem(tiny_generator)
    cfg = get_solver_config("fast", iterations=40, lr=1e-3, epsilon=1e-5, patience=5)
    stuck = _solve(tiny_generator, cfg.__class__(**{**cfg.as_dict(), "restart": False}))
    rescued = _solve(tiny_generator, cfg)
    assert rescued.feasible.float().mean() > stuck.feasible.float().mean()
    per = _patch_mse(tiny_generator, rescued.features, x, pm)
    for j in torch.nonzero(rescued.feasible).flatten().tolist():
        inside = [i for i in range(4) if (j >> i) & 1]
        assert (per[j, inside] <= cfg.epsilon * (1 + 1e-4)).all()

import pytest
import torch

from prsg_widgets.core.solver import (PRESETS, SolveInterrupted, get_solver_config, solve_minimal_features)


def _problem(tiny_generator, n_masks=4):
    code = tiny_generator.sample_codes(1, torch.Generator().manual_seed(3))
    with torch.no_grad():
        f = tiny_generator.head(code).reshape(-1)
        x = tiny_generator.tail(f.unsqueeze(0))[0]
    b = tiny_generator.baseline(64)
    masks = torch.zeros(n_masks, 8, 8, dtype=torch.bool)
    masks[1, :4, :4] = True
    masks[2, 4:, 4:] = True
    masks[3, :, :] = True
    return f, b, x, masks


def test_solver_returns_feasible_sparse_features(tiny_generator):
    f, b, x, masks = _problem(tiny_generator)
    cfg = get_solver_config("fast", iterations=200)
    res = solve_minimal_features(tiny_generator.tail, f, b, x, masks, cfg, progress=False)
    assert torch.equal(res.features[0], b)  # f_∅ = b without optimising
    assert res.iterations[0] == 0
    assert res.feasible.all()
    assert (res.mse <= cfg.epsilon).all()
    # the minimal features are sparser than f − b, and the one for the whole image the least sparse
    dense = (f - b).abs().mean()
    assert (res.sparsity[1:] < dense).all()
    assert res.sparsity[3] >= res.sparsity[1:3].max() - 1e-6
    # the reported mse is the mse of the returned feature
    with torch.no_grad():
        img = tiny_generator.tail(res.features)
    mse = ((img - x) ** 2 * masks.unsqueeze(1)).flatten(1).sum(1) / (masks.flatten(1).sum(1) * 3).clamp(min=1)
    torch.testing.assert_close(mse[1:], res.mse[1:], rtol=1e-4, atol=1e-7)


def test_batched_equals_one_at_a_time_and_is_deterministic(tiny_generator):
    f, b, x, masks = _problem(tiny_generator)
    cfg = get_solver_config("fast", iterations=80)
    a = solve_minimal_features(tiny_generator.tail, f, b, x, masks, cfg, batch_size=4, progress=False)
    c = solve_minimal_features(tiny_generator.tail, f, b, x, masks, cfg, batch_size=1, progress=False)
    a2 = solve_minimal_features(tiny_generator.tail, f, b, x, masks, cfg, batch_size=4, progress=False)
    torch.testing.assert_close(a.features, c.features, rtol=1e-4, atol=1e-5)
    assert torch.equal(a.features, a2.features)
    assert torch.equal(a.iterations, c.iterations)


def test_early_stopping_uses_fewer_iterations(tiny_generator):
    f, b, x, masks = _problem(tiny_generator)
    fixed = solve_minimal_features(tiny_generator.tail, f, b, x, masks,
                                   get_solver_config("fast", iterations=400, early_stop=False), progress=False)
    early = solve_minimal_features(tiny_generator.tail, f, b, x, masks,
                                   get_solver_config("fast", iterations=400, patience=10), progress=False)
    assert (fixed.iterations[1:] == 400).all()
    assert early.iterations[1:].sum() < fixed.iterations[1:].sum()
    assert early.feasible.all()


def test_nan_feature_is_rejected(tiny_generator):
    f, b, x, masks = _problem(tiny_generator)
    f = f.clone()
    f[3] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        solve_minimal_features(tiny_generator.tail, f, b, x, masks, progress=False)


def test_interrupt_keeps_finished_results(tiny_generator):
    f, b, x, masks = _problem(tiny_generator)
    got = []
    calls = {"n": 0}

    def stop():
        calls["n"] += 1
        return calls["n"] > 30

    with pytest.raises(SolveInterrupted):
        solve_minimal_features(tiny_generator.tail, f, b, x, masks,
                               get_solver_config("fast", iterations=1000, early_stop=False),
                               batch_size=1, on_result=got.append, progress=False, should_stop=stop)
    assert got and got[0].subsets.tolist() == [0]  # the empty set was delivered before the stop


def test_no_weight_gradients(tiny_generator):
    f, b, x, masks = _problem(tiny_generator)
    solve_minimal_features(tiny_generator.tail, f, b, x, masks, get_solver_config("fast", iterations=5), progress=False)
    assert all(p.grad is None for p in tiny_generator.module.parameters())


def test_presets_and_unknown_preset():
    assert PRESETS["biggan"].lam == 500 and PRESETS["nvae"].lam == 200
    with pytest.raises(ValueError, match="presets: "):
        get_solver_config("slow-and-steady")
    assert get_solver_config("fast", iterations=7).iterations == 7

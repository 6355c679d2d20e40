"""Issue 26's precision modes: ``mixed`` (bf16 steps, every answer decided in fp32) and ``auto``.

On toy-scenes' cheap layer, n = 3, both rule sets that ``mixed`` changes: ``tiny`` (independent, no
polish: the final check) and ``interactive`` (nested: the floor check and the fp32 polish).
"""
from __future__ import annotations

import pytest
import torch

from prsg_widgets import Explainer
from prsg_widgets.core.solver import get_solver_config, resolve_precision, solve_minimal_features
from prsg_widgets.defaults import Execution


@pytest.fixture(scope="module")
def toy():
    ex = Explainer("toy-scenes", cheap=True, progress=False, batch_size=8)
    sample = ex.sample(0)
    masks = ex.grid.patch_masks(ex.explain(sample, n=3).patches).float()
    gen = ex.generator
    rows = {True: 0, False: 0}

    def tail(f):
        rows[torch.is_autocast_enabled(f.device.type)] += f.shape[0]
        return gen.tail(f, sample.code)

    def solve(preset: str, precision: str = "mixed", batch_size: int = 8, unit: int | None = None):
        rows.update({True: 0, False: 0})
        res = solve_minimal_features(tail, sample.feature, ex.baseline, sample.image, masks, list(range(8)),
                                     get_solver_config(preset), epsilon=ex.epsilon, batch_size=batch_size, unit=unit,
                                     feature_shape=gen.feature_shape, progress=False,
                                     execution=Execution(precision=precision))
        return res, dict(rows)

    yield ex, sample, masks, solve
    ex.close()


@pytest.mark.parametrize("preset", ["tiny", "interactive"])
def test_mixed_reports_fp32_numbers_and_is_as_feasible_as_fp32(toy, preset):
    """Every reported patch error is what fp32 gives for the reported ``f_T`` (recomputed here, one
    row at a time), every subset fp32 makes feasible is feasible, and bf16 did most of the climbing.
    """
    ex, sample, masks, solve = toy
    ref, _ = solve(preset, "fp32")
    got, rows = solve(preset)
    assert rows[True] > 0 and rows[False] > 0, rows  # both precisions ran
    assert got.feasible.tolist() == ref.feasible.tolist()
    npix = masks.flatten(1).sum(1) * sample.image.shape[0]
    with torch.no_grad():
        for j, s in enumerate(got.subsets.tolist()):
            if s == 0:
                continue
            image = ex.generator.tail(got.features[j].view(1, *ex.generator.feature_shape), sample.code)[0]
            pmse = torch.einsum("hw,nhw->n", (image - sample.image).pow(2).sum(0), masks) / npix
            inside = [i for i in range(3) if s >> i & 1]
            torch.testing.assert_close(got.patch_mse[j, inside], pmse[inside], rtol=1e-4, atol=1e-7)
            assert bool(got.feasible[j]) == bool((pmse[inside] <= ex.epsilon).all())
    assert abs(float(got.sparsity.sum() / ref.sparsity.sum()) - 1) <= 0.05  # the L1 term (measured < 1%)


def test_mixed_does_not_depend_on_the_batch(toy):
    """Rows of each precision are evaluated in blocks of their own: a subset's ``f_T`` is the same
    whichever subsets share its batch (so a resume equals an uninterrupted solve).
    """
    _, _, _, solve = toy
    one, _ = solve("interactive", batch_size=2, unit=2)
    many, _ = solve("interactive", batch_size=8, unit=2)
    assert torch.equal(one.features, many.features) and torch.equal(one.iterations, many.iterations)


def test_auto_is_mixed_only_on_a_bf16_matrix_engine(monkeypatch, toy):
    """``auto`` (opt-in; the default is fp32) resolves per device: fp32 without a bf16 engine
    (keys, files and health as fp32's), ``mixed`` with one; the key, metadata and health say which ran.
    """
    ex, sample, _, _ = toy
    for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        monkeypatch.setattr(torch.cpu, name, lambda: False, raising=False)
    assert resolve_precision("auto", "cpu") == "fp32" and resolve_precision("bf16", "cpu") == "bf16"
    with Explainer("toy-scenes", cheap=True, progress=False, batch_size=8, solver="tiny", precision="auto") as plain:
        assert plain.precision == "fp32" and plain.execution.precision == "fp32"
        fp32_key = plain.cache_key(sample, [0, 1])
    with Explainer("toy-scenes", cheap=True, progress=False, batch_size=8, solver="tiny", precision="fp32") as fp32:
        assert fp32.cache_key(sample, [0, 1]) == fp32_key  # auto without an engine keeps fp32's caches
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True, raising=False)
    assert resolve_precision("auto", "cpu") == "mixed"
    with Explainer("toy-scenes", cheap=True, progress=False, batch_size=8, solver="tiny", precision="auto") as amx:
        assert amx.settings.precision == "auto" and amx.precision == "mixed"
        assert amx.cache_key(sample, [0, 1]) != fp32_key
        e = amx.explain(sample, patches=[0, 1]).solve_all()
        assert e.meta.precision == "mixed" and e.health().precision == "mixed"
        assert "solved in mixed" in e.health().summary()

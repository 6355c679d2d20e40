"""The planted generator: where the answer is known, the solver must find it (``-k planted``).

``toy-planted`` paints each patch-aligned object from its own channels through one scalar, so its
exact OR components are one per object, ``I(S_k) = u_k`` (``prsg_widgets.models.planted``), every
other component is 0 and cancellation is 1.  Patches below lie on 2–3 objects and the background.
"""
from __future__ import annotations

import pytest
import torch

from prsg_widgets import Explainer
from prsg_widgets.core import harsanyi
from prsg_widgets.models.planted import OBJECTS, object_patches, planted_answer, planted_components

# sun (3, 10), house (19, 26), tree (28), lake (33); background (0, 12, 35)
PATCHES = {6: [3, 10, 19, 28, 0, 12], 9: [3, 10, 19, 26, 28, 33, 0, 12, 35]}


@pytest.fixture(scope="module")
def planted_explainers():
    made = {}
    yield lambda preset: made.setdefault(preset, Explainer("toy-planted", grid=6, solver=preset, progress=False))
    for ex in made.values():
        ex.close()


def _solved(planted_explainers, preset, n):
    expl = planted_explainers(preset).explain(1, patches=PATCHES[n])
    expl.solve_all()
    return expl, planted_answer(expl)


@pytest.mark.parametrize("n", [6, 9])
@pytest.mark.parametrize("preset", ["fast", "interactive"])
def test_planted_components_are_recovered(planted_explainers, preset, n):
    expl, truth = _solved(planted_explainers, preset, n)
    assert len(truth) >= 2  # at least two objects need a change from the baseline
    assert expl.health().infeasible == 0
    top = expl.components(top=len(truth))
    assert {c.subset for c in top} == set(truth)  # the same action fields


FAST_GAP = ("the independent solve lands each subset about one Adam step from the tolerance boundary, "
            "and not at the same distance in every subset: a small object's component then takes "
            "up to 16% error from the large ones and cancellation is 1.10-1.12 (docs/solver.md); "
            "the polish that fixes it on this model raises cancellation on the face model to 21-25 at n = 9")


@pytest.mark.parametrize("n", [6, 9])
@pytest.mark.parametrize("preset", [pytest.param("fast", marks=pytest.mark.xfail(strict=True, reason=FAST_GAP)),
                                    "interactive"])
def test_planted_components_within_one_percent_and_no_cancellation(planted_explainers, preset, n):
    expl, truth = _solved(planted_explainers, preset, n)
    health = expl.health()
    assert health.cancellation <= 1.05, health.summary()  # the truth has cancellation 1
    comps = expl.component_array()
    for s, u in truth.items():
        err = float((comps[s] - u).norm() / u.norm())
        assert err <= 1e-2, (s, err)
    rest = comps.clone()
    rest[list(truth)] = 0  # everything else is (nearly) nothing
    assert float(rest.abs().sum()) <= 0.02 * sum(float(u.abs().sum()) for u in truth.values())


def test_planted_closed_form_is_an_or_game():
    """The closed form itself: u(T) = Σ_{k: T∩S_k≠∅} u_k is what the OR transform inverts."""
    torch.manual_seed(0)
    from prsg_widgets.models.planted import PlantedHead

    head = PlantedHead()
    codes = torch.randn(200, len(OBJECTS) + 2)
    b = head(codes).mean(0)
    f = head(torch.tensor([[1.5, -1.2, 0.9, 2.0, 0.3, -0.5]]))[0]
    patches = PATCHES[6]
    truth = planted_components(f, b, patches, epsilon=1e-3, lam=200.0)
    n = len(patches)
    u = torch.zeros(1 << n, f.numel())
    for t in range(1 << n):
        for s, comp in truth.items():
            if s & t:
                u[t] += comp
    comps = harsanyi.or_interactions(u)
    for s in range(1 << n):
        want = truth.get(s, torch.zeros(f.numel()))
        torch.testing.assert_close(comps[s], want, atol=1e-5, rtol=1e-5)
    assert set(truth) == {sum(1 << i for i in bits) for bits in object_patches(patches) if bits}


def test_planted_answer_refuses_another_model(tiny_explainer):
    expl = tiny_explainer.explain(0, patches=[0, 5])
    with pytest.raises(ValueError, match="toy-planted"):
        planted_answer(expl)

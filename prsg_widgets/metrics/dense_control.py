"""The dense control of App. I / Fig. 16: the same pipeline run on a random feature with the
sample's shape and per-channel statistics, so the sparsity of the real components can be held
against what a feature without structure gives.  Built through the public
:meth:`Explainer.explain` and solved like any explanation.
"""
from __future__ import annotations

import torch

from ..backend import Explainer, Explanation


def dense_control(explainer: Explainer, explanation: Explanation, seed: int = 0) -> Explanation:
    """App. I / Fig. 16: the same pipeline on a random feature of the sample's shape and statistics.

    Choice (the paper says only "a random tensor"): per channel of the layer (dim 0 of
    ``generator.feature_shape``), draw i.i.d. normal values with that channel's mean and standard
    deviation in the sample's feature; if the sample's feature is non-negative everywhere (as
    after a ReLU), clamp the draw at 0 so it stays in the layer's range.  The draw is seeded.
    The returned explanation covers the same patch ids and is **not solved** — call
    ``solve_all()`` (or any accessor) on it; once solved, ``explanation.health()`` reports its
    sparsity too.  Solve it with the independent solver: ``nested`` solving makes any feature
    look sparse.
    """
    feature = explanation.feature.reshape(explainer.generator.feature_shape).double()
    flat = feature.reshape(feature.shape[0], -1) if feature.dim() > 1 else feature.reshape(1, -1)
    mean = flat.mean(1, keepdim=True)
    std = flat.std(1, keepdim=True) if flat.shape[1] > 1 else torch.zeros_like(mean)
    gen = torch.Generator().manual_seed(int(seed))
    noise = torch.randn(flat.shape, generator=gen, dtype=torch.float64)
    rand = mean + std * noise
    if bool((feature >= 0).all()):
        rand = rand.clamp_min(0.0)
    rand = rand.reshape(-1).to(explanation.feature.dtype)
    sample = explainer.sample_from_feature(rand, code=explanation.sample.code, label="dense control")
    control = explainer.explain(sample, patches=list(explanation.patches))
    explanation.control = control  # its health then reports the control's sparsity beside its own
    return control

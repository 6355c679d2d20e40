"""The Table 1 baseline: GANSpace-style PCA directions of the split layer (centred at ``b``) and
the :class:`~.decomposition.Decomposition` of ``f_N − b`` projected on them.  PCA claims no
action field, so each direction's field is assigned from its own regional pattern (choice).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ..backend import Explainer, Explanation
from .decomposition import Decomposition


def pca_directions(explainer: Explainer, k: int = 20, num_samples: int = 500, seed: int = 1,
                   batch: int = 100) -> Tensor:
    """GANSpace-style baseline: the top-``k`` principal directions ``(k, d)`` (unit rows) of the
    split layer's feature over ``num_samples`` random codes, centred at the baseline ``b``
    (= the feature mean).  Uses a seeded randomised SVD (:func:`torch.pca_lowrank`).
    """
    gen = explainer.generator
    rng = torch.Generator().manual_seed(int(seed))
    rows = []
    with torch.no_grad():
        for i in range(0, num_samples, batch):
            codes = gen.sample_codes(min(batch, num_samples - i), rng).to(explainer.device)
            rows.append(gen.head(codes).reshape(codes.shape[0], -1).cpu())
    x = torch.cat(rows) - explainer.baseline.detach().cpu()
    torch.manual_seed(int(seed))
    q = min(k + 10, *x.shape)
    _, _, v = torch.pca_lowrank(x, q=q, center=False)
    return v[:, :k].T.contiguous().float()


def pca_decomposition(explanation: Explanation, directions: Tensor,
                      field_sizes: int | Sequence[int] | None = None) -> Decomposition:
    """``f_N − b`` projected on PCA ``directions`` (unit rows): components ``c_j v_j`` with
    ``c_j = ⟨f_N − b, v_j⟩``, sorted by ``|c_j|``.

    PCA directions claim no action field, so one is assigned from the component's own regional
    pattern ``g(f_N) − g(f_N − c_j v_j)`` (choice): its L1 mass per selected patch, and the
    ``field_sizes[j]`` patches of ``N`` with the most mass (pass the sizes of the components you
    compare with for a size-matched test); default: the patches holding more than the average
    patch mass.  Assigning fields after looking favours the baseline on ρ and breach.
    """
    b = explanation.baseline.double()
    f_n = explanation.minimal_feature(explanation.full).double()
    dirs = directions.double()
    coef = dirs @ (f_n - b)
    order = torch.argsort(coef.abs(), descending=True, stable=True)
    vecs = (coef[order].unsqueeze(1) * dirs[order]).float()
    imgs = explanation.render(torch.cat([f_n.float().unsqueeze(0), f_n.float().unsqueeze(0) - vecs]))
    patterns = (imgs[:1] - imgs[1:]).double().abs().sum(1)  # (k, H, W)
    pmasks = explanation.grid.patch_masks(explanation.patches).to(patterns.device)
    mass = torch.einsum("khw,phw->kp", patterns, pmasks.double())  # (k, n)
    if isinstance(field_sizes, int):
        field_sizes = [field_sizes] * len(vecs)
    fields = []
    for j in range(len(vecs)):
        ranked = torch.argsort(mass[j], descending=True, stable=True).tolist()
        if field_sizes is None:
            m = max(1, int((mass[j] > mass[j].mean()).sum()))
        else:
            m = int(field_sizes[min(j, len(field_sizes) - 1)])
        fields.append(tuple(sorted(explanation.patches[i] for i in ranked[:m])))
    return Decomposition("PCA directions", vecs, fields, explanation)

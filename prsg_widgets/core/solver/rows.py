"""The per-subset row schema: every fact the solver reports about one subset ``T``, declared once.

Each :class:`RowField` says what one column is — its dtype, the value of a row not solved yet,
its width (one value, one per patch, or the ``d`` values of a feature) — and where it lives:

* in :class:`~.solve.SolveResult`: every field, in this order, after ``subsets``;
* ``kept``: in an explanation's solve record, hence in every cache part (checked on load);
* ``saved``: in a saved explanation, under that name;
* ``derive``: a field that is not kept is computed from the kept ones and the baseline ``b``
  wherever it is needed (a result read back from a cache part, a saved file).

Whatever a file holds is checked on load (:mod:`prsg_widgets.backend.persistence.filecheck`):
the kept fields by dtype kind and shape from here, then by their values and how they agree; a
saved derived field against its derivation.

The solve record, the cache parts and their checks, saved explanations and the results a cluster
sends back all read their columns from :data:`ROWS`; a fact added here reaches all of them.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import Tensor

from .objective import worst_patch_mse

__all__ = ["KEPT", "ROWS", "RowField", "check_result_type", "complete_rows"]

Derive = Callable[[Mapping[str, Tensor], Tensor], Tensor]


@dataclass(frozen=True)
class RowField:
    """One per-subset column (see the module's docstring)."""

    name: str
    dtype: type[np.generic]
    fill: float | bool | int
    width: str = ""
    """``""`` one value per subset, ``"n"`` one per patch, ``"d"`` one per feature element."""
    saved: str | None = None
    derive: Derive | None = None

    @property
    def kept(self) -> bool:
        """Whether the solve record (and so a cache part) holds it; derived fields are not kept."""
        return self.derive is None

    @property
    def kinds(self) -> str:
        """The numpy dtype kinds a file may hold for it (any integer for an integer field)."""
        kind = np.dtype(self.dtype).kind
        return "iu" if kind in "iu" else kind

    @property
    def torch_dtype(self) -> torch.dtype:
        """The same dtype in torch."""
        return torch.from_numpy(np.empty(0, self.dtype)).dtype

    def shape(self, k: int, n: int, d: int) -> tuple[int, ...]:
        """The shape of ``k`` rows of an explanation of ``n`` patches and ``d`` feature values."""
        return (k,) + {"": (), "n": (n,), "d": (d,)}[self.width]

    def empty(self, k: int, n: int, d: int) -> np.ndarray:
        """``k`` rows not solved yet."""
        return np.full(self.shape(k, n, d), self.fill, dtype=self.dtype)


def _sparsity(rows: Mapping[str, Tensor], baseline: Tensor) -> Tensor:
    # f_T − b = m ⊙ (f − b) (Eq. 5), so the solver's L1 term is the mean |f_T − b|
    return (rows["features"].double() - baseline.reshape(1, -1).double().to(rows["features"].device)).abs().mean(1)


def _worst(rows: Mapping[str, Tensor], baseline: Tensor) -> Tensor:
    return worst_patch_mse(rows["patch_mse"])


ROWS: tuple[RowField, ...] = (
    RowField("features", np.float32, np.nan, "d", saved="minimal_features"),  # f_T
    RowField("mse", np.float64, np.nan, saved="mse"),  # over all of T's pixels
    RowField("patch_mse", np.float64, np.nan, "n", saved="patch_mse"),  # each patch's own; NaN outside T
    RowField("max_patch_mse", np.float64, np.nan, saved="max_patch_mse", derive=_worst),  # the worst patch
    RowField("feasible", np.bool_, False, saved="feasible"),  # every patch of T within ε
    RowField("iterations", np.int64, 0, saved="iterations"),  # solver steps spent
    RowField("sparsity", np.float32, np.nan, derive=_sparsity),  # the L1 term ‖m ⊙ (f − b)‖₁ / d
)
"""Every per-subset field, in :class:`~.solve.SolveResult`'s order."""

KEPT: tuple[RowField, ...] = tuple(f for f in ROWS if f.kept)
"""The fields a solve record keeps and a cache part holds (besides ``subsets``)."""


def complete_rows(kept: Mapping[str, Tensor], baseline: Tensor) -> dict[str, Tensor]:
    """Every field of :data:`ROWS` for some rows: the kept ones as given, the others derived."""
    out = {f.name: torch.as_tensor(kept[f.name]) for f in KEPT}
    for f in ROWS:
        if f.derive is not None:
            out[f.name] = f.derive(out, baseline).to(f.torch_dtype)
    return {f.name: out[f.name] for f in ROWS}


def check_result_type(cls: type) -> None:
    """Refuse (at import) a result dataclass whose fields are not ``subsets`` then :data:`ROWS`."""
    have, want = [f.name for f in fields(cls)], ["subsets", *(f.name for f in ROWS)]
    if have != want:
        raise TypeError(f"{cls.__name__} has the fields {have}; the row schema declares {want}")
